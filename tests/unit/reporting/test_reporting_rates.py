"""Reporting's rates over a scripted set of issues, against hand-computed figures."""

from datetime import UTC, datetime

from services.contracts.vocabulary import Satisfaction
from services.reporting.domain.rates import rates
from tests.reporting_events import Story
from tests.unit.reporting.reporting_fold import view

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
HAPPY, UNHAPPY = Satisfaction.SATISFIED, Satisfaction.DISSATISFIED


def test_a_scripted_day_gives_the_hand_computed_rates() -> None:
    problem = Story("i0", T0).triage().assign("o1").accept(1).resolve(2).visit(HAPPY, True, 1)
    day = [
        problem,
        Story("i1", T0).triage().assign("o1").accept(1).resolve(2).visit(UNHAPPY, False, 1)
        .reopen(0).assign("o1").accept(1).resolve(2).visit(HAPPY, True, 1),
        Story("i2", T0).triage().assign("o1").accept(30),  # accepted after its 1-day clock
        Story("i3", T0, direct=True).answer(0.1).visit(HAPPY, True, 2),  # 直办, then visited
        Story("i4", T0).merge_into(problem, 0.1),
        Story("i5", T0).triage().assign("o1"),  # never accepted
    ]  # fmt: skip
    result = rates(view(story.events) for story in day)
    assert (result.received, result.assigned, result.answered_directly) == (6, 4, 1)
    assert result.response_rate == 0.5  # i0 and i1 on time; i2 late; i5 never accepted
    assert result.completion_rate == 0.5  # i0 and i1 of 4 assigned
    assert (result.visited, result.solved, result.satisfied) == (3, 3, 3)  # last visit counts
    assert result.satisfaction_rate == result.resolution_rate == 1.0
    assert result.reopen_rate == 0.5  # i1 of the two resolved
    assert result.direct_handling_rate == round(1 / 6, 4)
    assert result.duplicate_rate == round(1 / 6, 4)


def test_no_base_no_rate() -> None:
    assert rates([]).response_rate is None
