"""The bench's arithmetic: quantiles with answers that never came, the first and last tenth
of a polled run, the growth flag, and a table the JSON after it can be found past."""

import json
import os

import pytest

from bench.figures import Sample, decile_costs, grows, pct, table
from devkit.procstat import CpuSnapshot, cpu_seconds, machine_busy_seconds, rss_mb


def test_a_quantile_is_in_milliseconds_and_counts_missing_answers_as_the_slowest() -> None:
    assert pct([0.010, 0.020, 0.030, 0.040], 0.5) == 30.0
    assert pct([0.010, 0.020], 0.5, missing=2) is None  # the median never came
    assert pct([0.010, 0.020, 0.030], 0.5, missing=1) == 30.0
    assert pct([], 0.99) is None


def test_each_tenth_is_divided_by_the_issues_done_between_the_looks_that_bound_it() -> None:
    # 100 issues; the look that passes 10 sees 12, the one before the last tenth sees 88
    samples = [
        Sample(0.0, 0, 0.0),
        Sample(1.0, 12, 1.2),
        Sample(5.0, 88, 9.0),
        Sample(6.0, 100, 11.4),
    ]
    assert decile_costs(samples, 100) == ((100.0, 83.3), (200.0, 83.3))


def test_tenths_met_in_one_look_still_cost_something() -> None:
    # six issues: the last two done between two looks
    samples = [Sample(0.0, 0, 0.0), Sample(1.0, 4, 0.8), Sample(1.1, 6, 1.0)]
    (first_cpu, _), (last_cpu, last_wall) = decile_costs(samples, 6) or ((0, 0), (0, 0))
    assert first_cpu == 200.0
    assert last_cpu == 100.0 and last_wall == 50.0
    assert decile_costs([Sample(0.0, 0, 0.0)], 6) is None


@pytest.mark.parametrize(
    ("first", "last", "flag"),
    [(100.0, 110.0, False), (100.0, 200.0, True), (0.5, 1.2, False), (0.0, 50.0, None),
     (None, 3.0, None), (40.0, 20.0, False)],
)  # fmt: skip
def test_a_cost_grows_when_the_last_tenth_exceeds_the_first_beyond_noise(
    first: float | None, last: float | None, flag: bool | None
) -> None:
    assert grows(first, last) is flag


def test_the_table_has_no_braces_so_the_json_after_it_is_found() -> None:
    printed = table([("engine", [("find", "3 /s", 'shape {"a": 1}')])])
    out = printed + "\n" + json.dumps({"x": 1})
    assert json.loads(out[out.index("{") : out.rindex("}") + 1]) == {"x": 1}
    assert "[engine]" in printed


def test_this_process_has_spent_cpu_and_holds_memory() -> None:
    me = os.getpid()
    before = CpuSnapshot.take({"me": me})
    sum(i * i for i in range(300_000))
    used = CpuSnapshot.take({"me": me}).since(before)
    assert set(used) == {"me", "other"} and used["other"] >= 0
    assert cpu_seconds(me) > 0 and rss_mb(me) > 1 and machine_busy_seconds() > 0
    assert cpu_seconds(2**22 + 7) == 0.0  # no such process
