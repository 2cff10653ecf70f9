"""Intake's use cases: report, look up, every outside action on an issue, and keeping the status
view from the log. Each checks with the rules (`domain`), then publishes and stores; the HTTP
edge only reads the request and maps refusals to statuses."""

import asyncio
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from services.contracts.events import (
    Envelope,
    Event,
    IssueAnswered,
    IssueAnsweredPayload,
    IssueAssigned,
    IssueReported,
    IssueReportedPayload,
    Location,
    derived_event_id,
)
from services.contracts.vocabulary import IssueState
from services.intake.domain.actions import ActionIn, action_events
from services.intake.domain.city import City
from services.intake.domain.errors import Forbidden, Invalid, NotFound
from services.intake.domain.extension_decisions import (
    ExtensionDecisionIn,
    ExtensionDecisionOut,
    awaiting_decision,
    decision_event,
)
from services.intake.domain.masking import Written, mask, masked, written_view
from services.intake.domain.privacy import Privacy, new_token
from services.intake.domain.reports import PrincipalIn, ReportIn
from services.intake.domain.rules import (
    Act,
    Action,
    Principal,
    Role,
    acting_state,
    binding_problem,
    check,
    may_see,
)
from services.intake.domain.scope import place_of
from services.intake.domain.view import (
    answer_of,
    history_in_order,
    present,
    public_view,
    state_through,
)
from services.intake.handlers.auth import Authenticator
from services.intake.handlers.idempotency import Answer, Idempotency
from services.intake.handlers.ports import IntakeStore, Publisher, Throttle
from services.intake.handlers.results import ActionOut, PrincipalOut, ReportOut
from services.runtime.consumer import Delivered, Delivery, Rejected


