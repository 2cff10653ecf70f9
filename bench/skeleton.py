"""The platform's whole story in one run (`make bench`), next to raw Kafka and the engine.

1. Throughput (`bench.load.throughput`): the five services run as processes; `--issues`
   reports are POSTed to intake by `--clients` clients as an operator (a principal the bench
   adds with the admin token, as `make run` does); the clock stops when reporting counts all
   of them as assigned. End-to-end issues/s, and CPU per issue in the first and last tenth.
2. Steady load (`bench.load.steady`): `--rate` reports a second for `--seconds`, an open loop
   (each sent on schedule): the rate achieved, `POST /issues` p50/p99 and report → assigned
   p50/p99, and both in the first and the last tenth of the schedule.
3. Raw Kafka (`bench.raw_kafka`): as many records as the platform put on its log, of the same
   mean size, on the same broker; the ratio to the platform's events/s.
4. The engine alone (`bench.engine`) at as many documents as events on the log: finds by
   `_id` and by an indexed field, bulk upserts, a bulk update of 1,000 existing documents.
5. CPU seconds per process over 1-2 (the services, the engine, the broker, the bench, and the
   rest of the machine: the engine and the broker may serve others too), RSS per service.

Sizes come from the options, else BENCH_ISSUES, BENCH_CLIENTS, BENCH_RATE, BENCH_SECONDS,
BENCH_DRAIN, BENCH_POST_TIMEOUT. Prints one table, then the figures as JSON (also kept in
bench/results/). With BENCH_EXPLAIN=1 the services note their query shapes
(`runtime.query_log`) and the bench lists the ones the engine answers by reading a whole
collection.
"""

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bench.engine import ceilings
from bench.load import steady, throughput
from bench.raw_kafka import raw_kafka
from bench.story import figures, render
from devkit.infra import REPO, Endpoints, endpoints
from devkit.namespaces import drop_namespace
from devkit.processes import Platform
from devkit.procstat import CpuSnapshot, listening, load_average, rss_mb, total_cpu
from services.runtime.query_log import explain_logged, read_log
from services.runtime.topic_reader import read_topic


def options(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m bench.skeleton",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--issues", type=int, default=int(env("BENCH_ISSUES", "1000")))
    parser.add_argument("--clients", type=int, default=int(env("BENCH_CLIENTS", "16")))
    parser.add_argument("--rate", type=float, default=float(env("BENCH_RATE", "100")))
    parser.add_argument("--seconds", type=float, default=float(env("BENCH_SECONDS", "60")))
    parser.add_argument(
        "--drain",
        type=float,
        default=float(env("BENCH_DRAIN", "120")),
        help="seconds to wait after the steady load for the last reports to be assigned",
    )
    parser.add_argument(
        "--post-timeout",
        type=float,
        default=float(env("BENCH_POST_TIMEOUT", "30")),
        help="seconds after its scheduled moment at which an open-loop POST is given up",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        default=env("BENCH_KEEP", "") not in ("", "0"),
        help="keep the run's topics and databases (by default dropped at the end)",
    )
    parser.add_argument(
        "--explain", action="store_true", default=env("BENCH_EXPLAIN", "") not in ("", "0")
    )
    return parser.parse_args(argv)


def note(what: str, since: float = time.perf_counter()) -> None:
    """Progress on stderr (the table and the JSON are stdout's)."""
    print(f"bench [{time.perf_counter() - since:6.1f} s] {what}", file=sys.stderr, flush=True)


def processes(platform: Platform, servers: Endpoints) -> dict[str, int]:
    """The pids to watch: every service, the engine and the broker (when this user may see
    who listens on their ports), and the bench itself."""
    found = {
        name: service.process.pid
        for name, service in platform.services.items()
        if service.process is not None
    }
    mongo_port = urlparse(servers.mongo_url).port or 27017
    kafka_port = int(servers.kafka_bootstrap.split(",")[0].rsplit(":", 1)[1])
    for name, port in (("engine", mongo_port), ("kafka", kafka_port)):
        if (pid := listening(port)) is not None:
            found[name] = pid
    found["bench"] = os.getpid()
    return found


