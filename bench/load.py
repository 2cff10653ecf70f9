"""The two loads `make bench` puts on the platform's front door, as an operator would.

- `throughput`: a closed loop. `issues` reports POSTed by `clients` clients, each sending its
  next as soon as its last was answered; the clock stops when reporting counts all of them as
  assigned. Meanwhile the CPU of the platform's processes is sampled against that count, so
  the cost per issue in the first and the last tenth can be compared.
- `steady`: an open loop. `rate` reports a second for `seconds`, each sent on its schedule
  whatever the earlier ones take (a slow answer does not slow the offered load). Latencies
  are measured from the scheduled moment: `POST /issues` answered, and the issue's
  `IssueAssigned` read back from the log.
"""

import asyncio
import contextlib
import itertools
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.figures import Sample
from devkit.http import TLS
from services.contracts.topics import DEFAULT_PARTITIONS

CONNECTIONS = 1000  # the open loop's connections to intake at most
POOLS = 50
"""httpx clients the open loop spreads its connections over. httpx walks every connection of
its pool at each request (is it idle, has it expired): one pool of 1,000 took 3.6 ms of the
bench's CPU per POST, more than intake spent answering it; 50 pools of 20, 50 times less."""
Cpu = Callable[[], float]  # CPU seconds the platform's processes used so far


def report_body(text: str) -> dict[str, str]:
    return {"channel": "hotline", "kind": "complaint", "text": text}


@dataclass
class Throughput:
    posted: float = 0.0  # seconds until every POST was answered
    flowed: float = 0.0  # seconds until every issue was counted as assigned
    post_latencies: list[float] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)


async def throughput(
    intake: str,
    reporting: str,
    token: str,
    kafka: tuple[str, str],
    issues: int,
    clients: int,
    cpu: Cpu,
) -> Throughput:
    """The closed loop. Progress is read from the log (`kafka`: bootstrap and topic), where
    routing's IssueAssigned appears, not from reporting's counts, whose query would add load
    of its own; reporting is asked only at the end, until it counts every issue."""
    operator = {"Authorization": f"Bearer {token}"}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(issues):
        queue.put_nowait(n)
    out = Throughput()
    assigned: dict[str, float] = {}
    ready, stop = asyncio.Event(), asyncio.Event()
    follower = asyncio.create_task(follow_assignments(*kafka, assigned, ready, stop))
    await ready.wait()

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            sent = time.perf_counter()
            body = report_body(f"第{n}号路灯不亮")
            response = await http.post(f"{intake}/issues", json=body, headers=operator)
            response.raise_for_status()
            out.post_latencies.append(time.perf_counter() - sent)

    async with httpx.AsyncClient(timeout=120, verify=TLS) as http:
        started = time.perf_counter()
        out.samples.append(Sample(0.0, 0, cpu()))
        posting = asyncio.gather(*(client(http) for _ in range(clients)))
        posting.add_done_callback(lambda _: setattr(out, "posted", time.perf_counter() - started))
        while len(assigned) < issues and not follower.done():
            if posting.done() and posting.exception() is not None:
                break
            await asyncio.sleep(0.1)
            out.samples.append(Sample(time.perf_counter() - started, len(assigned), cpu()))
        await posting  # raises what a client met
        for _ in itertools.count():  # until reporting counts them all
            if int((await http.get(f"{reporting}/counts")).json()["assigned"]) >= issues:
                break
            await asyncio.sleep(0.2)
        out.flowed = time.perf_counter() - started
    stop.set()
    await follower
    return out


Post = Callable[[int, dict[str, str], dict[str, str]], Awaitable[httpx.Response]]
"""An open loop's POST of report `n`: its body and headers."""


@contextlib.asynccontextmanager
async def spread_posts(intake: str) -> AsyncIterator[Post]:
    """At most CONNECTIONS POSTs to intake's `/issues` in flight, report `n` on client
    `n % POOLS`; the rest wait at that client's semaphore (cheap to wait at and to leave)
    rather than in its pool, whose every change walks all its waiters."""
    size = CONNECTIONS // POOLS
    gates = [asyncio.Semaphore(size) for _ in range(POOLS)]
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    async with contextlib.AsyncExitStack() as stack:
        pools = [
            await stack.enter_async_context(
                httpx.AsyncClient(timeout=None, limits=limits, verify=TLS)
            )
            for _ in range(POOLS)
        ]

        async def post(n: int, body: dict[str, str], headers: dict[str, str]) -> httpx.Response:
            async with gates[n % POOLS]:
                return await pools[n % POOLS].post(f"{intake}/issues", json=body, headers=headers)

        yield post


