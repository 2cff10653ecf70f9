"""Rankings of offices and of townships (排名) on a weighted score of 响应率, 解决率 and 满意率.

score = Σ weight × rate / Σ weight, over the rates that have a base (a township whose
issues were never visited is scored on its response rate alone); a unit with none of
the three has no score and comes last. Ties as published rankings have them: equal scores
share a rank (1, 1, 3), and among themselves the unit that handled more (assigned) comes
first, then the lower id. Pure.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from services.reporting.domain.rates import Rates, rates

RATES = ("response", "resolution", "satisfaction")


@dataclass(frozen=True)
class Weights:
    response: float
    resolution: float
    satisfaction: float

    def __post_init__(self) -> None:
        values = (self.response, self.resolution, self.satisfaction)
        if any(w < 0 for w in values) or sum(values) <= 0:
            raise ValueError("ranking weights must be non-negative and not all zero")

    def score(self, of: Rates) -> float | None:
        pairs: list[tuple[float, float]] = [
            (getattr(self, name), getattr(of, f"{name}_rate"))
            for name in RATES
            if getattr(of, f"{name}_rate") is not None
        ]
        total = sum(w for w, _ in pairs)
        if not pairs or total == 0:
            return None
        return round(sum(w * r for w, r in pairs) / total, 4)

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in RATES}


@dataclass(frozen=True)
class RankedUnit:
    rank: int
    id: str
    name: str | None
    score: float | None
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    assigned: int
    visited: int


def rank(
    facts: Iterable[Mapping[str, Any]],
    unit_of: Callable[[Mapping[str, Any]], str | None],
    weights: Weights,
    name_of: Callable[[Mapping[str, Any]], str | None] = lambda _: None,
) -> list[RankedUnit]:
    """Rank the units `unit_of` finds in the facts (facts without a unit are left out)."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    names: dict[str, str | None] = {}
    for fact in facts:
        unit = unit_of(fact)
        if unit is not None:
            groups[unit].append(fact)
            names[unit] = names.get(unit) or name_of(fact)
    return rank_units({unit: rates(members) for unit, members in groups.items()}, names, weights)


def rank_units(
    units: Mapping[str, Rates], names: Mapping[str, str | None], weights: Weights
) -> list[RankedUnit]:
    """Rank units by their rates (counted from facts, or summed from cells)."""
    scored = [(unit, counted, weights.score(counted)) for unit, counted in units.items()]
    scored.sort(key=lambda s: (s[2] is None, -(s[2] or 0.0), -s[1].assigned, s[0]))
    ranked: list[RankedUnit] = []
    for position, (unit, counted, score) in enumerate(scored, start=1):
        tied = bool(ranked) and ranked[-1].score == score
        ranked.append(
            RankedUnit(
                rank=ranked[-1].rank if tied else position,
                id=unit,
                name=names.get(unit),
                score=score,
                response_rate=counted.response_rate,
                resolution_rate=counted.resolution_rate,
                satisfaction_rate=counted.satisfaction_rate,
                assigned=counted.assigned,
                visited=counted.visited,
            )
        )
    return ranked


def office_of(fact: Mapping[str, Any]) -> str | None:
    """The office an issue counts for in the ranking: its current lead office, once assigned."""
    return fact.get("office_id") if fact.get("assigned") else None


def office_name(fact: Mapping[str, Any]) -> str | None:
    """The office's name as routing put it on IssueAssigned (None on events from before it
    was set: a reader then shows the id, see `named`)."""
    return fact.get("office_name") or None


def named(units: list[RankedUnit]) -> list[RankedUnit]:
    """The units, each unit without a name named by its id."""
    return [u if u.name else replace(u, name=u.id) for u in units]
