"""Intake's `POST /issues` alone (issue 17, the write path): intake runs as its own process,
nothing else of the platform beside it, on a fresh namespace (dropped at the end).

1. A closed loop: `--issues` reports POSTed by `--clients` clients: answers/s and p50/p99.
2. An open loop per `--rate`: that many reports a second for `--seconds`, each sent on its
   schedule: how many were answered, and p50/p99 from the scheduled moment.
For each: intake's CPU per answered report (from /proc) and the mean time a POST spent inside
intake (its own request metrics), so the client's share can be told apart. With
`--idempotency` every report carries a new `Idempotency-Key`; with `--profile <file>` intake
runs under cProfile and writes its profile there when stopped.

    python -m bench.intake --issues 600 --clients 16 --rate 50 --rate 100 --seconds 30

Sizes come from the options, else BENCH_ISSUES, BENCH_CLIENTS, BENCH_RATE (comma-separated),
BENCH_SECONDS.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack

import httpx

from bench.figures import pct
from bench.load import report_body, spread_posts
from devkit.http import TLS
from devkit.infra import REPO, endpoints
from devkit.namespaces import drop_namespace
from devkit.processes import Platform, ServiceProcess
from devkit.procstat import cpu_seconds, load_average

PROFILED = """
import cProfile, os, runpy, signal, sys
profile = cProfile.Profile()
def dump(*_):
    profile.disable()
    profile.dump_stats(os.environ["HUIYIN_BENCH_PROFILE"])
    sys.exit(0)
signal.signal(signal.SIGTERM, dump)  # uvicorn raises the signal again once it has stopped
profile.enable()
runpy.run_module("services.intake", run_name="__main__")
dump()
"""
"""Intake under cProfile: the profile is written when the process is stopped."""


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.intake",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    env = os.environ.get
    parser.add_argument("--issues", type=int, default=int(env("BENCH_ISSUES", "600")))
    parser.add_argument("--clients", type=int, default=int(env("BENCH_CLIENTS", "16")))
    parser.add_argument("--rate", type=float, action="append", help="reports/s (repeatable)")
    parser.add_argument("--seconds", type=float, default=float(env("BENCH_SECONDS", "30")))
    parser.add_argument("--post-timeout", type=float, default=30)
    parser.add_argument("--idempotency", action="store_true", help="send an Idempotency-Key")
    parser.add_argument("--profile", help="run intake under cProfile, written to this file")
    opts = parser.parse_args(argv)
    if opts.rate is None:
        opts.rate = [float(rate) for rate in env("BENCH_RATE", "50,100").split(",")]
    return opts


def headers(token: str, keyed: bool) -> dict[str, str]:
    found = {"Authorization": f"Bearer {token}"}
    return {**found, "Idempotency-Key": uuid.uuid4().hex} if keyed else found


async def closed(
    url: str, token: str, issues: int, clients: int, keyed: bool
) -> dict[str, float | None]:
    latencies: list[float] = []
    left = iter(range(issues))

    async def client(http: httpx.AsyncClient) -> None:
        for n in left:
            sent = time.perf_counter()
            body = report_body(f"第{n}号路灯不亮")
            response = await http.post(f"{url}/issues", json=body, headers=headers(token, keyed))
            response.raise_for_status()
            latencies.append(time.perf_counter() - sent)

    async with httpx.AsyncClient(timeout=120, verify=TLS) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        took = time.perf_counter() - started
    return {"per_s": issues / took, "p50": pct(latencies, 0.5), "p99": pct(latencies, 0.99)}


async def opened(
    url: str, token: str, rate: float, seconds: float, timeout: float, keyed: bool
) -> dict[str, float | None]:
    count = int(rate * seconds)
    latencies: list[float] = []
    failed = 0
    async with spread_posts(url) as post:
        begun = time.perf_counter()

        async def report(n: int) -> None:
            nonlocal failed
            left = begun + n / rate + timeout - time.perf_counter()
            try:
                body = report_body(f"稳态第{n}号井盖缺失")
                sent = post(n, body, headers(token, keyed))
                (await asyncio.wait_for(sent, max(left, 0.001))).raise_for_status()
            except (TimeoutError, httpx.HTTPError):
                failed += 1
                return
            latencies.append(time.perf_counter() - begun - n / rate)

        tasks = []
        for n in range(count):
            if (delay := begun + n / rate - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(report(n)))
        await asyncio.gather(*tasks)
    return {
        "answered": len(latencies),
        "failed": failed,
        "p50": pct(latencies, 0.5, failed),
        "p99": pct(latencies, 0.99, failed),
    }


def ms(value: float | None) -> str:
    """A quantile in ms; n/a when it falls among the reports never answered."""
    return "n/a" if value is None else f"{value:.0f} ms"


def served(url: str) -> tuple[float, float]:
    """(count, seconds) of intake's answered `POST /issues`, by its own request metrics."""
    count = seconds = 0.0
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if 'route="/issues"' not in line or 'method="POST"' not in line:
            continue
        if line.startswith("huiyin_http_request_seconds_count"):
            count += float(line.rsplit(" ", 1)[1])
        elif line.startswith("huiyin_http_request_seconds_sum"):
            seconds += float(line.rsplit(" ", 1)[1])
    return count, seconds


