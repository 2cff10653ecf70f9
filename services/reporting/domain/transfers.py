"""What a batch of events changes in one issue's fact document, computed from the document
as stored (or as this process last wrote it). Pure.

An issue's document carries a revision (`rev`, raised by every write that changes its log,
view or posted contribution): the store writes a `Change` only where the document still has
the revision it was computed from, so two writers never both move one contribution (the one
refused reads the document again and computes anew).

Each transfer (the move of one change) carries a stamp, a number the store chooses (its
fencing token against cells: adapters/store.py); an issue's stamps only grow.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from services.contracts.events import Event
from services.reporting.domain import cells as cell_rules
from services.reporting.domain.cells import Cells
from services.reporting.domain.facts import FactRules, derive, entry_data

Entry = dict[str, Any]
Log = dict[str, Entry]


@dataclass
class Stored:
    """An issue's fact document as far as a change needs it."""

    issue_id: str
    rev: int | None = None
    """None: no document yet (or one written before revisions)."""
    exists: bool = False
    log: Log = field(default_factory=dict)
    posted: Cells = field(default_factory=dict)
    posted_v: int = 0
    stamp: int = 0
    """The stamp of the issue's last transfer (done or pending): the next one's is higher."""


@dataclass
class Change:
    """The writes of one issue for one batch: new or earlier log entries, the view derived
    from the whole log, and the move of its contribution to the cells (`moved`)."""

    stored: Stored
    entries: Log
    applied: list[str]
    view: dict[str, Any]
    contributed: Cells
    moved: Cells
    token: str = field(default_factory=lambda: uuid4().hex[:12])
    """This attempt's own mark (`claim` in the document): whose claim holds, when a write
    was interrupted and another computed the same revision."""
    stamp: int = 0
    """The transfer's stamp, set by the store as it claims (raised if it must be)."""

    @property
    def issue_id(self) -> str:
        return self.stored.issue_id

    @property
    def rev(self) -> int:
        return (self.stored.rev or 0) + 1

    @property
    def marker(self) -> str:
        """Names this transfer in the cells it moves (unique: one per revision)."""
        return f"{self.issue_id}|{self.rev}-{self.token}"

    def after(self) -> Stored:
        """The document as it is once this change is written."""
        return Stored(
            self.issue_id,
            self.rev,
            True,
            self.stored.log | self.entries,
            self.contributed,
            int(self.view.get("_n", 0)),
            max(self.stamp, self.stored.stamp),
        )


def entry_of(event: Event, known: Mapping[str, Any] | None = None) -> Entry:
    """The log entry `fact_update` stores for the event, as MongoDB gives it back (times in
    UTC to the millisecond); of two copies with different times, the earlier."""
    at = stored_form(event.occurred_at)
    data = entry_data(event)
    if any(isinstance(v, datetime | list | tuple | dict) for v in data.values()):
        data = stored_form(data)
    return {
        "type": event.type,
        "cause": str(event.causation_id) if event.causation_id else None,
        "data": data,
        "at": min(at, known["at"]) if known else at,
    }


def change_of(stored: Stored, events: Iterable[Event], rules: FactRules) -> Change | None:
    """What the events change in the stored document (None: nothing, they are all known)."""
    entries: Log = {}
    applied: list[str] = []
    for event in events:
        key = str(event.event_id)
        known = entries.get(key) or stored.log.get(key)
        entry = entry_of(event, known)
        if known is None:
            applied.append(key)
        if entry != known:
            entries[key] = entry
    if not entries:
        return None
    view = derive(stored.log | entries, rules)
    contributed = cell_rules.contributions(view)
    moved = cell_rules.difference(stored.posted, contributed)
    return Change(stored, entries, applied, view, contributed, moved)


def merged(changes: Iterable[Change]) -> tuple[Cells, dict[str, list[str]]]:
    """The changes' moves summed per cell (one write per cell), and the markers of the
    transfers each cell's write carries."""
    totals: Cells = {}
    markers: dict[str, list[str]] = {}
    for change in changes:
        for cell, counters in change.moved.items():
            cell_rules.add(totals.setdefault(cell, {}), counters)
            markers.setdefault(cell, []).append(change.marker)
    return totals, markers


def stored_form(value: Any) -> Any:
    """A value as MongoDB gives it back: times in UTC to the millisecond (the live fold
    derives its views from stored logs; the rebuild's must be equal)."""
    if isinstance(value, datetime):
        moment = value.astimezone(UTC)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    if isinstance(value, dict):
        return {k: stored_form(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [stored_form(v) for v in value]
    return value
