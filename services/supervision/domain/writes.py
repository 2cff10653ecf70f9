"""What one batch of events changes in supervision's store, in order. Pure data.

The tracker folds a batch's events over the records it loaded, then hands one `Writes` to
the store, which sends it as one bulk write per collection (`adapters.store.ClockStore.write`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.supervision.domain.record import IssueRecord

__all__ = ["Writes"]


@dataclass
class Writes:
    remembered: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    """Context fields set on an issue's document without reading it."""
    saved: list[tuple[IssueRecord, tuple[str, ...]]] = field(default_factory=list)
    """Whole records, with the ids of the events they absorbed now."""
    new: set[str] = field(default_factory=set)
    """Issues whose record and timer were not stored before this batch (inserted, cheaper;
    updated after all when they turn out to exist)."""
    no_provisional: set[str] = field(default_factory=set)
    """Issues whose stored record had no clock on a provisional calendar: no
    `provisional_p<n>` document to delete when they still have none."""
    timers: list[tuple[str, int, datetime | None]] = field(default_factory=list)
    """`(issue_id, partition, due)`: the issue's timer in that partition (None: none)."""

    def __bool__(self) -> bool:
        return bool(self.remembered or self.saved or self.timers)