@dataclass
class Steady:
    begun: float = 0.0  # perf_counter at the first report's scheduled moment
    scheduled: list[float] = field(default_factory=list)  # offsets from `begun`, per report
    started: list[float] = field(default_factory=list)  # offset at which each POST began
    answered: dict[int, float] = field(default_factory=dict)  # report -> POST latency
    issue_of: dict[int, str] = field(default_factory=dict)
    assigned_at: dict[str, float] = field(default_factory=dict)  # issue -> perf_counter
    failures: Counter[str] = field(default_factory=Counter)  # why POSTs failed, by kind

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    waited: float = 0.0  # offset at which the bench stopped waiting for assignments
    samples: list[Sample] = field(default_factory=list)  # (offset, assigned, CPU s so far)

    def flow(self, n: int) -> float | None:
        """Report `n`'s scheduled moment to its IssueAssigned on the log, if it came."""
        issue = self.issue_of.get(n)
        at = self.assigned_at.get(issue) if issue else None
        return None if at is None else at - self.begun - self.scheduled[n]


async def follow_assignments(
    bootstrap: str, topic: str, into: dict[str, float], ready: asyncio.Event, stop: asyncio.Event
) -> None:
    """Note when (perf_counter) each issue's IssueAssigned appears on the log."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(DEFAULT_PARTITIONS)]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        for tp in tps:
            await consumer.position(tp)
        ready.set()
        while not stop.is_set():
            for records in (await consumer.getmany(timeout_ms=50, max_records=5000)).values():
                now = time.perf_counter()
                for record in records:
                    event = json.loads(record.value or b"{}")
                    if event.get("type") == "IssueAssigned":
                        into.setdefault(event["issue_id"], now)
    finally:
        ready.set()
        await consumer.stop()


async def sample_cpu(out: Steady, cpu: Cpu, every: float, stop: asyncio.Event) -> None:
    while True:
        at = time.perf_counter() - out.begun
        out.samples.append(Sample(at, len(out.assigned_at), cpu()))
        if stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def steady(
    intake: str,
    token: str,
    bootstrap: str,
    topic: str,
    rate: float,
    seconds: float,
    drain: float,
    cpu: Cpu,
    post_timeout: float = 30.0,
) -> Steady:
    """The open loop; a POST not answered `post_timeout` after its scheduled moment (waiting
    for a connection included) is given up and counted as failed."""
    count = max(1, int(rate * seconds))
    operator = {"Authorization": f"Bearer {token}"}
    out = Steady(scheduled=[n / rate for n in range(count)], started=[0.0] * count)
    ready, stop, done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    follower = asyncio.create_task(
        follow_assignments(bootstrap, topic, out.assigned_at, ready, stop)
    )
    await ready.wait()  # the follower has its positions before the first report is sent
    out.begun = time.perf_counter()
    sampler = asyncio.create_task(sample_cpu(out, cpu, min(0.5, seconds / 20), done))
    async with spread_posts(intake) as post:

        async def report(n: int) -> None:
            out.started[n] = time.perf_counter() - out.begun
            body = report_body(f"稳态第{n}号井盖缺失")
            left = out.begun + out.scheduled[n] + post_timeout - time.perf_counter()
            try:
                response = await asyncio.wait_for(post(n, body, operator), max(left, 0.001))
                response.raise_for_status()
            except TimeoutError:
                out.failures[f"no answer in {post_timeout:g} s"] += 1
                return
            except httpx.HTTPStatusError as failure:
                out.failures[f"HTTP {failure.response.status_code}"] += 1
                return
            except httpx.HTTPError as failure:
                out.failures[type(failure).__name__] += 1
                return
            out.answered[n] = time.perf_counter() - out.begun - out.scheduled[n]
            out.issue_of[n] = str(response.json()["issue_id"])

        tasks = []
        for n, at in enumerate(out.scheduled):
            if (delay := out.begun + at - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(report(n)))
        await asyncio.gather(*tasks)
    deadline = time.perf_counter() + drain
    while time.perf_counter() < deadline and not follower.done():
        if all(issue in out.assigned_at for issue in out.issue_of.values()):
            break
        await asyncio.sleep(0.1)
    out.waited = time.perf_counter() - out.begun
    done.set()
    stop.set()
    await sampler
    await follower
    return out
