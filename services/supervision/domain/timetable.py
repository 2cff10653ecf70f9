"""The in-memory schedule of the partitions this instance owns: when each issue next needs
a firing. Pure (no I/O, no event loop).

One entry per issue with something still to fire: its partition and the instant its
earliest pending step falls due (in integer microseconds since the epoch, exact). Each
owned partition keeps a heap of `(due, issue_id)` and a map `issue_id → due`; the map is
the truth and a heap entry that disagrees with it is stale and skipped (lazy deletion), so
moving a timer is O(log n) and the heap is rebuilt when stale entries pile up.

- `set` is what the issue's owner computed from the stored record: it always wins;
- `offer` is what a load from the store found: it only fills an issue not yet known, so a
  load that read a document before a handler changed it cannot overwrite the newer value
  (and a stale entry costs one harmless firing that finds nothing due);
- entries of a partition this instance does not own are ignored: its owner has them.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

__all__ = ["PartitionTimers", "Timetable", "from_micros", "micros"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def micros(instant: datetime) -> int:
    return (instant - _EPOCH) // _US


def from_micros(us: int) -> datetime:
    return _EPOCH + us * _US


class PartitionTimers:
    __slots__ = ("_due", "_heap")

    def __init__(self) -> None:
        self._heap: list[tuple[int, str]] = []
        self._due: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._due)

    def __contains__(self, issue_id: object) -> bool:
        return issue_id in self._due

    def due_of(self, issue_id: str) -> int | None:
        return self._due.get(issue_id)

    def set(self, issue_id: str, due: int | None) -> None:
        if due is None:
            self._due.pop(issue_id, None)
            return
        if self._due.get(issue_id) == due:
            return
        self._due[issue_id] = due
        heapq.heappush(self._heap, (due, issue_id))
        if len(self._heap) > 2 * len(self._due) + 1024:
            self._heap = [(d, i) for i, d in self._due.items()]
            heapq.heapify(self._heap)

    def offer(self, issue_id: str, due: int) -> None:
        if issue_id not in self._due:
            self.set(issue_id, due)

    def peek(self) -> tuple[int, str] | None:
        heap = self._heap
        while heap and self._due.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)
        return heap[0] if heap else None

    def pop(self) -> tuple[int, str] | None:
        top = self.peek()
        if top is not None:
            heapq.heappop(self._heap)
            del self._due[top[1]]
        return top


class Timetable:
    """The timers of every owned partition; `on_change` wakes whoever waits for the next."""

    def __init__(self, on_change: Callable[[], None] | None = None) -> None:
        self._parts: dict[int, PartitionTimers] = {}
        self._on_change = on_change or (lambda: None)

    def __len__(self) -> int:
        return sum(len(part) for part in self._parts.values())

    @property
    def owned(self) -> frozenset[int]:
        return frozenset(self._parts)

    def owns(self, partition: int) -> bool:
        return partition in self._parts

    def part(self, partition: int) -> PartitionTimers | None:
        return self._parts.get(partition)

    def own(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self._parts.setdefault(partition, PartitionTimers())
        self._on_change()

    def drop(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self._parts.pop(partition, None)

    def set(self, issue_id: str, partition: int, due: datetime | None) -> bool:
        """Record the issue's next due instant (None: nothing left); False if not owned."""
        part = self._parts.get(partition)
        if part is None:
            return False
        part.set(issue_id, None if due is None else micros(due))
        self._on_change()
        return True

    def offer(self, issue_id: str, partition: int, due: datetime) -> bool:
        part = self._parts.get(partition)
        if part is None:
            return False
        part.offer(issue_id, micros(due))
        return True

    def retry(self, issue_id: str, partition: int, at: datetime) -> None:
        """After a failed firing: try again at `at`, unless something earlier is known."""
        part = self._parts.get(partition)
        if part is None:
            return
        known = part.due_of(issue_id)
        wanted = micros(at)
        part.set(issue_id, wanted if known is None else min(known, wanted))
        self._on_change()

    def next_due(self) -> int | None:
        tops = [top[0] for part in self._parts.values() if (top := part.peek()) is not None]
        return min(tops, default=None)

    def pop_due(self, now: datetime, limit: int) -> list[tuple[str, int]]:
        """Up to `limit` issues due at `now`, earliest first, removed from the schedule."""
        now_us, found = micros(now), list[tuple[str, int]]()
        while len(found) < limit:
            best: tuple[int, int] | None = None
            for partition, part in self._parts.items():
                top = part.peek()
                if top is not None and top[0] <= now_us and (best is None or top[0] < best[0]):
                    best = (top[0], partition)
            if best is None:
                break
            popped = self._parts[best[1]].pop()
            if popped is not None:
                found.append((popped[1], best[1]))
        return found
