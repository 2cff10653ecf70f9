"""The scope of the reads: region codes checked at the edge, and the one containment rule
(contracts.regions.lies_in) expressed as the filter the store runs."""

import re
from collections.abc import Mapping
from typing import Any

import pytest

from services.contracts.regions import lies_in
from services.reporting.domain.scope import Scope, ScopeError, in_region, lies_in_region
from tests.reporting_events import Story
from tests.unit.reporting.reporting_fold import view
from tests.unit.reporting.test_reporting_rankings_lists import T0


def matches(doc: Mapping[str, Any], query: Mapping[str, Any]) -> bool:
    """What MongoDB answers for the few operators the scope filter uses, on one view."""
    for key, condition in query.items():
        if key == "$or":
            if not any(matches(doc, part) for part in condition):
                return False
            continue
        value = doc.get(key)
        if isinstance(condition, dict):
            for op, operand in condition.items():
                if op == "$ne" and (value == operand or (operand is None and key not in doc)):
                    return False
                if op == "$regex" and not (isinstance(value, str) and re.search(operand, value)):
                    return False
                if op == "$exists" and (key in doc) != operand:
                    return False
        elif isinstance(value, list):
            if condition not in value:
                return False
        elif value != condition:
            return False
    return True


SAMPLES = [
    view(Story("triaged", T0, region="411901002001").triage().events),
    view(Story("city-wide", T0, region="411900").triage().events),
    view(Story("direct", T0, region="411902001001", direct=True).events),
    view(Story("county", T0, region="411901").events),
    view(Story("no-code", T0, region="").events),
    # a triaged issue whose event carried no path (older events): by its code
    {"tier": "general", "region_code": "411901001", "region_path": ["411901001"]},
    # a fact an older derivation wrote (no `by_path`): by its code
    {"region_code": "411901001001", "region_path": ["411900", "411901"]},
]
REGIONS = [
    "410000", "411900", "411901", "411902", "411901001", "411901002", "411901002001",
    "411902001001", "411903", "411901002001001",
]  # fmt: skip


@pytest.mark.parametrize("region", REGIONS)
def test_the_store_filter_is_the_one_region_rule(region: str) -> None:
    for fact in SAMPLES:
        path = fact.get("region_path") if fact.get("by_path") else ()
        expected = lies_in(path or (), fact.get("region_code"), region)
        assert lies_in_region(fact, region) is expected, (fact, region)
        assert matches(fact, {"$or": in_region(region)}) is expected, (fact, region)


def test_a_triaged_issue_lies_on_its_path_and_a_direct_one_under_its_code() -> None:
    triaged, _, direct, *_ = SAMPLES
    assert [lies_in_region(triaged, r) for r in ("411900", "411901", "411902", "4119")] == [
        True, True, False, False,
    ]  # fmt: skip
    assert [lies_in_region(direct, r) for r in ("410000", "411900", "411902", "411901")] == [
        True, True, True, False,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "code",
    ["../../etc/passwd", "4119\x0000", "\x00", "４１１９００", "411900/../../", "4119", "41190a",
     "٤١١٩٠٠", "411900 ", ""],
)  # fmt: skip
def test_a_region_code_is_ascii_digits_of_a_known_length(code: str) -> None:
    with pytest.raises(ScopeError) as raised:
        Scope(region_code=code)
    assert raised.value.field == "region_code"


def test_the_region_codes_of_every_level_are_taken() -> None:
    for code in ("411900", "411901", "411901002", "411901002001", "411901002001001"):
        assert Scope(region_code=code).region_code == code
