"""Intake's pure rules: who may do what in which state, what actions say, privacy, limits."""

import asyncio
import uuid
from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest
from starlette.requests import Request

from services.contracts.vocabulary import IssueState, Satisfaction
from services.intake.domain.actions import AcceptIn, VerifyIn, VisitIn, action_events
from services.intake.domain.catalogue import Catalogue
from services.intake.domain.errors import RateLimited, Refused
from services.intake.domain.privacy import Privacy, secret_hash
from services.intake.domain.rules import (
    RULES,
    Act,
    Action,
    Checked,
    Principal,
    Role,
    check,
    may_see,
)
from services.intake.domain.throttling import Limit
from services.intake.entrypoints.auth import limited
from services.intake.entrypoints.errors import status_of
from services.intake.entrypoints.open311_format import render, service_request
from tests.unit.intake.fakes import CountingThrottle

OFFICE = Principal("o1", Role.OFFICE, office_id="water")
OPERATOR = Principal("op", Role.OPERATOR)
REPORTER = Principal("r", Role.REPORTER, issue_id="issue-1")
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def test_an_office_accepts_only_what_is_assigned_to_it_now() -> None:
    check(Action.ACCEPT, OFFICE, IssueState.ASSIGNED, "water", "issue-1")
    with pytest.raises(Refused) as wrong_office:
        check(Action.ACCEPT, OFFICE, IssueState.ASSIGNED, "roads", "issue-1")
    assert status_of(wrong_office.value) == 403
    with pytest.raises(Refused) as wrong_state:
        check(Action.ACCEPT, OFFICE, IssueState.RESOLVED, "water", "issue-1")
    assert status_of(wrong_state.value) == 409
    assert "resolved" in wrong_state.value.reason


def test_every_outside_action_and_every_other_act_has_its_rule() -> None:
    assert set(RULES) == {*Action, *Act}


@pytest.mark.parametrize("action", list(RULES))
def test_every_action_is_refused_to_a_role_it_does_not_name(action: Checked) -> None:
    allowed = RULES[action].roles
    for role in Role:
        who = Principal("x", role, office_id="water", region_code="411905003", issue_id="issue-1")
        state = next(iter(RULES[action].states), None)
        place = ("411900", "411905", "411905003")
        if role in allowed:
            check(action, who, state, "water", "issue-1", place)
        else:
            with pytest.raises(Refused) as refused:
                check(action, who, state, "water", "issue-1", place)
            assert status_of(refused.value) == 403


def test_a_reporter_acts_and_sees_only_their_own_issue() -> None:
    check(Action.VISIT, REPORTER, IssueState.RESOLVED, "water", "issue-1")
    with pytest.raises(Refused):
        check(Action.VISIT, REPORTER, IssueState.RESOLVED, "water", "issue-2")
    assert may_see(REPORTER, "issue-1", "water", [])
    assert not may_see(REPORTER, "issue-2", "water", [])
    assert may_see(OFFICE, "issue-9", "roads", ["water"]), "a co-office sees the issue"
    assert not may_see(OFFICE, "issue-9", "roads", [])


def test_a_dissatisfied_visit_reopens_with_a_deterministic_id() -> None:
    cause = uuid.uuid4()
    body = VisitIn(satisfaction=Satisfaction.DISSATISFIED, solved=False)
    first = action_events(Action.VISIT, body, REPORTER, "issue-1", "water", NOW, cause)
    again = action_events(Action.VISIT, body, REPORTER, "issue-1", "water", NOW, cause)
    assert [e.type for e in first] == ["IssueVisited", "IssueReopened"]
    assert [e.event_id for e in first] == [e.event_id for e in again]
    satisfied = VisitIn(satisfaction=Satisfaction.BASICALLY_SATISFIED, solved=True)
    assert len(action_events(Action.VISIT, satisfied, REPORTER, "issue-1", None, NOW, cause)) == 1
    failed = action_events(Action.VERIFY, VerifyIn(passed=False), OPERATOR, "i", None, NOW, cause)
    assert [e.type for e in failed] == ["IssueVerified", "IssueReopened"]
    [accepted] = action_events(Action.ACCEPT, AcceptIn(), OFFICE, "i", "water", NOW, cause)
    assert accepted.payload.model_dump() == {"office_id": "water"}


def test_pseudonyms_are_stable_keyed_and_never_the_number() -> None:
    privacy = Privacy("k1")
    assert privacy.pseudonym("139-8765-4321") == privacy.pseudonym("13987654321")
    assert privacy.pseudonym("13987654321") != Privacy("k2").pseudonym("13987654321")
    assert "13987654321" not in privacy.pseudonym("13987654321")
    sealed = privacy.seal({"phone": "13987654321", "name": "张三"})
    assert "13987654321" not in sealed and "张三" not in sealed
    assert privacy.unseal(sealed) == {"phone": "13987654321", "name": "张三"}
    assert secret_hash("token") != "token" and len(secret_hash("token")) == 64


def test_the_rate_limit_answers_429_past_the_window() -> None:
    check_limit = limited(CountingThrottle(Limit.parse("2/minute")), "receipts")
    request = Request({"type": "http", "client": ("10.0.0.1", 5000), "headers": []})
    asyncio.run(check_limit(request))
    asyncio.run(check_limit(request))
    with pytest.raises(RateLimited) as refused:
        asyncio.run(check_limit(request))
    assert status_of(refused.value) == 429 and 0 < refused.value.retry_after <= 60
    other = Request({"type": "http", "client": ("10.0.0.2", 5000), "headers": []})
    asyncio.run(check_limit(other))


def test_open311_xml_names_items_as_the_spec_does() -> None:
    response = render("xml", "service_requests", [{"service_request_id": "1", "lat": 34.7}])
    root = ElementTree.fromstring(bytes(response.body))
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") == "1"
    assert root.findtext("request/lat") == "34.7"


def test_open311_xml_stays_well_formed_whatever_the_text_holds() -> None:
    response = render(
        "xml", "errors", [{"code": 404, "description": "service_code \x00\x1f\ud800 not found"}]
    )
    root = ElementTree.fromstring(bytes(response.body))
    assert root.findtext("error/description") == "service_code \ufffd\ufffd\ufffd not found"


def test_open311_shows_a_stored_media_link_only_when_it_is_an_http_link() -> None:
    """Reports stored before media URLs had to be http(s) links may hold others: never shown."""
    none = Catalogue(groups=())
    links = ["javascript:alert(1)", "data:text/html,x", "https://a.example/p.jpg"]
    shown = {
        str(stored): service_request({"_id": "i1", "media_urls": stored}, none)["media_url"]
        for stored in (links, links[:1], [])
    }
    assert list(shown.values()) == ["https://a.example/p.jpg", None, None]
