"""Supervision's own database: one document per issue, and one small timer per issue.

`issues` (`_id` = issue id): the `IssueRecord` (context, every clock, extension requests,
history), the ids of the events it absorbed (`_applied`), and two summary fields for the
views: `open` (a clock runs) and `deadline` (the earliest deadline of an open clock), and
`provisional` / `provisional_years` / `provisional_clocks` (open clocks computed on a year no
calendar knows yet: to find them when the year is declared, and for the metric).

`timers` (`_id` = issue id): `{partition: "<n>", due: instant}`, when the issue's earliest
pending step falls due and the partition of the issues topic that owns it, or no document
when nothing is left to fire. It is derived from the record and written after it, so after a
crash it can only be earlier than the truth (a firing finds nothing due and writes the
right one) or be rewritten by the replayed event; never later, never missing. An instance
assigned a partition reads that partition's timers (`timers_in`: tiny documents, by the
indexed `partition`, a string, which both engines answer from the index), so instances never
read each other's timers. One collection for every partition: a batch's timers are one
write, not one per partition. (The per-partition `timers_p<n>` collections of before are
moved into it by `ensure_indexes`.)

`provisional_p<n>`, likewise per partition (`_id` = issue id): `{clocks: n}` for each issue of
the partition with open clocks computed on a year no calendar knows yet, no document for the
others; written beside the record. Read whole (bounded: only such issues) to recompute them
when the year is declared and for the metric, so neither scans `issues`.

Every point write filters on `_id` (a timer's delete also on its partition). A batch's
records are read at once (`_id: {$in: [...]}`, through the `_id` index on both engines). The
views' lists are led by `open: true` (and the office when given), each field the first key of
an index declared in `ensure_indexes`; the `due` index serves MongoDB.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.runtime.effects import BulkWrites
from services.runtime.mongo import APPLIED, Document
from services.supervision.domain.calendar import WorkingCalendar
from services.supervision.domain.record import CONTEXT_FIELDS, IssueRecord
from services.supervision.domain.writes import Writes

__all__ = ["ClockStore", "Loaded"]

Loaded = tuple[IssueRecord, frozenset[str]]


class ClockStore:
    def __init__(self, db: AsyncDatabase[Document], partitions: int) -> None:
        self._db = db
        self._issues = db["issues"]
        self._partitions = partitions

    @property
    def _timers(self) -> AsyncCollection[Document]:
        return self._db["timers"]

    def _provisional(self, partition: int) -> AsyncCollection[Document]:
        return self._db[f"provisional_p{partition}"]

    def _mark_provisional(
        self,
        writes: BulkWrites,
        record: IssueRecord,
        calendar: WorkingCalendar,
        *,
        none_stored: bool = False,
        clocks: int | None = None,
    ) -> None:
        """`clocks`: the record's provisional clocks when already counted."""
        if record.partition is None:
            return
        if clocks is None:
            clocks = record.provisional_clocks(calendar)
        where = self._provisional(record.partition)
        if clocks:
            writes.update(where, record.issue_id, {"$set": {"clocks": clocks}})
        elif not none_stored:  # a new issue, or one without provisional clocks, has none
            writes.delete(where, record.issue_id)

    async def ensure_indexes(self) -> None:
        """The views' `open` and `office_id` (each the first key of its index: the one the
        local engine uses for an equality), the timers' `partition` and `due`; then the
        timers of the per-partition layout of before, if any, moved into `timers`."""
        await self._issues.create_index([("open", ASCENDING), ("deadline", ASCENDING)])
        await self._issues.create_index([("office_id", ASCENDING), ("open", ASCENDING)])
        await self._timers.create_index([("partition", ASCENDING)])
        await self._timers.create_index([("due", ASCENDING)])
        await self._move_partition_timers()

    async def _move_partition_timers(self) -> None:
        """Each `timers_p<n>` collection's timers into `timers` (a timer already there is
        newer and kept), then the collection dropped: once, at the first start after."""
        for name in await self._db.list_collection_names():
            number = name.removeprefix("timers_p")
            if number == name or not number.isdigit():
                continue
            moved = BulkWrites()
            async for doc in self._db[name].find({}):
                timer = {"_id": doc["_id"], "partition": number, "due": doc["due"]}
                moved.insert(self._timers, timer, otherwise=None)
            await moved.commit()
            await self._db.drop_collection(name)

    async def load(self, issue_id: str) -> Loaded | None:
        """The issue's record and the ids of the events it absorbed (None: never seen)."""
        doc = await self._issues.find_one({"_id": issue_id})
        return None if doc is None else _loaded(doc)

    async def load_many(self, issue_ids: Iterable[str]) -> dict[str, Loaded]:
        """The records of `issue_ids` that exist, in one read (`_id: {$in: ...}`), in one
        reply."""
        ids = list(dict.fromkeys(issue_ids))
        if not ids:
            return {}
        if len(ids) == 1:
            loaded = await self.load(ids[0])
            return {} if loaded is None else {ids[0]: loaded}
        found: dict[str, Loaded] = {}
        # one more than can match: the first reply closes the cursor (no getMore to learn it)
        cursor = self._issues.find({"_id": {"$in": ids}}, batch_size=len(ids) + 1)
        async for doc in cursor:
            loaded = _loaded(doc)
            found[loaded[0].issue_id] = loaded
        return found

    async def write(self, writes: Writes, calendar: WorkingCalendar) -> None:
        """A batch's writes: one ordered bulk write for the issues, one per timer partition
        touched (records before timers, as the tracker's order wants)."""
        records, derived = BulkWrites(), BulkWrites()
        for issue_id, fields in writes.remembered:
            if unknown := set(fields) - CONTEXT_FIELDS:
                raise ValueError(f"not context fields: {sorted(unknown)}")
            records.update(self._issues, issue_id, {"$set": {"issue_id": issue_id, **fields}})
        for record, applied in writes.saved:
            fields = self.document(record, calendar)
            update: dict[str, Any] = {"$set": fields}
            if applied:
                update["$addToSet"] = {APPLIED: {"$each": list(applied)}}
            new = record.issue_id in writes.new
            if new:
                doc = {**fields, "_id": record.issue_id, APPLIED: list(applied)}
                records.insert(self._issues, doc, otherwise=update)
            else:
                records.update(self._issues, record.issue_id, update)
            none_stored = new or record.issue_id in writes.no_provisional
            clocks = fields["provisional_clocks"]
            self._mark_provisional(
                derived, record, calendar, none_stored=none_stored, clocks=clocks
            )
        for issue_id, partition, due in writes.timers:
            owner = str(partition)
            if due is None:
                derived.delete(self._timers, issue_id, where={"partition": owner})
                continue
            timer = {"partition": owner, "due": due}
            if issue_id in writes.new:
                derived.insert(self._timers, {"_id": issue_id, **timer}, otherwise={"$set": timer})
            else:
                derived.update(self._timers, issue_id, {"$set": timer})
        await records.commit()
        await derived.commit()

    async def remember(self, issue_id: str, fields: Mapping[str, Any]) -> None:
        """Set context fields without reading the record (idempotent, order-preserving)."""
        if unknown := set(fields) - CONTEXT_FIELDS:
            raise ValueError(f"not context fields: {sorted(unknown)}")
        await _upsert(self._issues, issue_id, {"$set": {"issue_id": issue_id, **fields}})

    @staticmethod
    def document(record: IssueRecord, calendar: WorkingCalendar) -> Document:
        """The fields an issue's document holds: the record and the views' summary."""
        fields = record.model_dump(mode="json")
        fields["open"] = record.is_open
        fields["deadline"] = record.earliest_deadline(calendar)
        years, clocks = record.provisional(calendar)
        fields["provisional_years"] = list(years)
        fields["provisional_clocks"] = clocks
        fields["provisional"] = fields["provisional_clocks"] > 0
        return fields

    async def save(
        self, record: IssueRecord, calendar: WorkingCalendar, applied: str | None = None
    ) -> None:
        """Write the whole record (and absorb the event `applied`) in one update."""
        update: dict[str, Any] = {"$set": self.document(record, calendar)}
        if applied is not None:
            update["$addToSet"] = {APPLIED: applied}
        await _upsert(self._issues, record.issue_id, update)
        provisional = BulkWrites()
        self._mark_provisional(provisional, record, calendar)
        await provisional.commit()

    async def set_timer(self, issue_id: str, partition: int, due: datetime | None) -> None:
        if due is None:
            await self._timers.delete_one({"_id": issue_id, "partition": str(partition)})
        else:
            timer = {"partition": str(partition), "due": due}
            await _upsert(self._timers, issue_id, {"$set": timer})

    async def timer_of(self, issue_id: str, partition: int) -> datetime | None:
        doc = await self._timers.find_one({"_id": issue_id})
        return None if doc is None or doc["partition"] != str(partition) else doc["due"]

    async def timers_in(
        self, partition: int, batch_size: int = 5000
    ) -> AsyncIterator[tuple[str, datetime]]:
        """Every timer of `partition` (one read by its indexed `partition`, `batch_size` a
        reply, only `due`), as `(issue_id, due)`."""
        found = self._timers.find({"partition": str(partition)}, {"due": 1}, batch_size=batch_size)
        async for doc in found:
            yield str(doc["_id"]), doc["due"]

    async def provisional_clocks(self) -> int:
        """Open clocks computed on a provisional calendar, over every issue (for the metric):
        the partitions' small `provisional_p<n>` collections, read whole."""
        total = 0
        for partition in range(self._partitions):
            async for doc in self._provisional(partition).find({}, {"clocks": 1}):
                total += int(doc.get("clocks", 0))
        return total

    async def provisional_issues(self, partition: int) -> AsyncIterator[str]:
        """The issues of `partition` with an open provisional clock (to recompute them)."""
        async for doc in self._provisional(partition).find({}, {"_id": 1}):
            yield str(doc["_id"])

    async def records(
        self, match: Mapping[str, Any], *, limit: int = 0
    ) -> AsyncIterator[IssueRecord]:
        """Records matching `match` on their summary or context fields, earliest deadline
        first, at most `limit` (0: all). `match` leads with `open: true` (and the office when
        given): equalities on indexed fields, which bound the rows read."""
        cursor = self._issues.find(dict(match), {APPLIED: 0}, limit=limit).sort("deadline", 1)
        async for doc in cursor:
            doc["issue_id"] = doc.pop("_id")
            yield IssueRecord.model_validate(doc)


def _loaded(doc: Document) -> Loaded:
    applied = frozenset(doc.pop(APPLIED, ()))
    doc["issue_id"] = doc.pop("_id")
    return IssueRecord.model_validate(doc), applied


async def _upsert(collection: AsyncCollection[Document], doc_id: str, update: Any) -> None:
    for _ in range(2):
        try:
            await collection.update_one({"_id": doc_id}, update, upsert=True)
        except DuplicateKeyError:
            continue  # a concurrent upsert created the document first: update it now
        return
    raise RuntimeError(f"{doc_id}: the document kept changing under an upsert")
