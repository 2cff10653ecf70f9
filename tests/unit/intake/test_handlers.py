"""Intake's use cases on fakes of its ports: receipt codes share one limit wherever they are
checked, a reporter's code shows masked text, a withheld report is remembered before it is
published, and a retried request is answered once."""

import asyncio
import uuid
from typing import Any

import pytest

from services.contracts.vocabulary import Channel, Kind
from services.intake.domain.actions import AcceptIn, ResolveIn, ReturnIn
from services.intake.domain.errors import Conflict, Forbidden, RateLimited, Unauthenticated
from services.intake.domain.privacy import Privacy
from services.intake.domain.reports import ReportIn
from services.intake.domain.rules import Action, Principal, Role
from services.intake.domain.throttling import Limit
from services.intake.handlers.issues import IntakeHandlers
from tests.unit.intake.fakes import CountingThrottle, FakePublisher, FakeStore

OPERATOR = Principal(id="operator:1", role=Role.OPERATOR)
TEXT = "来电人13987654321反映路灯不亮"


def intake(limit: str = "5/minute") -> IntakeHandlers:
    store = FakeStore()
    return IntakeHandlers(
        store, FakePublisher(), Privacy("k"), CountingThrottle(Limit.parse(limit))
    )


def report(**fields: object) -> ReportIn:
    return ReportIn.model_validate(
        {"channel": Channel.HOTLINE, "kind": Kind.COMPLAINT, "text": TEXT, **fields}
    )


def test_receipt_checks_share_one_limit_whether_looked_up_or_sent_as_a_header() -> None:
    handlers = intake("5/minute")

    async def run() -> None:
        for _ in range(3):
            with pytest.raises(Unauthenticated):
                await handlers.authenticate.principal(None, "WRONG", "10.0.0.1")
        for _ in range(2):
            with pytest.raises(Exception, match="unknown receipt code"):
                await handlers.by_receipt("WRONG", "10.0.0.1")
        with pytest.raises(RateLimited) as limited:
            await handlers.authenticate.principal(None, "WRONG", "10.0.0.1")
        assert limited.value.retry_after > 0
        with pytest.raises(RateLimited):
            await handlers.by_receipt("WRONG", "10.0.0.1")
        with pytest.raises(Unauthenticated):  # another client has its own count
            await handlers.authenticate.principal(None, "WRONG", "10.0.0.2")

    asyncio.run(run())


def test_a_reporters_own_code_never_spends_the_limit_and_fails_once_over_it() -> None:
    handlers = intake("2/minute")

    async def run() -> None:
        _, created = await handlers.create_report(report(), OPERATOR, None)
        code = created["receipt_code"]
        for _ in range(10):
            assert await handlers.authenticate.principal(None, code, "10.0.0.1")
        for _ in range(2):
            with pytest.raises(Unauthenticated):
                await handlers.authenticate.principal(None, "WRONG", "10.0.0.1")
        with pytest.raises(RateLimited):
            await handlers.authenticate.principal(None, "WRONG", "10.0.0.1")
        with pytest.raises(RateLimited):  # over the limit: even the right code waits
            await handlers.by_receipt(code, "10.0.0.1")

    asyncio.run(run())


def test_a_reporter_sees_their_issue_masked_and_staff_see_it_as_written() -> None:
    handlers = intake()

    async def run() -> None:
        _, created = await handlers.create_report(report(), OPERATOR, None)
        mine = await handlers.by_receipt(created["receipt_code"], "10.0.0.1")
        assert mine["issue_id"] == created["issue_id"] and "13987654321" not in str(mine)
        staff = await handlers.issue(OPERATOR, created["issue_id"])
        assert staff["description"] == TEXT

    asyncio.run(run())


def test_personal_numbers_in_free_text_never_go_on_the_log_and_staff_still_read_them() -> None:
    handlers = intake()
    store, publisher = handlers.store, handlers.publisher
    assert isinstance(store, FakeStore) and isinstance(publisher, FakePublisher)
    address = "金水路1号, 联系0371-12345678"
    answer = "已电话告知 a@b.cn"
    body = report(location={"address": address}, direct_answer=answer, kind=Kind.CONSULTATION)

    async def run() -> None:
        _, created = await handlers.create_report(body, OPERATOR, None)
        on_log = " ".join(e.model_dump_json() for e in publisher.published)
        assert "IssueReported" in on_log and "IssueAnswered" in on_log
        for personal in ("13987654321", "12345678", "a@b.cn"):
            assert personal not in on_log
        assert "来电人***********反映路灯不亮" in on_log and "金水路1号" in on_log
        staff = await handlers.issue(OPERATOR, created["issue_id"])
        assert (staff["description"], staff["location"]["address"]) == (TEXT, address)
        written = await handlers.written([{"_id": created["issue_id"]}])
        assert written[0]["description"] == TEXT  # Open311's staff reads: views as stored
        plain = await handlers.create_report(report(text="路灯不亮"), OPERATOR, None)
        assert plain[1]["issue_id"] not in store.written  # nothing masked: nothing kept

    asyncio.run(run())


def test_an_office_s_words_on_an_action_go_on_the_log_masked() -> None:
    for body in (ResolveIn(result="已回电13987654321"), ReturnIn(reason="请联系13987654321")):
        assert "13987654321" not in body.model_dump_json()