async def scanning(path: Path, mongo_url: str) -> list[str]:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    try:
        explained = await explain_logged(client, read_log(path))
    finally:
        await client.close()
    return sorted(
        f"{one.database.split('_', 1)[-1]}.{one.collection} {one.command} {json.dumps(one.shape)}"
        for one, scans, _ in explained
        if scans
    )


def drop(servers: Endpoints, namespace: str) -> None:
    try:
        dropped = asyncio.run(drop_namespace(servers.kafka_bootstrap, servers.mongo_url, namespace))
    except Exception as failure:
        note(f"could not drop the run's topics and databases: {failure!r}")
    else:
        note(f"dropped the run's {dropped[0]} topics and {dropped[1]} databases")


def main(argv: list[str] | None = None) -> None:
    opts = options(argv)
    # a TERM stops the services too (through the ExitStack), as Ctrl-C does
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    namespace = f"b{uuid.uuid4().hex[:8]}"
    logs = REPO / ".local/bench-logs"
    explain_log = logs / f"queries-{namespace}.jsonl"
    extra = {"HUIYIN_MONGO_EXPLAIN_LOG": str(explain_log)} if opts.explain else {}
    machine: dict[str, Any] = {"cores": os.cpu_count(), "load_avg_1m_start": load_average()}
    with ExitStack() as stack:
        servers = endpoints(stack)
        note(f"servers from {servers.source}; starting the services")
        if not opts.keep:  # runs last, once the services are stopped
            stack.callback(drop, servers, namespace)
        platform = Platform(servers, namespace, logs, extra_env=extra).start()
        stack.callback(platform.stop)
        pids = processes(platform, servers)
        watched = [pid for name, pid in pids.items() if name != "bench"]

        def cpu() -> float:
            return total_cpu(watched)

        intake, reporting = platform["intake"].url, platform["reporting"].url
        token = platform.token("operator")
        before = CpuSnapshot.take(pids)
        topic = f"{namespace}.huiyin.issues.v1"
        kafka = (servers.kafka_bootstrap, topic)
        note(f"closed loop: {opts.issues} reports, {opts.clients} clients")
        flow = asyncio.run(
            throughput(intake, reporting, token, kafka, opts.issues, opts.clients, cpu)
        )
        note(f"open loop: {opts.rate:g} reports/s for {opts.seconds:g} s")
        load = asyncio.run(
            steady(
                intake, token, servers.kafka_bootstrap, topic,
                opts.rate, opts.seconds, opts.drain, cpu, opts.post_timeout,
            )
        )  # fmt: skip
        cpu_used = CpuSnapshot.take(pids).since(before)
        machine["load_avg_1m_end"] = load_average()
        rss = {name: rss_mb(pid) for name, pid in pids.items() if name in platform.services}
        platform.stop()
        note("services stopped; reading the log")
        scans = asyncio.run(scanning(explain_log, servers.mongo_url)) if opts.explain else None
        log = asyncio.run(read_topic(servers.kafka_bootstrap, topic))
        events, mean_size = len(log), round(statistics.fmean(len(r.value) for r in log))
        # issues on the log: an open-loop POST given up may still have created its issue
        reported = sum(1 for r in log if json.loads(r.value).get("type") == "IssueReported")
        note(f"raw Kafka: {events} records of {mean_size} bytes")
        raw = asyncio.run(raw_kafka(servers.kafka_bootstrap, events, mean_size))
        note(f"the engine alone at {max(events, 1000)} documents")
        engine = asyncio.run(ceilings(servers.mongo_url, f"{namespace}_ceilings", events))

    result = figures(
        opts, flow, load, events=events, mean_size=mean_size, raw_seconds=raw, engine=engine,
        reported=reported, cpu=cpu_used, rss=rss, machine=machine,
    )  # fmt: skip
    if scans is not None:
        result["scanning_queries"] = scans
    print(render(result))
    print(json.dumps(result, indent=2))
    out = REPO / "bench/results"
    out.mkdir(exist_ok=True)
    (out / f"skeleton-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
