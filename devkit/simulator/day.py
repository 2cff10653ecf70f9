"""A day of the sample city compressed into minutes: reports arrive along a day's curve,
offices work their inboxes, reporters answer return visits, the operator closes."""

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from devkit.simulator.actors import Office, Refused, Speaker, Tally
from devkit.simulator.mixes import City, Plan, answer, diligence, plan_report

HOURS = [1, 1, 1, 1, 1, 2, 4, 8, 12, 13, 12, 10, 7, 8, 11, 12, 11, 9, 7, 6, 5, 4, 2, 1]
"""Calls per hour of a hotline's day: quiet at night, peaks mid-morning and mid-afternoon."""


@dataclass(frozen=True)
class DaySettings:
    intake: str
    reporting: str
    admin_token: str
    reports: int = 300
    minutes: float = 4.0
    seed: int = 12345
    timezone: str = "Asia/Shanghai"
    run_id: str = field(default_factory=lambda: f"{time.time():.0f}")

    @property
    def span(self) -> float:
        """Real seconds of the compressed day."""
        return self.minutes * 60


def arrivals(settings: DaySettings) -> list[float]:
    """When each report arrives, in real seconds from the start, along the day's curve."""
    rng = random.Random(f"{settings.seed}:arrivals")
    hours = rng.choices(range(24), weights=HOURS, k=settings.reports)
    return sorted((h + rng.random()) / 24 * settings.span for h in hours)