def inside(url: str, before: tuple[float, float]) -> str:
    count, seconds = served(url)
    n = count - before[0]
    return f"mean inside intake {(seconds - before[1]) / max(n, 1) * 1000:.0f} ms"


def start_profiled(service: ServiceProcess) -> None:
    """`ServiceProcess.start`, under cProfile."""
    env = {**os.environ, **service.env, "HUIYIN_INTAKE_PORT": str(service.port)}
    with service.log_path.open("ab") as log:
        service.process = subprocess.Popen(
            [sys.executable, "-c", PROFILED], cwd=REPO, env=env, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    opts = options(argv)
    namespace = f"bi{uuid.uuid4().hex[:8]}"
    extra = {"HUIYIN_BENCH_PROFILE": opts.profile} if opts.profile else {}
    keyed = opts.idempotency
    with ExitStack() as stack:
        servers = endpoints(stack)
        stack.callback(
            lambda: asyncio.run(
                drop_namespace(servers.kafka_bootstrap, servers.mongo_url, namespace)
            )
        )
        platform = Platform(servers, namespace, REPO / ".local/bench-logs", extra_env=extra)
        intake = platform["intake"]
        if opts.profile:
            start_profiled(intake)
        else:
            intake.start()
        stack.callback(intake.stop)
        intake.wait_healthy()
        token = platform.token("operator")
        pid = intake.process.pid if intake.process else 0
        print(f"load average at start {load_average():.1f}", flush=True)
        before, metered = cpu_seconds(pid), served(intake.url)
        got = asyncio.run(closed(intake.url, token, opts.issues, opts.clients, keyed))
        used = (cpu_seconds(pid) - before) / opts.issues * 1000
        print(
            f"closed loop, {opts.issues} reports, {opts.clients} clients: "
            f"{got['per_s'] or 0:.1f}/s, "
            f"p50 {ms(got['p50'])}, p99 {ms(got['p99'])}, intake CPU {used:.2f} ms/report, "
            f"{inside(intake.url, metered)}",
            flush=True,
        )
        for rate in opts.rate:
            before, metered = cpu_seconds(pid), served(intake.url)
            got = asyncio.run(
                opened(intake.url, token, rate, opts.seconds, opts.post_timeout, keyed)
            )
            used = (cpu_seconds(pid) - before) / max(got["answered"] or 0, 1) * 1000
            print(
                f"open loop {rate:g}/s for {opts.seconds:g} s: answered {got['answered']}, "
                f"failed {got['failed']}, p50 {ms(got['p50'])}, p99 {ms(got['p99'])}, "
                f"intake CPU {used:.2f} ms/report, {inside(intake.url, metered)}",
                flush=True,
            )
        print(f"load average at end {load_average():.1f}", flush=True)


if __name__ == "__main__":
    main()
