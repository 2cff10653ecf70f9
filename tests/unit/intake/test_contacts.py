"""Notify's look-up of a reporter's contact: its token only (constant-time compare), the
unsealed phone and the receipt code, 404 for an anonymous report."""

import asyncio
import uuid

import pytest

from services.intake.domain.errors import NotFound, Unauthenticated
from services.intake.domain.privacy import Privacy
from services.intake.handlers.contacts import ReporterContacts
from tests.unit.intake.fakes import FakeStore

PRIVACY = Privacy("k")


def contacts(token: str = "notify-token") -> tuple[ReporterContacts, FakeStore]:
    store = FakeStore()
    store.contacts["i1"] = ("r1", PRIVACY.seal({"phone": "13912345678", "name": "张三"}))
    return ReporterContacts(store, PRIVACY, token), store


def test_notify_gets_the_phone_and_the_receipt_code() -> None:
    handler, _ = contacts()
    answer = asyncio.run(handler.of("notify-token", "i1"))
    assert answer == {
        "phone": "13912345678", "email": "", "receipt_code": PRIVACY.receipt_code("i1")
    }  # fmt: skip


@pytest.mark.parametrize("token", [None, "", "wrong", "notify-token "])
def test_anyone_else_is_refused(token: str | None) -> None:
    handler, _ = contacts()
    with pytest.raises(Unauthenticated):
        asyncio.run(handler.of(token, "i1"))


def test_no_token_configured_refuses_everyone() -> None:
    handler, _ = contacts(token="")
    with pytest.raises(Unauthenticated):
        asyncio.run(handler.of("", "i1"))


def test_an_anonymous_report_has_no_contact() -> None:
    handler, _ = contacts()
    with pytest.raises(NotFound):
        asyncio.run(handler.of("notify-token", str(uuid.uuid4())))
