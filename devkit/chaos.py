"""`make chaos`: the platform under faults, checked against what its clients saw.

A load of reports and office actions (accept, resolve) runs for a while; every client retries
with its `Idempotency-Key` as a real client would (on a lost connection, a 5xx, or a key still
in progress) until it gets an answer. Meanwhile random services are SIGKILLed and restarted,
the Kafka broker is stopped and started once, and the MongoDB-wire server once. The broker and
the database are a private pair (their own folder and ports under `.local/chaos/`), so nothing
else running on this machine is disturbed.

At the end, once the platform has caught up, it checks and prints:
- every client's own record of what succeeded equals the log's (no report or action lost,
  none taken that its client was told had failed);
- every report assigned exactly once (distinct `IssueAssigned` event ids per issue);
- intake's and supervision's views agree with the log for every issue, and reporting counts
  what was sent;
- nothing was dead-lettered;
- the longest time no client call succeeded while the load ran (the stall).

    python -m devkit.chaos [--reports 200] [--seconds 240] [--seed 7]
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from devkit.infra import REPO, Endpoints
from devkit.processes import SERVICES, Platform, free_port
from devkit.simulator.mixes import City
from services.contracts.events import decode
from services.runtime.topic_reader import read_topic

INFRA = REPO / "deploy/local/infra.sh"
ACTIONS = ("accept", "resolve")
EVENT_OF_ACTION = {"accept": "IssueAccepted", "resolve": "IssueResolved"}
RUNNING_CLOCKS = {
    "assigned": ["accept", "resolve"],
    "accepted": ["resolve"],
    "resolved": ["return_visit"],
}
"""The clocks the log implies are running in each state this load reaches."""


@dataclass(frozen=True)
class ChaosSettings:
    reports: int = 200
    seconds: float = 240.0
    kill_every: float = 10.0
    seed: int = 7
    settle: float = 180.0
    """How long the platform may take to catch up after the load before the checks fail."""


class PrivateInfra:
    """A Kafka broker and a FerretDB of their own (deploy/local/infra.sh with its own folder and
    ports), reusing the jars and the FerretDB build of `.local/` when they are there."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {
            **os.environ,
            "HUIYIN_LOCAL_DIR": str(folder),
            "HUIYIN_KAFKA_PORT": str(free_port()),
            "HUIYIN_KAFKA_CONTROLLER_PORT": str(free_port()),
            "HUIYIN_MONGO_PORT": str(free_port()),
        }

    def _run(self, *args: str) -> str:
        done = subprocess.run(
            [str(INFRA), *args], env=self.env, check=True, capture_output=True, text=True
        )
        return done.stdout

    def start(self, part: str = "") -> Endpoints:
        if not self.folder.exists():
            self.folder.mkdir(parents=True)
            for built in itertools.chain(
                (REPO / ".local").glob("kafka-[0-9]*"), (REPO / ".local").glob("ferretdb-v*")
            ):
                (self.folder / built.name).symlink_to(built)
        self._run("start", *([part] if part else []))
        env = dict(line.split("=", 1) for line in self._run("env").split())
        return Endpoints(env["HUIYIN_KAFKA_BOOTSTRAP"], env["HUIYIN_MONGO_URL"], "chaos")

    def stop(self, part: str = "") -> None:
        self._run("stop", *([part] if part else []))

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Ledger:
    """What the clients were told: a client's own record of what succeeded."""

    reported: dict[int, str] = field(default_factory=dict)
    """report number → issue id, for every report answered 2xx"""
    done: set[tuple[str, str]] = field(default_factory=set)
    """(issue id, action) answered 2xx"""
    refused: dict[tuple[str, str], str] = field(default_factory=dict)
    """(issue id, action) answered 4xx, with the reason"""
    calls: int = 0
    retries: int = 0
    successes: list[float] = field(default_factory=list)

    def succeeded(self) -> None:
        self.successes.append(time.monotonic())

    def longest_stall(self, start: float, end: float) -> float:
        marks = [start, *sorted(t for t in self.successes if start <= t <= end), end]
        return max(b - a for a, b in itertools.pairwise(marks))


class Client:
    """One principal's calls on intake, retried as a real client would."""

    def __init__(self, http: httpx.AsyncClient, token: str, ledger: Ledger) -> None:
        self.http, self.headers, self.ledger = http, {"Authorization": f"Bearer {token}"}, ledger

    async def call(self, method: str, path: str, body: Any = None, key: str = "") -> httpx.Response:
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        for attempt in itertools.count():
            self.ledger.calls += 1
            self.ledger.retries += attempt > 0
            try:
                response = await self.http.request(method, path, json=body, headers=headers)
            except httpx.TransportError:
                await asyncio.sleep(min(0.5 * (attempt + 1), 3))
                continue
            still = response.status_code == 409 and "in progress" in response.text
            if response.status_code >= 500 or still:
                await asyncio.sleep(min(0.5 * (attempt + 1), 3))
                continue
            if response.status_code < 400:
                self.ledger.succeeded()
            return response
        raise AssertionError("unreachable")


