"""The rates of domain.md ("What gets counted") over a set of issue facts (views). Pure.

A rate is None when its base is zero. Every issue counts in the scope of its current
office (the last assignment), its region and every region above it, and its category.
"""

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from services.contracts.vocabulary import Satisfaction


@dataclass(frozen=True)
class Rates:
    """Counts and rates over a scope and period."""

    received: int
    answered_directly: int
    assigned: int
    accepted_on_time: int
    resolved: int
    resolved_on_time: int
    visited: int
    solved: int
    satisfied: int
    reopened: int
    merged: int

    @property
    def direct_handling_rate(self) -> float | None:
        """直办率: answered at intake / received."""
        return _ratio(self.answered_directly, self.received)

    @property
    def response_rate(self) -> float | None:
        """响应率: assigned issues accepted within their (first) accept clock."""
        return _ratio(self.accepted_on_time, self.assigned)

    @property
    def completion_rate(self) -> float | None:
        """办结率: assigned issues resolved at least once / assigned."""
        return _ratio(self.resolved, self.assigned)

    @property
    def on_time_rate(self) -> float | None:
        """按时办结率: first resolutions within the (first) resolve clock / resolved."""
        return _ratio(self.resolved_on_time, self.resolved)

    @property
    def resolution_rate(self) -> float | None:
        """解决率: visited issues whose reporter says (at the last visit) it was solved."""
        return _ratio(self.solved, self.visited)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: (satisfied + basically satisfied, at the last visit) / visited."""
        return _ratio(self.satisfied, self.visited)

    @property
    def reopen_rate(self) -> float | None:
        """重办率: resolved issues reopened at least once / resolved."""
        return _ratio(self.reopened, self.resolved)

    @property
    def duplicate_rate(self) -> float | None:
        """重复件率: reports merged into another issue / received."""
        return _ratio(self.merged, self.received)

    def as_dict(self) -> dict[str, Any]:
        names = sorted(n for n in dir(type(self)) if n.endswith("_rate"))
        return asdict(self) | {n: getattr(self, n) for n in names}


def rates(facts: Iterable[Mapping[str, Any]]) -> Rates:
    """The rates of domain.md over these issue facts (views, see facts.derive)."""
    received = [f for f in facts if f.get("reported_day")]
    assigned = [f for f in received if f.get("assigned")]
    resolved = [f for f in assigned if f.get("first_resolved_at")]
    visited = [f for f in received if f.get("satisfaction")]
    dissatisfied = Satisfaction.DISSATISFIED.value
    return Rates(
        received=len(received),
        answered_directly=sum(1 for f in received if f.get("answered_directly")),
        assigned=len(assigned),
        accepted_on_time=sum(1 for f in assigned if f.get("accepted_on_time")),
        resolved=len(resolved),
        resolved_on_time=sum(1 for f in resolved if f.get("resolved_on_time")),
        visited=len(visited),
        solved=sum(1 for f in visited if f.get("solved")),
        satisfied=sum(1 for f in visited if f["satisfaction"] != dissatisfied),
        reopened=sum(1 for f in resolved if f.get("reopens")),
        merged=sum(1 for f in received if f.get("merged_into")),
    )


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)
