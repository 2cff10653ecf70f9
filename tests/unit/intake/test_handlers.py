"""Intake's use cases on fakes of its ports: receipt codes share one limit wherever they are
checked, a reporter's code shows masked text, a withheld report is remembered before it is
published, and a retried request is answered once."""

import asyncio
import uuid
from typing import Any

import pytest

from services.contracts.vocabulary import Channel, Kind
from services.intake.domain.errors import Forbidden, RateLimited, Unauthenticated
from services.intake.domain.privacy import Privacy
from services.intake.domain.reports import ReportIn
from services.intake.domain.rules import Principal, Role
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