@dataclass
class Chaos:
    settings: ChaosSettings
    platform: Platform
    infra: PrivateInfra
    ledger: Ledger = field(default_factory=Ledger)
    faults: Counter[str] = field(default_factory=Counter)
    offices: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def say(self, line: str) -> None:
        self.log.append(line)
        print(f"chaos: {line}", flush=True)

    def bodies(self) -> Iterator[dict[str, Any]]:
        """Reports of distinct problems (a category in a village each), so none is merged."""
        city = City.load()
        rng = random.Random(self.settings.seed)
        pairs = [(i, v) for i in city.items for v in city.villages]
        rng.shuffle(pairs)
        for n, (item, village) in enumerate(itertools.cycle(pairs)):
            yield {
                "channel": "hotline",
                "kind": "complaint",
                "text": f"{village.township}{village.name}{item.name}问题（第{n}件）",
                "category": item.id,
                "location": {"region_code": village.code},
            }

    async def office_token(self, office_id: str) -> str:
        if office_id not in self.offices:
            self.offices[office_id] = await asyncio.to_thread(
                self.platform.token, "office", office_id=office_id
            )
        return self.offices[office_id]

    async def story(self, http: httpx.AsyncClient, operator: Client, n: int, body: Any) -> None:
        """One report, then its office accepts and resolves it."""
        key = f"chaos-{self.platform.namespace}-{n}"
        created = await operator.call("POST", "/issues", body, key=key)
        if created.status_code >= 400:
            self.ledger.refused[(f"report #{n}", "report")] = created.text
            return
        issue_id = created.json()["issue_id"]
        self.ledger.reported[n] = issue_id
        view: dict[str, Any] = {}
        while not view.get("office_id") or view.get("state") != "assigned":
            await asyncio.sleep(0.5)
            answer = await operator.call("GET", f"/issues/{issue_id}")
            view = answer.json() if answer.status_code == 200 else {}
        office = Client(http, await self.office_token(view["office_id"]), self.ledger)
        for action in ACTIONS:
            body = {"result": "已处理完毕"} if action == "resolve" else {}
            path = f"/issues/{issue_id}/{action}"
            answer = await office.call("POST", path, body, key=f"{key}-{action}")
            if answer.status_code < 400:
                self.ledger.done.add((issue_id, action))
            else:
                self.ledger.refused[(issue_id, action)] = f"{answer.status_code} {answer.text}"
                return

    async def monkey(self, stop: asyncio.Event) -> None:
        """Kill a random service now and then; stop the broker once, the database once."""
        rng = random.Random(self.settings.seed + 1)
        third = self.settings.seconds / 3
        begun = time.monotonic()
        outages = {"kafka": begun + third, "ferretdb": begun + 2 * third}
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    stop.wait(), rng.uniform(0.5, 1.5) * self.settings.kill_every
                )
            if stop.is_set():
                break
            for part, at in list(outages.items()):
                if time.monotonic() >= at:
                    del outages[part]
                    await asyncio.to_thread(self.infra.stop, part)
                    self.say(f"{part} stopped")
                    await asyncio.sleep(rng.uniform(3, 8))
                    await asyncio.to_thread(self.infra.start, part)
                    self.faults[f"{part} restarts"] += 1
                    self.say(f"{part} started again")
            name = rng.choice(SERVICES)
            self.platform[name].kill(signal.SIGKILL)
            self.faults["kills"] += 1
            self.say(f"{name} killed")
            await asyncio.sleep(rng.uniform(0.5, 3))
            self.platform[name].start()
            self.faults["restarts"] += 1

    async def run(self) -> dict[str, Any]:
        operator_token = await asyncio.to_thread(self.platform.token, "operator")
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(
            base_url=self.platform["intake"].url, timeout=15, limits=limits
        ) as http:
            operator = Client(http, operator_token, self.ledger)
            stop = asyncio.Event()
            monkey = asyncio.create_task(self.monkey(stop))
            begun = time.monotonic()
            gap = self.settings.seconds / max(self.settings.reports, 1) * 0.8
            stories = []
            for n, body in zip(range(self.settings.reports), self.bodies(), strict=False):
                stories.append(asyncio.create_task(self.story(http, operator, n, body)))
                await asyncio.sleep(gap)
            deadline = begun + self.settings.seconds + self.settings.settle
            _, pending = await asyncio.wait(stories, timeout=max(deadline - time.monotonic(), 1))
            stop.set()
            await monkey
            loaded = time.monotonic()
            for story in pending:
                story.cancel()
            await asyncio.gather(*stories, return_exceptions=True)
            for service in self.platform.services.values():
                if service.process is None or service.process.poll() is not None:
                    service.start()
            for service in self.platform.services.values():
                await asyncio.to_thread(service.wait_healthy, 120)
            figures = {
                "reports sent": self.settings.reports,
                "reports answered": len(self.ledger.reported),
                "stories unfinished": len(pending),
                **dict(self.faults),
                "client calls": self.ledger.calls,
                "client retries": self.ledger.retries,
                "longest stall (s)": round(self.ledger.longest_stall(begun, loaded), 1),
            }
            figures |= await self.check(operator)
        return figures

    async def check(self, operator: Client) -> dict[str, Any]:
        """Wait until the views settle on the log, then compare everything with the ledger."""
        deadline = time.monotonic() + self.settings.settle
        while True:
            found = await self.compare(operator)
            if not found["problems"] or time.monotonic() > deadline:
                return found
            await asyncio.sleep(3)

    async def compare(self, operator: Client) -> dict[str, Any]:
        settings = self.platform.endpoints
        prefix = f"{self.platform.namespace}."
        records = await read_topic(settings.kafka_bootstrap, f"{prefix}huiyin.issues.v1")
        dead = await read_topic(settings.kafka_bootstrap, f"{prefix}huiyin.issues.dlq.v1")
        events: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for record in records:
            event = decode(record.value)
            events[event.issue_id][event.type].add(str(event.event_id))
        problems: list[str] = []
        reported = set(self.ledger.reported.values())
        logged = {i for i, types in events.items() if types.get("IssueReported")}
        lost = reported - logged
        unknown = logged - reported
        problems += [f"{i}: answered 2xx, not in the log" for i in sorted(lost)]
        problems += [f"{i}: in the log, its client was never told" for i in sorted(unknown)]
        doubled = [i for i in reported if len(events[i].get("IssueAssigned", ())) > 1]
        unassigned = [i for i in reported if not events[i].get("IssueAssigned")]
        problems += [f"{i}: assigned {len(events[i]['IssueAssigned'])} times" for i in doubled]
        problems += [f"{i}: never assigned" for i in unassigned]
        for issue_id in reported:
            for action, event_type in EVENT_OF_ACTION.items():
                n = len(events[issue_id].get(event_type, ()))
                told = (issue_id, action) in self.ledger.done
                if n != int(told):
                    told_what = "ok" if told else self.ledger.refused.get((issue_id, action), "-")
                    problems.append(f"{issue_id}: {event_type} ×{n}, client told {told_what}")
        async with httpx.AsyncClient(timeout=15) as http:
            for issue_id in sorted(reported):
                expected = _state_of(events[issue_id])
                view = (await operator.call("GET", f"/issues/{issue_id}")).json()
                if view.get("state") != expected:
                    problems.append(f"{issue_id}: intake says {view.get('state')}, log {expected}")
                clocks = await _get(
                    http, f"{self.platform['supervision'].url}/issues/{issue_id}/clocks"
                )
                running = sorted(c["clock"] for c in clocks if c.get("running"))
                want = RUNNING_CLOCKS[expected]
                if running != want:
                    problems.append(f"{issue_id}: supervision runs {running}, log implies {want}")
            counts = await _get(http, f"{self.platform['reporting'].url}/counts")
        if counts.get("received") != len(reported):
            problems.append(
                f"reporting counts {counts.get('received')} received, {len(reported)} sent"
            )
        if counts.get("assigned") != len(reported) - len(unassigned):
            problems.append(f"reporting counts {counts.get('assigned')} assigned")
        problems += [f"dead letter: {r.value[:200]!r}" for r in dead]
        return {
            "lost": len(lost),
            "doubled assignments": len(doubled),
            "dead letters": len(dead),
            "problems": problems,
        }


