"""The people of a simulated day, speaking to intake's HTTP API: the hotline operator,
the offices working their inboxes, a supervisor, and reporters answering return visits."""

import asyncio
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from devkit.simulator.mixes import RESULTS, RETURN_REASONS, Plan

RETRIES = 10  # about 40 s: longer than intake holds an unfinished Idempotency-Key


class Refused(Exception):
    """The API said no (4xx): the status and its reason."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status


@dataclass
class Speaker:
    """One principal on intake's API. Creating calls carry an Idempotency-Key, so a retry
    after a lost answer creates nothing twice."""

    client: httpx.AsyncClient
    headers: dict[str, str]

    async def call(self, method: str, path: str, body: Any = None, key: str = "") -> Any:
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        for attempt in itertools.count(1):
            try:
                response = await self.client.request(method, path, json=body, headers=headers)
            except httpx.TransportError:
                if attempt >= RETRIES:
                    raise
                await asyncio.sleep(min(attempt, 5))
                continue
            if _retryable(response) and attempt < RETRIES:
                await asyncio.sleep(min(attempt, 5))
                continue
            if response.status_code >= 400:
                raise Refused(response.status_code, _detail(response))
            return response.json()
        raise AssertionError("unreachable")


def _retryable(response: httpx.Response) -> bool:
    """A server error, or the first attempt of this Idempotency-Key still in progress."""
    if response.status_code >= 500:
        return True
    return response.status_code == 409 and "still in progress" in str(_detail(response))


def _detail(response: httpx.Response) -> Any:
    try:
        return response.json().get("detail")
    except ValueError:
        return response.text


@dataclass
class Tally:
    """What the simulator itself did and saw this run (issue counts, not calls)."""

    reported: int = 0
    answered: int = 0
    assigned: int = 0
    accepted: int = 0
    returned: int = 0
    extended: int = 0
    resolved: int = 0
    verified: int = 0
    visited: int = 0
    satisfied: int = 0
    solved: int = 0
    reopened: int = 0
    closed: int = 0
    flagged: int = 0
    merged: int = 0
    abandoned: int = 0
    decided: int = 0  # extensions a supervisor decided
    refused: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class Work:
    """An issue an office holds for the simulation, and what it has done with it."""

    issue_id: str
    plan: Plan
    done: asyncio.Future[str]
    since: float
    first: bool = True
    returned: bool = False
    accepted_at: float | None = None
    asked_extension: bool = False
    noted: bool = False
    flagged: bool = False
    missing: int = 0


@dataclass
class Office:
    """An office working its inbox: it acts only on what its inbox shows."""

    office_id: str
    speaker: Speaker
    tally: Tally
    span: float  # real seconds of a compressed working day
    clock: Callable[[], float]
    poll: float = 2.0
    diligence: float = 1.0  # how well its results hold (mixes.DILIGENCE)
    referred: Callable[[str, Plan], None] | None = None  # an extension the rule may refer
    work: dict[str, Work] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None

    def take(self, issue_id: str, plan: Plan, first: bool) -> asyncio.Future[str]:
        """Hold `issue_id` until the office resolves or returns it (or it moves away). The
        plan's quirks (a missed deadline, a return) happen at the first assignment only."""
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.work[issue_id] = Work(issue_id, plan, done, self.clock(), first=first)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._work_inbox())
        return done

    async def _work_inbox(self) -> None:
        while self.work:
            inbox = await self.speaker.call("GET", "/inbox")
            shown = {item["issue_id"]: item for item in inbox}
            for issue_id, work in list(self.work.items()):
                item = shown.get(issue_id)
                if item is None or item.get("office_id") != self.office_id:
                    work.missing += 1
                    if work.missing >= 3:  # reassigned elsewhere (escalated): let it go
                        self._finish(work, "moved")
                    continue
                work.missing = 0
                try:
                    await self._step(work, item)
                except Refused:
                    self.tally.refused += 1
            await asyncio.sleep(self.poll)

    async def _step(self, work: Work, item: dict[str, Any]) -> None:
        plan, now = work.plan, self.clock()
        flags = item.get("flags") or {}
        if not work.flagged and (flags.get("yellow") or flags.get("red")):
            work.flagged = True
            self.tally.flagged += 1
        wait = plan.think * self.span
        act = self._act(work)
        if item["state"] == "assigned":
            if plan.miss_deadline and work.first and not work.flagged:
                return  # missed: untouched until supervision flags it
            if plan.abandoned and work.first:
                self.tally.abandoned += 1
                self._finish(work, "abandoned")  # and left untouched for the rest of the day
                return
            if now - work.since < wait:
                return
            if plan.returns and work.first and not work.returned:
                await act("return", {"reason": random.Random(plan.n).choice(RETURN_REASONS)})
                self.tally.returned += 1
                self._finish(work, "returned")
                return
            await act("accept", {})
            self.tally.accepted += 1
            work.accepted_at = now
        elif item["state"] == "accepted":
            started = work.accepted_at if work.accepted_at is not None else work.since
            if plan.progress and not work.noted:
                work.noted = True
                await act("progress", {"note": "已安排人员现场核实"})
            if plan.extension and not work.asked_extension:
                work.asked_extension = True
                body = {"working_days": plan.extension, "reason": "需协调多个部门，申请延期"}
                await act("extension", body)
                if self.referred is not None:
                    self.referred(work.issue_id, plan)
                self.tally.extended += 1
            if now - started < 2 * wait:
                return
            await act("resolve", {"result": random.Random(plan.n).choice(RESULTS)})
            self.tally.resolved += 1
            self._finish(work, "resolved")

    def _act(self, work: Work) -> Callable[[str, dict[str, Any]], Any]:
        async def act(action: str, body: dict[str, Any]) -> Any:
            key = f"{work.issue_id}:{action}:{work.since:.3f}"
            return await self.speaker.call("POST", f"/issues/{work.issue_id}/{action}", body, key)

        return act

    def _finish(self, work: Work, outcome: str) -> None:
        self.work.pop(work.issue_id, None)
        if not work.done.done():
            work.done.set_result(outcome)
