"""The arithmetic of `make bench`'s figures, and the one table it prints: pure, no I/O."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

GROWTH_TOLERANCE = 0.25
"""The last decile may cost this much more than the first before the bench flags it: CPU
samples are in clock ticks and the machine is shared, so a few tens of per cent is noise."""


def pct(values: Sequence[float], p: float, missing: int = 0) -> float | None:
    """The `p` quantile of `values` (seconds) in milliseconds, counting `missing` values as
    larger than all of them (answers that never came); None when the quantile falls among
    the missing ones or there is nothing."""
    n = len(values) + missing
    if n == 0:
        return None
    rank = min(int(n * p), n - 1)
    if rank >= len(values):
        return None
    return round(sorted(values)[rank] * 1000, 1)


@dataclass(frozen=True)
class Sample:
    """One look at the run: when, how many issues were through, CPU seconds used so far."""

    at: float
    done: int
    cpu: float


def decile_costs(
    samples: Sequence[Sample], total: int, share: float = 0.1
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """CPU ms and wall ms per issue in the first and in the last `share` of `total` issues.

    Samples come from polling, so a mark may be passed between two looks: each decile runs
    from a look to a look and is divided by the issues actually done between them (at least
    one), never by the mark's nominal size."""
    if total <= 0 or len(samples) < 2:
        return None
    size = max(1, round(total * share))
    start, end = samples[0], samples[-1]
    first_end = next((s for s in samples if s.done >= start.done + size), end)
    last_start = next(
        (s for s in reversed(samples) if s.done <= end.done - size and s.at < end.at), start
    )

    def cost(a: Sample, b: Sample) -> tuple[float, float]:
        issues = max(b.done - a.done, 1)
        return round((b.cpu - a.cpu) / issues * 1000, 1), round((b.at - a.at) / issues * 1000, 1)

    return cost(start, first_end), cost(last_start, end)


def grows(
    first: float | None, last: float | None, tolerance: float = GROWTH_TOLERANCE
) -> bool | None:
    """Whether the last decile's figure exceeds the first's by more than `tolerance` (and by
    more than a millisecond); None when there is nothing to compare with."""
    if not first or last is None:
        return None
    return last > first * (1 + tolerance) and last - first > 1.0


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 1) if a and b else None


Row = tuple[str, str, str]  # figure, value, note


def value(v: Any, unit: str = "") -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        v = f"{v:,.1f}" if abs(v) < 1e6 else f"{v:,.0f}"
    elif isinstance(v, int):
        v = f"{v:,}"
    return f"{v} {unit}".strip()


def table(sections: Sequence[tuple[str, Sequence[Row]]]) -> str:
    """One plain table, a heading line per section. No braces anywhere: the JSON printed
    after it is found by its first and last brace."""
    rows = [row for _, section in sections for row in section]
    w0 = max([len(r[0]) for r in rows] + [6])
    w1 = max([len(r[1]) for r in rows] + [5])
    rule = f"{'-' * w0}  {'-' * w1}  {'-' * 20}"
    lines = [f"{'figure'.ljust(w0)}  {'value'.rjust(w1)}  note", rule]
    for title, section in sections:
        lines.append(f"[{title}]")
        lines += [f"{f.ljust(w0)}  {v.rjust(w1)}  {n}".rstrip() for f, v, n in section]
    lines.append(rule)
    return "\n".join(lines).replace("{", "(").replace("}", ")")
