"""The supervision policy: the shipped 13710 file, overrides, and errors that name the field."""

from pathlib import Path

import pytest

from services.contracts.vocabulary import Channel, ClockKind, Tier
from services.supervision.adapters.files import DEFAULT_POLICY_PATH, load_policy
from services.supervision.domain.policy import Policy, PolicyError, Thresholds, parse_policy


def test_the_shipped_policy_is_the_13710_default() -> None:
    policy = load_policy(DEFAULT_POLICY_PATH)
    assert policy == Policy()
    assert policy.timezone == "Asia/Shanghai"
    assert policy.terms(ClockKind.ACCEPT).working_days == 1
    assert policy.terms(ClockKind.RETURN_VISIT).working_days == 1
    resolve = {tier: policy.terms(ClockKind.RESOLVE, tier=tier).working_days for tier in Tier}
    assert resolve == {Tier.GENERAL: 3, Tier.COMPLEX: 7, Tier.STRUCTURAL: 10, Tier.INDIVIDUAL: 3}
    steps = policy.terms(ClockKind.RESOLVE, tier=Tier.GENERAL).thresholds
    assert steps == Thresholds(reminders=(50, 80), yellow=100, red=150)
    assert steps.red_on_second_overdue and steps.escalate_on_red
    assert policy.escalation.rungs == 1
    assert policy.extensions.auto_grant_max_working_days == 3
    assert policy.extensions.auto_grant_times == 1


def test_the_resolve_clock_needs_a_tier() -> None:
    with pytest.raises(ValueError, match="tier"):
        Policy().terms(ClockKind.RESOLVE)


OVERRIDES = {
    "overrides": {
        "channels": {
            "enterprise_visit": {
                "clocks": {"accept": 2, "resolve": {"general": 2, "complex": 5}},
                "steps": {"reminders": [30, 60, 90]},
            }
        },
        "categories": {
            "water_supply": {"clocks": {"resolve": {"general": 1}}, "steps": {"red": 120}},
        },
    }
}


def test_overrides_change_only_what_they_name() -> None:
    policy = parse_policy(OVERRIDES)
    water = policy.terms(ClockKind.RESOLVE, tier=Tier.GENERAL, category="water_supply")
    assert water.working_days == 1
    assert water.thresholds == Thresholds(red=120)
    assert (
        policy.terms(ClockKind.RESOLVE, tier=Tier.COMPLEX, category="water_supply").working_days
        == 7
    )
    assert policy.terms(ClockKind.ACCEPT, category="water_supply").working_days == 1
    enterprise = policy.terms(
        ClockKind.RESOLVE, tier=Tier.GENERAL, channel=Channel.ENTERPRISE_VISIT
    )
    assert (enterprise.working_days, enterprise.thresholds.reminders) == (2, (30, 60, 90))
    assert policy.terms(ClockKind.ACCEPT, channel=Channel.ENTERPRISE_VISIT).working_days == 2
    assert policy.terms(ClockKind.RESOLVE, tier=Tier.GENERAL, category="noise").working_days == 3
    assert policy.terms(ClockKind.RESOLVE, tier=Tier.GENERAL, channel=Channel.WEB).working_days == 3


def test_a_category_override_wins_over_a_channel_override() -> None:
    policy = parse_policy(OVERRIDES)
    both = policy.terms(
        ClockKind.RESOLVE,
        tier=Tier.GENERAL,
        category="water_supply",
        channel=Channel.ENTERPRISE_VISIT,
    )
    assert both.working_days == 1  # the category's
    assert both.thresholds == Thresholds(reminders=(30, 60, 90), red=120)  # merged, field by field
    complex_ = policy.terms(
        ClockKind.RESOLVE,
        tier=Tier.COMPLEX,
        category="water_supply",
        channel=Channel.ENTERPRISE_VISIT,
    )
    assert complex_.working_days == 5  # the category leaves it to the channel


def load_yaml(tmp_path: Path, text: str) -> Policy:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path)


def test_a_partial_file_inherits_the_defaults(tmp_path: Path) -> None:
    policy = load_yaml(tmp_path, "clocks:\n  resolve:\n    general: 2\n")
    assert policy.terms(ClockKind.RESOLVE, tier=Tier.GENERAL).working_days == 2
    assert policy.terms(ClockKind.RESOLVE, tier=Tier.COMPLEX).working_days == 7
    assert load_yaml(tmp_path, "") == Policy()


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"clocks": {"resolve": {"complex": 0}}}, "clocks.resolve.complex"),
        ({"clocks": {"accept": "soon"}}, "clocks.accept"),
        ({"clocks": {"resolve": {"urgent": 1}}}, "clocks.resolve.urgent"),
        ({"clock": {"accept": 1}}, "clock"),
        ({"steps": {"reminders": [80, 50]}}, "steps.reminders"),
        ({"steps": {"reminders": [50, 100]}}, "steps.reminders"),
        ({"steps": {"red": 100}}, "steps.red"),
        ({"steps": {"yellow": 0}}, "steps.yellow"),
        ({"escalation": {"rungs": 5}}, "escalation.rungs"),
        ({"extensions": {"auto_grant_clocks": ["lunch"]}}, "extensions.auto_grant_clocks.0"),
        ({"timezone": "Asia/Beijing"}, "timezone"),
        ({"overrides": {"channels": {"fax": {}}}}, "overrides.channels.fax.[key]"),
        (
            {"overrides": {"categories": {"noise": {"clocks": {"resolve": {"general": -1}}}}}},
            "overrides.categories.noise.clocks.resolve.general",
        ),
        (
            {"overrides": {"categories": {"noise": {"steps": {"reminders": [50, 120]}}}}},
            "overrides.categories.noise.steps.reminders",
        ),
        (
            {
                "overrides": {
                    "channels": {"web": {"steps": {"yellow": 140}}},
                    "categories": {"noise": {"steps": {"red": 130}}},
                }
            },
            "overrides.channels.web + overrides.categories.noise.steps.red",
        ),
    ],
)
def test_an_invalid_policy_names_the_field(document: dict[str, object], field: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(document, "test.yaml")
    assert field in raised.value.fields
    assert field in str(raised.value)
    assert "test.yaml" in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_every_error_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as raised:
        load_yaml(tmp_path, "clocks: {accept: 0, return_visit: 0}\ntimezone: Nowhere/Land\n")
    assert set(raised.value.fields) == {"clocks.accept", "clocks.return_visit", "timezone"}


@pytest.mark.parametrize(
    ("text", "field"),
    [("clocks: [1, 3, 7, 10]\n", "clocks"), ("- 1\n- 3\n", "(document)"), ("a: [b\n", "(yaml)")],
)
def test_a_malformed_file_is_a_policy_error(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(PolicyError) as raised:
        load_yaml(tmp_path, text)
    assert raised.value.fields == (field,)


def test_a_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"missing\.yaml"):
        load_policy(tmp_path / "missing.yaml")