class IntakeHandlers:
    """The use cases and the steps they share."""

    def __init__(
        self,
        store: IntakeStore,
        publisher: Publisher,
        privacy: Privacy,
        throttle: Throttle,
        after_publish: Callable[[], None] | None = None,
        city: City | None = None,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.privacy = privacy
        self.throttle = throttle
        self.authenticate = Authenticator(store, throttle)
        self.idempotency = Idempotency(store)
        self.after_publish = after_publish
        self.city = city
        """The offices and regions names are checked against (None: not checked)."""
        """A test-only fault hook: run right after the broker acknowledged a publish, before
        the view and the idempotency record are written (`HUIYIN_INTAKE_FAULT`)."""

    def _check(self, event: Event) -> None:
        """An assignment to an office the city does not list is rejected: the runtime
        dead-letters it (`unknown_office`)."""
        if isinstance(event, IssueAssigned) and self.city is not None:
            named = [event.payload.office_id, *event.payload.co_office_ids]
            if unknown := self.city.unknown_offices(named):
                detail = f"IssueAssigned names offices the city does not list: {unknown}"
                raise Rejected("unknown_office", detail)

    async def handle(self, event: Event, delivery: Delivery) -> None:
        """The log consumer's handler for one event: keep the status view."""
        self._check(event)
        await self.store.apply(event, delivery.offset)

    async def handle_batch(self, batch: Sequence[Delivered]) -> None:
        """The log consumer's handler for a whole batch: the status view of every issue it
        names, in a few bulk writes (`IntakeStore.apply_all`). A rejected event fails the
        batch; the runtime then hands its events over one by one and dead-letters that one."""
        for one in batch:
            self._check(one.event)
        await self.store.apply_all([(one.event, one.delivery.offset) for one in batch])

    async def publish(self, events: Sequence[Envelope], new: bool = False) -> None:
        """Publish, then apply to the view at once (the consumer's later copy is a no-op):
        answered once Kafka acknowledged the events and the view holds them. `new`: the
        events are a report's, whose view is inserted without a read."""
        landed = await self.publisher.publish_all(events)
        if self.after_publish is not None:
            self.after_publish()
        offsets = [where.offset for where in landed]
        deliveries = list(zip(events, offsets, strict=True))
        apply = self.store.apply_new if new else self.store.apply_all
        await apply(deliveries)  # type: ignore[arg-type]

    async def existing(self, issue_id: str) -> dict[str, Any]:
        view = await self.store.issue(issue_id)
        if view is None:
            raise NotFound(f"no issue {issue_id}")
        return view

    async def visible(self, who: Principal, issue_id: str) -> dict[str, Any]:
        view = await self.existing(issue_id)
        held_by, co_offices = view.get("office_id"), view.get("co_office_ids", [])
        if not may_see(who, issue_id, held_by, co_offices, place_of(view)):
            reason = "you may not see this issue"
            if who.role is Role.SUPERVISOR:
                reason += f": it lies outside your region {who.region_code}"
            raise Forbidden(reason)
        if problem_id := view.get("merged_into"):
            problem = await self.store.issue(problem_id)
            view["problem"] = problem and answer_of(problem)
        return view

    async def issue(self, who: Principal, issue_id: str) -> dict[str, Any]:
        """An issue's status view: as it is for staff, masked for a reporter's code (a code may
        be passed on, and a merged problem's answer is someone else's text)."""
        view = present(await self.visible(who, issue_id))
        if who.role is Role.REPORTER:
            return public_view(view)
        return (await self.written([view]))[0]

    async def written(self, views: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Views as staff read them: each report's text and address as typed (the log and the
        view hold them masked), unsealed from what intake kept; one read for all."""
        ids = [str(view.get("issue_id") or view["_id"]) for view in views]  # presented or not
        sealed = await self.store.sealed_written(ids)
        return [
            written_view(view, self.privacy.unseal(sealed[i])) if i in sealed else view
            for view, i in zip(views, ids, strict=True)
        ]

    async def by_receipt(self, receipt_code: str, client: str) -> dict[str, Any]:
        reporter = await self.authenticate.receipt(receipt_code, client)
        if reporter is None or reporter.issue_id is None:
            raise NotFound("unknown receipt code")
        return await self.issue(reporter, reporter.issue_id)

    async def inbox(self, who: Principal) -> list[dict[str, Any]]:
        """Open issues an office holds, due soonest first."""
        if who.role is not Role.OFFICE or who.office_id is None:
            raise Forbidden("the inbox is an office's")
        now = datetime.now(UTC)
        items = []
        for view in await self.store.inbox(who.office_id):
            deadlines = view.get("deadlines") or {}
            due = deadlines.get("resolve") or deadlines.get("accept")
            items.append({**present(view), "due_at": due, "overdue": bool(due and due < now)})
        far = datetime.max.replace(tzinfo=UTC)
        return sorted(items, key=lambda item: item["due_at"] or far)

    def check_principal(self, body: PrincipalIn, who: Principal) -> None:
        if who.role is not Role.ADMIN:
            raise Forbidden("only an admin adds principals")
        if body.role is Role.OFFICE and not body.office_id:
            raise Invalid("an office principal is bound to one office", "office_id")
        if (problem := binding_problem(body.role, body.region_code)) is not None:
            raise Invalid(problem, "region_code")
        if self.city is not None:
            if body.office_id is not None and body.office_id not in self.city.offices:
                raise Invalid(f"the city has no office {body.office_id!r}", "office_id")
            if body.region_code is not None and body.region_code not in self.city.regions:
                raise Invalid(f"the city has no region {body.region_code!r}", "region_code")

    async def add_principal(self, body: PrincipalIn, who: Principal, _: object) -> Answer:
        """An admin adds a principal; its token is answered once and stored as a hash."""
        self.check_principal(body, who)
        token = new_token()
        principal = Principal(
            id=f"{body.role.value}:{uuid.uuid4().hex[:12]}",
            role=body.role, office_id=body.office_id, region_code=body.region_code,
            level=body.level,
        )  # fmt: skip
        await self.store.add_principal(token, principal)
        return 201, PrincipalOut(id=principal.id, role=body.role, token=token).model_dump()

    @staticmethod
    def check_report(body: ReportIn, who: Principal) -> None:
        check(Act.REPORT, who, None, None, "")
        if body.direct_answer is not None:
            check(Act.ANSWER, who, None, None, "")

    def report_answer(self, body: ReportIn, issue_id: str) -> Answer:
        state = IssueState.ANSWERED if body.direct_answer is not None else IssueState.RECEIVED
        receipt = self.privacy.receipt_code(issue_id)
        return 201, ReportOut(issue_id=issue_id, receipt_code=receipt, state=state).model_dump(
            mode="json"
        )

    async def recall_report(self, body: ReportIn, seed: uuid.UUID) -> Answer | None:
        """The first answer to a report seeded so, if its `IssueReported` is in the view."""
        issue_id = str(uuid.uuid5(seed, "issue"))
        view = await self.store.issue(issue_id)
        if view is None or str(uuid.uuid5(seed, "reported")) not in view.get("history", {}):
            return None
        # the first attempt stored its receipt beside publishing: it may have failed there
        await self.store.save_receipt(self.privacy.receipt_code(issue_id), issue_id)
        return self.report_answer(body, issue_id)

    async def create_report(self, body: ReportIn, who: Principal, seed: uuid.UUID | None) -> Answer:
        self.check_report(body, who)
        issue_id = str(uuid.uuid5(seed, "issue") if seed else uuid.uuid4())
        reported_id = uuid.uuid5(seed, "reported") if seed else uuid.uuid4()
        reporter_id = self.privacy.pseudonym(body.reporter_phone) if body.reporter_phone else None
        written = Written(body.text, body.location.address)
        location = Location(**body.location.model_dump() | {"address": masked(written.address)})
        reported = IssueReported(
            event_id=reported_id,
            issue_id=issue_id,
            producer="intake",
            payload=IssueReportedPayload(
                channel=body.channel,
                kind=body.kind,
                text=mask(written.text),
                category=body.category,
                location=location,
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
                    payload=IssueAnsweredPayload(
                        answered_by=who.id, answer=mask(body.direct_answer)
                    ),
                )
            )
        if body.reporter_phone or body.reporter_name:  # before it is published: notify asks
            contact = {"phone": body.reporter_phone or "", "name": body.reporter_name or ""}
            await self.store.save_contact(issue_id, reporter_id or "", self.privacy.seal(contact))
        if written.holds_personal_numbers:  # staff read it as typed: sealed beside the contact
            await self.store.save_written(issue_id, self.privacy.seal(written.sealable()))
        if not body.public:
            await self.store.withhold(issue_id)  # before it is published: never public, not once
        # the receipt beside the publishing (a receipt of an issue never published leads
        # nowhere; a retry's recall stores it again): answered once both are stored
        receipt = self.store.save_receipt(self.privacy.receipt_code(issue_id), issue_id)
        outcomes = await asyncio.gather(
            self.publish(events, new=True), receipt, return_exceptions=True
        )
        for failed in outcomes:  # raised once both are settled
            if isinstance(failed, BaseException):
                raise failed
        return self.report_answer(body, issue_id)

    async def act(
        self, action: Action, issue_id: str, body: ActionIn, who: Principal, seed: uuid.UUID | None
    ) -> Answer:
        view = await self.existing(issue_id)
        problem_id = view.get("merged_into")
        problem = await self.store.issue(problem_id) if problem_id else None
        problem_state = IssueState(problem["state"]) if problem else None
        state = acting_state(IssueState(view["state"]), problem_state)
        check(action, who, state, view.get("office_id"), issue_id, place_of(view))
        reporter_id = await self.store.reporter_of(issue_id) if action is Action.VISIT else None
        events = action_events(
            action, body, who, issue_id, view.get("office_id"), datetime.now(UTC),
            uuid.uuid5(seed, action.value) if seed else uuid.uuid4(), reporter_id, problem_id,
        )  # fmt: skip
        await self.publish(events)
        after = await self.store.issue(issue_id) or view
        return self.action_answer(issue_id, events, after)

    @staticmethod
    def action_answer(issue_id: str, events: Sequence[Event], view: dict[str, Any]) -> Answer:
        """The state the log implies just after the action's events (not a later one's)."""
        ids = [str(e.event_id) for e in events]
        state = state_through(view.get("history", {}), ids) or view["state"]
        out = ActionOut(issue_id=issue_id, event_ids=ids, state=IssueState(state))
        return 200, out.model_dump(mode="json")

    async def recall_action(
        self, action: Action, issue_id: str, body: ActionIn, who: Principal, seed: uuid.UUID
    ) -> Answer | None:
        """The first answer to an action seeded so, if its event is in the issue's view."""
        view = await self.store.issue(issue_id)
        event_id = uuid.uuid5(seed, action.value)
        if view is None or str(event_id) not in view.get("history", {}):
            return None
        events = action_events(  # the same ids as the first attempt's (deterministic)
            action, body, who, issue_id, view.get("office_id"), datetime.now(UTC), event_id,
            None, view.get("merged_into"),
        )  # fmt: skip
        return self.action_answer(issue_id, events, view)

    async def decide_extension(
        self, issue_id: str, body: ExtensionDecisionIn, who: Principal, seed: uuid.UUID | None
    ) -> Answer:
        """A supervisor decides the extension request that awaits a decision (延期审批)."""
        view = await self.existing(issue_id)
        check(Act.DECIDE_EXTENSION, who, None, view.get("office_id"), issue_id, place_of(view))
        history = history_in_order(view.get("history", {}))
        request = awaiting_decision(history, body.request_id)
        request_id = str(request["event_id"])
        event_id = uuid.uuid5(seed, f"extension-decision:{request_id}") if seed else uuid.uuid4()
        event = decision_event(request, body, who, issue_id, datetime.now(UTC), event_id)
        await self.publish([event])
        out = ExtensionDecisionOut(
            issue_id=issue_id, event_id=str(event.event_id), request_id=request_id,
            granted=event.payload.granted, working_days=event.payload.working_days,
            decided_by=who.id,
        )  # fmt: skip
        return 200, out.model_dump(mode="json")

    async def recall_decision(self, issue_id: str, seed: uuid.UUID) -> Answer | None:
        """The first answer to a decision seeded so, if its `ExtensionDecided` is in the view."""
        view = await self.store.issue(issue_id)
        for entry in (view or {}).get("history", {}).values():
            request_id = entry.get("request_id")
            if entry["type"] != "ExtensionDecided" or not request_id:
                continue
            if entry["event_id"] == str(uuid.uuid5(seed, f"extension-decision:{request_id}")):
                out = ExtensionDecisionOut(
                    issue_id=issue_id, event_id=entry["event_id"], request_id=request_id,
                    granted=entry["granted"], working_days=entry["working_days"],
                    decided_by=entry["decided_by"],
                )  # fmt: skip
                return 200, out.model_dump(mode="json")
        return None