def _state_of(types: dict[str, set[str]]) -> str:
    for event_type, state in (("IssueResolved", "resolved"), ("IssueAccepted", "accepted")):
        if types.get(event_type):
            return state
    return "assigned"


async def _get(http: httpx.AsyncClient, url: str) -> Any:
    for attempt in range(20):
        with contextlib.suppress(httpx.HTTPError):
            response = await http.get(url)
            if response.status_code == 200:
                return response.json()
        await asyncio.sleep(0.5 * (attempt + 1))
    raise RuntimeError(f"{url} did not answer")


def run_chaos(settings: ChaosSettings, folder: Path) -> dict[str, Any]:
    """Start a private broker and database and the services, play the chaos, stop it all."""
    infra = PrivateInfra(folder / "infra")
    try:
        endpoints = infra.start()
        namespace = f"chaos{uuid.uuid4().hex[:8]}"
        platform = Platform(endpoints, namespace, folder / "logs").start()
        try:
            return asyncio.run(Chaos(settings, platform, infra).run())
        finally:
            platform.stop()
    finally:
        infra.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=ChaosSettings.reports)
    parser.add_argument("--seconds", type=float, default=ChaosSettings.seconds)
    parser.add_argument("--kill-every", type=float, default=ChaosSettings.kill_every)
    parser.add_argument("--seed", type=int, default=ChaosSettings.seed)
    args = parser.parse_args()
    settings = ChaosSettings(args.reports, args.seconds, args.kill_every, args.seed)
    figures = run_chaos(settings, REPO / ".local/chaos")
    problems = figures.pop("problems")
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    for problem in problems[:50]:
        print(f"  problem: {problem}")
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
