from pathlib import Path

import pytest
from pydantic import ValidationError

from services.contracts.events import IssueReportedPayload
from services.contracts.vocabulary import Channel, Kind, Level
from services.routing.domain import UNCATEGORISED, DispatchRules, judge

CONFIG = Path(__file__).resolve().parents[2] / "deploy/config/dispatch.yaml"


@pytest.fixture(scope="module")
def rules() -> DispatchRules:
    return DispatchRules.load(CONFIG)


def report(text: str, category: str | None = None) -> IssueReportedPayload:
    return IssueReportedPayload(
        channel=Channel.WEB, kind=Kind.COMPLAINT, text=text, category=category
    )


def test_a_given_category_goes_to_its_responsible_office(rules: DispatchRules) -> None:
    decision = judge(report("楼下水管爆了", category="water_supply"), rules)
    assert decision.office_id == "city-water-affairs"
    assert decision.level is Level.CITY
    assert "given by the report" in decision.reason


def test_the_category_is_inferred_from_the_text(rules: DispatchRules) -> None:
    decision = judge(report("小区路灯坏了三天"), rules)
    assert (decision.category, decision.office_id) == ("street_lighting", "city-urban-management")
    assert "路灯" in decision.reason


def test_an_unmatched_report_goes_to_the_default_office_and_says_why(rules: DispatchRules) -> None:
    decision = judge(report("想咨询社保转移"), rules)
    assert decision.category == UNCATEGORISED
    assert decision.office_id == rules.default_office
    assert "default office" in decision.reason


def test_a_rule_naming_an_unknown_office_is_refused_with_its_field() -> None:
    with pytest.raises(ValidationError, match=r"categories\.noise: unknown office 'nobody'"):
        DispatchRules.model_validate(
            {
                "default_office": "a",
                "offices": {"a": {"name": "A", "level": "city"}},
                "categories": {"noise": "nobody"},
            }
        )