def test_a_withheld_report_is_remembered_before_it_is_published() -> None:
    handlers = intake()
    store, publisher = handlers.store, handlers.publisher
    assert isinstance(store, FakeStore) and isinstance(publisher, FakePublisher)

    async def run() -> str:
        _, created = await handlers.create_report(report(public=False), OPERATOR, None)
        return str(created["issue_id"])

    issue_id = asyncio.run(run())
    assert store.withheld == {issue_id} and len(publisher.published) == 1


def test_a_retried_request_is_answered_once_and_a_reporter_may_not_report() -> None:
    handlers = intake()

    async def run() -> None:
        async def work(seed: uuid.UUID | None) -> tuple[int, Any]:
            return await handlers.create_report(report(), OPERATOR, seed)

        first = await handlers.idempotency.run(OPERATOR.id, "key-1", "print", work)
        again = await handlers.idempotency.run(OPERATOR.id, "key-1", "print", work)
        assert first[:2] == again[:2] and (first[2], again[2]) == (False, True)
        reporter = Principal(id="reporter:x", role=Role.REPORTER, issue_id="x")
        with pytest.raises(Forbidden):
            await handlers.create_report(report(), reporter, None)

    asyncio.run(run())


class Died(Exception):
    """The process died right after the broker acknowledged (the claim stays pending)."""


def test_a_retry_after_a_crash_between_publish_and_store_gets_the_first_answer() -> None:
    handlers = intake()
    store = handlers.store
    assert isinstance(store, FakeStore) and isinstance(handlers.publisher, FakePublisher)
    publisher = handlers.publisher

    def die() -> None:
        raise Died

    async def run() -> None:
        body = report()

        async def work(seed: uuid.UUID | None) -> tuple[int, Any]:
            return await handlers.create_report(body, OPERATOR, seed)

        async def recall(seed: uuid.UUID) -> tuple[int, Any] | None:
            return await handlers.recall_report(body, seed)

        handlers.after_publish = die
        with pytest.raises(Died):
            await handlers.idempotency.run(OPERATOR.id, "k", "print", work, recall)
        handlers.after_publish = None
        # the claim was released; the consumer then applies what reached the log
        await store.apply(publisher.published[0], 1)  # type: ignore[arg-type]
        code, answer, replayed = await handlers.idempotency.run(
            OPERATOR.id, "k", "print", work, recall
        )
        assert (code, replayed, answer["state"]) == (201, True, "received")
        assert answer["receipt_code"] == handlers.privacy.receipt_code(answer["issue_id"])
        assert len(publisher.published) == 1  # not run again

    asyncio.run(run())


def test_an_action_that_took_effect_is_replayed_not_refused_by_its_own_state() -> None:
    handlers = intake()
    store = handlers.store
    assert isinstance(store, FakeStore) and isinstance(handlers.publisher, FakePublisher)
    office = Principal(id="office:1", role=Role.OFFICE, office_id="street-1")

    async def run() -> None:
        _, created = await handlers.create_report(report(), OPERATOR, None)
        issue_id = created["issue_id"]
        store.views[issue_id] |= {"state": "assigned", "office_id": "street-1"}
        accept = AcceptIn()

        async def work(seed: uuid.UUID | None) -> tuple[int, Any]:
            return await handlers.act(Action.ACCEPT, issue_id, accept, office, seed)

        async def recall(seed: uuid.UUID) -> tuple[int, Any] | None:
            return await handlers.recall_action(Action.ACCEPT, issue_id, accept, office, seed)

        first = await handlers.idempotency.run(office.id, "a", "print", work, recall)
        store.claims.clear()  # as if the first attempt died before storing its answer
        again = await handlers.idempotency.run(office.id, "a", "print", work, recall)
        assert first[0] == again[0] == 200 and (first[2], again[2]) == (False, True)
        assert first[1] == again[1] and again[1]["state"] == "accepted"
        with pytest.raises(Conflict):  # a new request is refused by the state
            await handlers.idempotency.run(office.id, "b", "print", work, recall)

    asyncio.run(run())


def test_a_new_key_runs_without_a_look_and_a_released_one_is_taken_over_once() -> None:
    handlers = intake()
    store = handlers.store
    assert isinstance(store, FakeStore)
    ran: list[uuid.UUID | None] = []
    looked: list[uuid.UUID] = []

    async def work(seed: uuid.UUID | None) -> tuple[int, Any]:
        ran.append(seed)
        if len(ran) == 1:
            raise Died
        return 201, {"run": len(ran)}

    async def recall(seed: uuid.UUID) -> tuple[int, Any] | None:
        looked.append(seed)
        return None  # the first attempt never reached the log

    async def run() -> None:
        with pytest.raises(Died):
            await handlers.idempotency.run(OPERATOR.id, "k", "print", work, recall)
        assert looked == [] and [c["state"] for c in store.claims.values()] == ["released"]
        answer = await handlers.idempotency.run(OPERATOR.id, "k", "print", work, recall)
        assert answer == (201, {"run": 2}, False) and ran[0] == ran[1] == looked[0]
        again = await handlers.idempotency.run(OPERATOR.id, "k", "print", work, recall)
        assert again == (201, {"run": 2}, True) and len(ran) == 2

    asyncio.run(run())
