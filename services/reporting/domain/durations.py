"""Time to accept and time to resolve as histograms, and the age of the backlog. Pure.

Each fact carries the bucket its duration fell in (facts.derive), so a $group gives the
count per bucket and a percentile is exact to a bucket: "p90 ≤ 24 h" means at least 90%
of the issues took at most 24 hours, and fewer than 90% took at most the bound below.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from services.reporting.domain.facts import label

INF = "+Inf"
PERCENTILES = (0.5, 0.9)


def histogram(counts: Mapping[str, int], bounds: Sequence[float]) -> dict[str, Any]:
    """Buckets (`le`, `count`, `cumulative`), the total and the p50/p90 bucket bounds."""
    labels = [label(b) for b in bounds] + [INF]
    total = sum(counts.get(name, 0) for name in labels)
    buckets, cumulative = [], 0
    for name in labels:
        cumulative += counts.get(name, 0)
        buckets.append({"le": name, "count": counts.get(name, 0), "cumulative": cumulative})
    return {
        "count": total,
        "buckets": buckets,
        **{f"p{round(p * 100)}_le": percentile_bound(buckets, total, p) for p in PERCENTILES},
    }


def percentile_bound(buckets: Sequence[Mapping[str, Any]], total: int, p: float) -> str | None:
    """The smallest bucket bound under which at least a share `p` of the durations fall."""
    if total == 0:
        return None
    for bucket in buckets:
        if bucket["cumulative"] >= p * total:
            return str(bucket["le"])
    return INF


def age_buckets(ages_days: Sequence[float], bounds: Sequence[float]) -> list[dict[str, Any]]:
    """How many backlog issues are at most each age (days) old, bucket by bucket."""
    return counted_age_buckets(dict.fromkeys(ages_days, 0) | _tally(ages_days), bounds)


def counted_age_buckets(
    issues_by_age: Mapping[float, int], bounds: Sequence[float]
) -> list[dict[str, Any]]:
    """The same from how many issues have each age (days)."""
    labels = [label(b) for b in bounds] + [INF]
    counts = dict.fromkeys(labels, 0)
    for age, n in issues_by_age.items():
        counts[next((label(b) for b in bounds if age <= b), INF)] += n
    return [{"le_days": name, "count": n} for name, n in counts.items()]


def _tally(values: Sequence[float]) -> dict[float, int]:
    out: dict[float, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out
