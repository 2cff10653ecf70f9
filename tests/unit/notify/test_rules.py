"""Notify's pure rules: who gets what, the words, quiet hours, backoff, signing, masking."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from services.contracts.events import (
    ExtensionRequested,
    ExtensionRequestedPayload,
    IssueAssigned,
    IssueAssignedPayload,
    IssueFlagged,
    IssueFlaggedPayload,
    IssueReported,
    IssueReportedPayload,
    ReminderSent,
    ReminderSentPayload,
)
from services.contracts.vocabulary import Channel, ClockKind, Flag, Kind, Level
from services.notify.adapters.config_file import DEFAULT_CONFIG_PATH, load_config
from services.notify.domain.config import Audience, ChannelName, NotifyConfig, QuietHours, Retry
from services.notify.domain.delivery import NoRecipient, SendError, State, after_failure
from services.notify.domain.kinds import KINDS, triggers
from services.notify.domain.plan import IssueView, delivery_id, plan
from services.notify.domain.privacy import mask
from services.notify.domain.schedule import backoff, in_quiet_hours, is_stale, release_at
from services.notify.domain.signing import sign, verify
from services.notify.domain.words import SMS_LIMIT, TemplateError, check_sms_length, fill, words

SHANGHAI = ZoneInfo("Asia/Shanghai")
CITY = load_config(DEFAULT_CONFIG_PATH)
ISSUE = "3f2a9c1e-0000-4000-8000-000000000001"
OFFICES = Path(__file__).resolve().parents[3] / "deploy/config/city/offices.yaml"

LONGEST = {
    "ref": "3f2a9c1e",
    "issue_id": ISSUE,
    "receipt_code": "ABCDEFGHJK",
    "public_url": CITY.reporters.public_url,
    "office_name": max((o["name"] for o in yaml.safe_load(OFFICES.read_text())), key=len),
    "clock": "签收",
    "clock_en": "return_visit",
    "percent": "100%",
    "days": "30",
}


def reported(reporter: str | None = "r-1") -> IssueReported:
    payload = IssueReportedPayload(
        channel=Channel.HOTLINE, kind=Kind.COMPLAINT, text="路灯坏了", reporter_id=reporter
    )
    return IssueReported(issue_id=ISSUE, producer="intake", payload=payload)


def assigned(office: str, co: tuple[str, ...] = ()) -> IssueAssigned:
    payload = IssueAssignedPayload(
        office_id=office, office_name="城管局", co_office_ids=co, level=Level.CITY, reason="r"
    )
    return IssueAssigned(issue_id=ISSUE, producer="routing", payload=payload)


def config(**overrides: object) -> NotifyConfig:
    return NotifyConfig.model_validate({**CITY.model_dump(), **overrides})


# --- the city's templates -------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(CITY.messages))
def test_every_template_fills_and_fits_one_sms(kind: str) -> None:
    rule = CITY.messages[kind]
    check_sms_length(rule, LONGEST)
    filled = words(rule, LONGEST)
    assert filled.zh and filled.en and filled.subject
    assert filled.email.startswith(filled.zh) and filled.en in filled.email


def test_the_city_configures_every_kind_and_reporters_get_their_receipt_code() -> None:
    assert set(CITY.messages) == set(KINDS)
    for kind in ("receipt", "answered", "resolved", "return_visit"):
        assert CITY.messages[kind].to == (Audience.REPORTER,)
        assert "{receipt_code}" in CITY.messages[kind].zh
    for kind, rule in CITY.messages.items():
        if Audience.REPORTER not in rule.to:
            assert "receipt_code" not in rule.zh + rule.en, kind  # a reporter's credential


def test_a_template_too_long_or_asking_for_a_missing_value_is_refused() -> None:
    rule = CITY.messages["receipt"].model_copy(update={"zh": "长" * (SMS_LIMIT + 1)})
    with pytest.raises(TemplateError):
        check_sms_length(rule, LONGEST)
    with pytest.raises(TemplateError, match="phone"):
        fill("call {phone}", {"ref": "x"})


def test_an_unknown_kind_in_the_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown message kinds"):
        config(messages={"gossip": CITY.messages["receipt"].model_dump()})


# --- who gets what --------------------------------------------------------------------------


def test_the_receipt_goes_to_a_known_reporter_only() -> None:
    view = IssueView(ISSUE, has_reporter=True)
    [intent] = plan(triggers(reported()), view, CITY)
    assert (intent.kind, intent.recipient, intent.channel, intent.address) == (
        "receipt", "reporter", ChannelName.SMS, None,
    )  # fmt: skip
    assert intent.urgent
    assert plan(triggers(reported(None)), IssueView(ISSUE), CITY) == []


def test_an_assignment_reaches_the_lead_and_each_co_office_on_their_channels() -> None:
    event = assigned("411900-urban_management", ("411901-housing", "411900-urban_management"))
    view = IssueView(
        ISSUE, office_id=event.payload.office_id, co_office_ids=event.payload.co_office_ids
    )
    intents = plan(triggers(event), view, config(default_office={"email": "o@x.cn"}))
    got = [(i.kind, i.recipient, i.channel.value, i.address) for i in intents]
    assert got == [
        ("assigned", "office:411900-urban_management", "email", "cgj@zz.gov.cn"),
        ("assigned", "office:411900-urban_management", "sms", "13800138000"),
        ("co_assigned", "office:411901-housing", "email", "o@x.cn"),
    ]  # the lead listed as co-office too gets one message, not two


def test_a_red_flag_reaches_the_office_and_the_supervisors_of_its_region_at_once() -> None:
    flag = IssueFlagged(
        issue_id=ISSUE, producer="supervision",
        payload=IssueFlaggedPayload(flag=Flag.RED, clock=ClockKind.RESOLVE, office_id="X"),
    )  # fmt: skip
    inside = IssueView(ISSUE, region_path=("411900", "411901"), office_id="X")
    outside = IssueView(ISSUE, region_path=("420100",), office_id="X")
    cfg = config(offices={"X": {"email": "x@x.cn"}})
    inside_plan = plan(triggers(flag), inside, cfg)
    assert [(i.kind, i.recipient, i.urgent) for i in inside_plan] == [
        ("red_flag", "office:X", True), ("red_flag", "supervisor:0", True),
    ]  # fmt: skip
    assert [i.recipient for i in plan(triggers(flag), outside, cfg)] == ["office:X"]


def test_a_reminder_names_its_clock_and_share_and_extension_requests_go_to_supervisors() -> None:
    reminder = ReminderSent(
        issue_id=ISSUE, producer="supervision",
        payload=ReminderSentPayload(clock=ClockKind.ACCEPT, office_id="X", threshold=0.8),
    )  # fmt: skip
    [trigger] = triggers(reminder)
    assert trigger.values == {"clock": "签收", "clock_en": "accept", "percent": "80%"}
    request = ExtensionRequested(
        issue_id=ISSUE, producer="intake",
        payload=ExtensionRequestedPayload(office_id="X", working_days=5, reason="r"),
    )  # fmt: skip
    view = IssueView(ISSUE, region_code="411901002")
    [intent] = plan(triggers(request), view, CITY)
    assert (intent.kind, intent.recipient, intent.address) == (
        "extension_requested", "supervisor:0", "dcs@zz.gov.cn",
    )  # fmt: skip
    assert not intent.urgent


def test_the_delivery_id_is_the_same_for_the_same_event_recipient_and_channel() -> None:
    event = uuid.uuid4()
    assert delivery_id(event, "a@x.cn", "email") == delivery_id(str(event), "a@x.cn", "email")
    assert delivery_id(event, "a@x.cn", "email") != delivery_id(event, "a@x.cn", "sms")
    assert delivery_id(event, "a@x.cn", "email") != delivery_id(uuid.uuid4(), "a@x.cn", "email")


# --- when -----------------------------------------------------------------------------------


def local(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def test_quiet_hours_hold_what_is_not_urgent_until_the_morning() -> None:
    quiet = QuietHours()
    assert in_quiet_hours(local(23), quiet, SHANGHAI) and in_quiet_hours(
        local(7, 59), quiet, SHANGHAI
    )
    assert not in_quiet_hours(local(8), quiet, SHANGHAI)
    assert release_at(local(23), urgent=False, quiet=quiet, zone=SHANGHAI) == local(8, day=3)
    assert release_at(local(3), urgent=False, quiet=quiet, zone=SHANGHAI) == local(8)
    assert release_at(local(23), urgent=True, quiet=quiet, zone=SHANGHAI) == local(23)
    assert release_at(local(12), urgent=False, quiet=quiet, zone=SHANGHAI) == local(12)
    assert release_at(local(23), urgent=False, quiet=None, zone=SHANGHAI) == local(23)


def test_retries_back_off_then_the_delivery_is_dead() -> None:
    retry = Retry(attempts=3, first_pause_seconds=10, max_pause_seconds=25)
    assert [backoff(n, retry) for n in (1, 2, 3)] == [timedelta(seconds=s) for s in (10, 20, 25)]
    now = local(12)
    error = SendError("gateway answered 503")
    assert after_failure(1, error, now, retry).state is State.PENDING
    assert after_failure(2, error, now, retry).due_at == now + timedelta(seconds=20)
    assert after_failure(3, error, now, retry).state is State.DEAD
    assert after_failure(1, SendError("refused", final=True), now, retry).state is State.DEAD
    assert after_failure(1, NoRecipient("no phone"), now, retry).state is State.SKIPPED


# --- signing, masking -----------------------------------------------------------------------


def test_a_webhook_signature_verifies_and_a_changed_or_stale_one_does_not() -> None:
    body = b'{"id": "x"}'
    signature = sign("k", 1_700_000_000, body)
    assert signature.startswith("sha256=")
    assert verify("k", 1_700_000_000, body, signature, now=1_700_000_010)
    assert not verify("k", 1_700_000_000, body + b" ", signature, now=1_700_000_010)
    assert not verify("other", 1_700_000_000, body, signature, now=1_700_000_010)
    assert not verify("k", 1_700_000_000, body, signature, now=1_700_001_000)
    assert not verify("k", 1_700_000_000, body, "sha256=é", now=1_700_000_010)  # not a TypeError


def test_addresses_are_masked() -> None:
    assert mask("13800138000") == "138****8000"
    assert mask("+86 138 0013 8000") == "861****8000"
    assert mask("zhang.san@example.cn") == "z***@example.cn"
    assert mask("12") == "****"


def test_an_old_fact_is_stale_and_a_fresh_or_future_one_is_not() -> None:
    now = local(12)
    assert is_stale(now - timedelta(hours=49), now, CITY.stale_after)
    assert not is_stale(now - timedelta(hours=47), now, CITY.stale_after)
    assert not is_stale(now + timedelta(hours=5), now, CITY.stale_after)
