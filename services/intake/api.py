"""Intake's REST API: report, look up, and every outside action on an issue. Thin: rules are in
domain.py (who may do what), actions.py (what it says), view.py (what one may see)."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Header, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from services.contracts.events import (
    Envelope,
    IssueAnswered,
    IssueAnsweredPayload,
    IssueReported,
    IssueReportedPayload,
    Location,
    derived_event_id,
)
from services.contracts.vocabulary import Channel, IssueState, Kind, ReporterType
from services.intake.actions import ActionIn, action_events
from services.intake.auth import Authenticator, RateLimits
from services.intake.domain import Action, Principal, Refused, Role, acting_state, check, may_see
from services.intake.extension_decisions import (
    ExtensionDecisionIn,
    ExtensionDecisionOut,
    awaiting_decision,
    decision_event,
)
from services.intake.idempotency import Idempotency
from services.intake.privacy import Privacy
from services.intake.scope import place_of
from services.intake.store import IntakeStore
from services.intake.view import history_in_order
from services.runtime.broker import EventPublisher

Phone = Annotated[str, Field(max_length=32, pattern=r"^\+?[0-9][0-9\- ]{4,30}$")]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region_code: str | None = Field(default=None, max_length=64)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=500)


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    kind: Kind
    text: str = Field(min_length=1, max_length=5000)
    category: str | None = Field(default=None, max_length=64)
    location: LocationIn = LocationIn()
    media_urls: list[Annotated[str, Field(max_length=2000)]] = Field(default=[], max_length=20)
    reporter_type: ReporterType = ReporterType.CITIZEN
    reporter_phone: Phone | None = None
    reporter_name: str | None = Field(default=None, max_length=100)
    enterprise_id: str | None = Field(default=None, max_length=64)
    direct_answer: str | None = Field(
        default=None, min_length=1, max_length=5000,
        description="直办: the operator's answer; the issue is answered at intake, not dispatched",
    )  # fmt: skip


class ReportOut(BaseModel):
    issue_id: str
    receipt_code: str
    state: IssueState


class ActionOut(BaseModel):
    issue_id: str
    event_ids: list[str]
    state: IssueState


class PrincipalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    name: str = Field(min_length=1, max_length=100, description="who holds the token (not logged)")
    office_id: str | None = Field(default=None, max_length=64)
    region_code: str | None = Field(default=None, max_length=64)
    level: str | None = Field(default=None, max_length=16)


class PrincipalOut(BaseModel):
    id: str
    role: Role
    token: str = Field(description="shown once; stored only as a hash")


def refused(error: Refused) -> HTTPException:
    return HTTPException(error.status, detail=error.reason)


class IntakeApi:
    """The routes and the steps they share."""

    def __init__(
        self, store: IntakeStore, publisher: EventPublisher, privacy: Privacy, limits: RateLimits
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.privacy = privacy
        self.limits = limits
        self.authenticate = Authenticator(store)
        self.idempotency = Idempotency(store)

    async def publish(self, events: Sequence[Envelope]) -> None:
        """Publish, then apply to the view at once (the consumer's later copy is a no-op)."""
        landed = await self.publisher.publish_all(events)
        for event, where in zip(events, landed, strict=True):
            await self.store.apply(event, where.offset)  # type: ignore[arg-type]

    async def existing(self, issue_id: str) -> dict[str, Any]:
        view = await self.store.issue(issue_id)
        if view is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no issue {issue_id}")
        return view

    async def visible(self, who: Principal, issue_id: str) -> dict[str, Any]:
        view = await self.existing(issue_id)
        held_by, co_offices = view.get("office_id"), view.get("co_office_ids", [])
        if not may_see(who, issue_id, held_by, co_offices, place_of(view)):
            reason = "you may not see this issue"
            if who.role is Role.SUPERVISOR:
                reason += f": it lies outside your region {who.region_code}"
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=reason)
        if problem_id := view.get("merged_into"):
            problem = await self.store.issue(problem_id)
            view["problem"] = problem and answer_of(problem)
        return view

    async def create_report(
        self, body: ReportIn, who: Principal, seed: uuid.UUID | None
    ) -> tuple[int, Any]:
        issue_id = str(uuid.uuid5(seed, "issue") if seed else uuid.uuid4())
        reported_id = uuid.uuid5(seed, "reported") if seed else uuid.uuid4()
        reporter_id = self.privacy.pseudonym(body.reporter_phone) if body.reporter_phone else None
        reported = IssueReported(
            event_id=reported_id,
            issue_id=issue_id,
            producer="intake",
            payload=IssueReportedPayload(
                channel=body.channel,
                kind=body.kind,
                text=body.text,
                category=body.category,
                location=Location(**body.location.model_dump()),
                media_urls=tuple(body.media_urls),
                reporter_id=reporter_id,
                reporter_type=body.reporter_type,
                enterprise_id=body.enterprise_id,
                direct_handling=body.direct_answer is not None,
            ),
        )
        events: list[Envelope] = [reported]
        if body.direct_answer is not None:
            events.append(
                IssueAnswered(
                    event_id=derived_event_id(reported_id, "answered"),
                    issue_id=issue_id,
                    producer="intake",
                    causation_id=reported_id,
                    payload=IssueAnsweredPayload(answered_by=who.id, answer=body.direct_answer),
                )
            )
        receipt = self.privacy.receipt_code(issue_id)
        await self.store.save_receipt(receipt, issue_id)
        if body.reporter_phone or body.reporter_name:
            contact = {"phone": body.reporter_phone or "", "name": body.reporter_name or ""}
            await self.store.save_contact(issue_id, reporter_id or "", self.privacy.seal(contact))
        await self.publish(events)
        state = IssueState.ANSWERED if body.direct_answer is not None else IssueState.RECEIVED
        out = ReportOut(issue_id=issue_id, receipt_code=receipt, state=state)
        return status.HTTP_201_CREATED, out.model_dump(mode="json")

    async def act(
        self, action: Action, issue_id: str, body: ActionIn, who: Principal, seed: uuid.UUID | None
    ) -> tuple[int, Any]:
        view = await self.existing(issue_id)
        problem_id = view.get("merged_into")
        problem = await self.store.issue(problem_id) if problem_id else None
        problem_state = IssueState(problem["state"]) if problem else None
        state = acting_state(IssueState(view["state"]), problem_state)
        try:
            check(action, who, state, view.get("office_id"), issue_id, place_of(view))
        except Refused as error:
            raise refused(error) from error
        reporter_id = await self.store.reporter_of(issue_id) if action is Action.VISIT else None
        events = action_events(
            action, body, who, issue_id, view.get("office_id"), datetime.now(UTC),
            uuid.uuid5(seed, action.value) if seed else uuid.uuid4(), reporter_id, problem_id,
        )  # fmt: skip
        await self.publish(events)
        after = await self.store.issue(issue_id)
        out = ActionOut(
            issue_id=issue_id,
            event_ids=[str(e.event_id) for e in events],
            state=IssueState((after or view)["state"]),
        )
        return status.HTTP_200_OK, out.model_dump(mode="json")

    async def decide_extension(
        self, issue_id: str, body: ExtensionDecisionIn, who: Principal, seed: uuid.UUID | None
    ) -> tuple[int, Any]:
        """A supervisor decides the extension request that awaits a decision (延期审批)."""
        view = await self.existing(issue_id)
        try:
            check(Action.DECIDE_EXTENSION, who, None, view.get("office_id"), issue_id,
                  place_of(view))  # fmt: skip
            history = history_in_order(view.get("history", {}))
            request = awaiting_decision(history, body.request_id)
        except Refused as error:
            raise refused(error) from error
        request_id = str(request["event_id"])
        event_id = uuid.uuid5(seed, f"extension-decision:{request_id}") if seed else uuid.uuid4()
        event = decision_event(request, body, who, issue_id, datetime.now(UTC), event_id)
        await self.publish([event])
        out = ExtensionDecisionOut(
            issue_id=issue_id, event_id=str(event.event_id), request_id=request_id,
            granted=event.payload.granted, working_days=event.payload.working_days,
            decided_by=who.id,
        )  # fmt: skip
        return status.HTTP_200_OK, out.model_dump(mode="json")


def answer_of(problem: dict[str, Any]) -> dict[str, Any]:
    """What a duplicate's reporter sees of the problem it was merged into."""
    answers = [h for h in problem.get("history", {}).values()
               if h["type"] in ("IssueResolved", "IssueAnswered")]  # fmt: skip
    last = max(answers, key=lambda h: int(h["offset"])) if answers else {}
    return {
        "issue_id": problem["_id"], "state": problem["state"],
        "office_id": problem.get("office_id"), "answer": last.get("result") or last.get("answer"),
    }  # fmt: skip


def present(view: dict[str, Any]) -> dict[str, Any]:
    view = dict(view)
    view["issue_id"] = view.pop("_id")
    view["history"] = history_in_order(view.get("history", {}))
    return view