@dataclass
class Day:
    settings: DaySettings
    client: httpx.AsyncClient
    tally: Tally = field(default_factory=Tally)
    answers: dict[str, tuple[str, bool]] = field(default_factory=dict)
    reopened: set[str] = field(default_factory=set)
    resolved: set[str] = field(default_factory=set)  # by an office, at least once
    decisions: set[asyncio.Task[None]] = field(default_factory=set)
    _turns: dict[str, int] = field(default_factory=dict)
    days: set[date] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    offices: dict[str, Office] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def clock(self) -> float:
        return time.monotonic() - self.started

    def simulated_time(self) -> str:
        if self.clock() >= self.settings.span:
            return "the day is over: finishing the work in hand"
        minutes = int(self.clock() / self.settings.span * 24 * 60)
        return f"simulated {minutes // 60:02d}:{minutes % 60:02d}"

    async def principal(self, role: str, **binding: str) -> Speaker:
        admin = Speaker(self.client, {"Authorization": f"Bearer {self.settings.admin_token}"})
        body = {"role": role, "name": f"simulated {role}", **binding}
        made = await admin.call("POST", "/principals", body)
        return Speaker(self.client, {"Authorization": f"Bearer {made['token']}"})

    async def prepare(self) -> None:
        self.operator = await self.principal("operator")
        self.supervisor = await self.principal("supervisor", region_code="411900", level="city")
        self._office_locks: dict[str, asyncio.Lock] = {}

    async def office(self, office_id: str) -> Office:
        lock = self._office_locks.setdefault(office_id, asyncio.Lock())
        async with lock:
            if office_id not in self.offices:
                speaker = await self.principal("office", office_id=office_id)
                self.offices[office_id] = Office(
                    office_id, speaker, self.tally, self.settings.span, self.clock,
                    diligence=diligence(self.settings.seed, office_id),
                    referred=self._decide_later,
                )  # fmt: skip
        return self.offices[office_id]

    def _decide_later(self, issue_id: str, plan: Plan) -> None:
        task = asyncio.create_task(self._decide(issue_id, plan))
        self.decisions.add(task)
        task.add_done_callback(self.decisions.discard)

    async def _decide(self, issue_id: str, plan: Plan) -> None:
        """A supervisor decides an extension the rule left to them (more than it grants)."""
        if plan.extension <= 3:  # the policy's rule grants up to 3 working days by itself
            return
        await asyncio.sleep(2.0)
        granted = random.Random(f"{plan.n}:decision").random() < 0.8
        body = {"granted": granted, "reason": "同意延期" if granted else "不符合延期条件"}
        path = f"/issues/{issue_id}/extension-decision"
        try:
            await self.supervisor.call("POST", path, body, key=f"{issue_id}:decision")
            self.tally.decided += 1
        except Refused:
            self.tally.refused += 1

    def plans(self) -> list[Plan]:
        city, plans = City.load(), list[Plan]()
        for n in range(self.settings.reports):
            plans.append(plan_report(self.settings.seed, n, city, plans))
        return plans

    async def story(self, plan: Plan, at: float) -> None:
        """One report from arrival to closing (or to the end of the day)."""
        try:
            await asyncio.sleep(max(at - self.clock(), 0))
            await self._story(plan)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # one story's failure is shown, never stops the day
            self.errors.append(f"report #{plan.n}: {error!r}")

    async def _story(self, plan: Plan) -> None:
        key = f"sim-{self.settings.run_id}-{plan.n}"
        created = await self.operator.call("POST", "/issues", plan.body, key=key)
        self.tally.reported += 1
        self.days.add(datetime.now(ZoneInfo(self.settings.timezone)).date())
        issue_id = created["issue_id"]
        reporter = Speaker(self.client, {"X-Receipt-Code": created["receipt_code"]})
        if plan.direct:
            self.tally.answered += 1
            if await self._visit_and_close(issue_id, plan, reporter):
                return  # else reopened: routing dispatches it to an office
        seen, first = 0, True
        while True:
            view = await self._view(issue_id, partial(_moved_on, seen=seen))
            if _merged(view):
                self.tally.merged += 1
                await self._view(issue_id, _problem_done)
                await self._visit_and_close(issue_id, plan, reporter, last=True)
                return
            seen = _assigned(view)
            self.tally.assigned += first
            office = await self.office(view["office_id"])
            outcome = await office.take(issue_id, plan, first)
            first = False
            if outcome == "abandoned":
                return
            if outcome != "resolved":
                continue
            self.resolved.add(issue_id)
            if plan.verify and issue_id not in self.reopened:
                body = {"passed": True, "note": "现场核查属实"}
                path = f"/issues/{issue_id}/verify"
                await self.supervisor.call("POST", path, body, key=f"{key}-verify")
                self.tally.verified += 1
            if await self._visit_and_close(issue_id, plan, reporter, care=office.diligence):
                return

    async def _visit_and_close(
        self, issue_id: str, plan: Plan, reporter: Speaker, last: bool = False, care: float = 1.0
    ) -> bool:
        """The reporter answers the return visit (on a result of an office of diligence
        `care`); False when it reopened the issue."""
        await asyncio.sleep(plan.think * self.settings.span if plan.think else 2.0)
        count = self._turns.get(issue_id, 0)  # visits so far
        satisfaction, solved = answer(self.settings.seed, plan, count, care, last)
        body = {"satisfaction": satisfaction, "solved": solved}
        key = f"sim-{self.settings.run_id}-{plan.n}-visit-{count}"
        await self._visit(issue_id, reporter, body, key)
        self.answers[issue_id] = (satisfaction, solved)
        self._turns[issue_id] = count + 1
        if satisfaction == "dissatisfied" and not last:
            self.reopened.add(issue_id)
            self.tally.reopened = len(self.reopened)
            return False
        self.tally.visited = len(self.answers)
        await asyncio.sleep(1.0)
        key = f"sim-{self.settings.run_id}-{plan.n}-close"
        await self.operator.call("POST", f"/issues/{issue_id}/close", {}, key=key)
        self.tally.closed += 1
        return True

    async def _visit(self, issue_id: str, reporter: Speaker, body: Any, key: str) -> None:
        """The return visit; a 409 while intake's view catches up is tried again."""
        for attempt in range(1, 8):
            try:
                await reporter.call("POST", f"/issues/{issue_id}/visit", body, key=key)
                return
            except Refused as refused:
                if refused.status != 409 or attempt == 7:
                    view = await self.operator.call("GET", f"/issues/{issue_id}")
                    seen = [h["type"] for h in view.get("history", [])]
                    why = f"{refused} (issue {issue_id}: {view['state']}, {seen})"
                    raise Refused(refused.status, why) from None
                await asyncio.sleep(attempt)

    async def _view(self, issue_id: str, ready: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
        pause = 0.3
        while True:
            try:
                view: dict[str, Any] = await self.operator.call("GET", f"/issues/{issue_id}")
            except Refused:
                view = {}
            if view and ready(view):
                return view
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 3.0)

    def own_figures(self) -> dict[str, int]:
        """This run's counts in the terms of reporting's rates."""
        return {
            "received": self.tally.reported,
            "answered_directly": self.tally.answered,
            "assigned": self.tally.assigned,
            "visited": len(self.answers),
            "satisfied": sum(1 for s, _ in self.answers.values() if s != "dissatisfied"),
            "solved": sum(1 for _, solved in self.answers.values() if solved),
            "resolved": len(self.resolved),
            "reopened": len(self.reopened & self.resolved),  # reporting: among the resolved
            "merged": self.tally.merged,
        }


def _assigned(view: dict[str, Any]) -> int:
    """How many times the issue has been assigned, once it is assigned now (else 0)."""
    if view.get("state") != "assigned" or not view.get("office_id"):
        return 0
    return sum(1 for h in view.get("history", []) if h["type"] == "IssueAssigned")


def _moved_on(view: dict[str, Any], seen: int) -> bool:
    """Merged into another issue, or assigned anew (beyond `seen` assignments)."""
    return _merged(view) or _assigned(view) > seen


def _merged(view: dict[str, Any]) -> bool:
    return view.get("state") == "merged"


def _problem_done(view: dict[str, Any]) -> bool:
    problem = view.get("problem") or {}
    return problem.get("state") in ("resolved", "verified", "visited", "closed")
