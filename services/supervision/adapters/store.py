"""Supervision's own database: one document per issue, and one small timer per issue.

`issues` (`_id` = issue id): the `IssueRecord` (context, every clock, extension requests,
history), the ids of the events it absorbed (`_applied`), and two summary fields for the
views: `open` (a clock runs) and `deadline` (the earliest deadline of an open clock), and
`provisional` / `provisional_years` / `provisional_clocks` (open clocks computed on a year no
calendar knows yet: to find them when the year is declared, and for the metric).

`timers_p<n>`, one collection per partition of the issues topic (`_id` = issue id):
`{due: instant}`, when the issue's earliest pending step falls due, or no document when
nothing is left to fire. It is derived from the record and written after it, so after a
crash it can only be earlier than the truth (a firing finds nothing due and writes the
right one) or be rewritten by the replayed event; never later, never missing. An instance
assigned a partition reads that partition's collection whole (`timers_in`): tiny
documents, and only the partitions it owns, so instances never scan each other's timers.

`provisional_p<n>`, likewise per partition (`_id` = issue id): `{clocks: n}` for each issue of
the partition with open clocks computed on a year no calendar knows yet, no document for the
others; written beside the record. Read whole (bounded: only such issues) to recompute them
when the year is declared and for the metric, so neither scans `issues`.

Every point read and write filters on `_id` alone: the one lookup the local MongoDB-wire
server (FerretDB v1 on SQLite) answers from an index. The `due` index serves MongoDB.
"""

from __future__ import annotations

import asyncio
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

    def _timers(self, partition: int) -> AsyncCollection[Document]:
        return self._db[f"timers_p{partition}"]

    def _provisional(self, partition: int) -> AsyncCollection[Document]:
        return self._db[f"provisional_p{partition}"]

    def _mark_provisional(
        self,
        writes: BulkWrites,
        record: IssueRecord,
        calendar: WorkingCalendar,
        *,
        new: bool = False,
    ) -> None:
        if record.partition is None:
            return
        clocks = record.provisional_clocks(calendar)
        where = self._provisional(record.partition)
        if clocks:
            writes.update(where, record.issue_id, {"$set": {"clocks": clocks}})
        elif not new:  # a new issue has no such document to delete
            writes.delete(where, record.issue_id)

    async def ensure_indexes(self) -> None:
        for partition in range(self._partitions):
            await self._timers(partition).create_index([("due", ASCENDING)])

    async def load(self, issue_id: str) -> Loaded | None:
        """The issue's record and the ids of the events it absorbed (None: never seen)."""
        doc = await self._issues.find_one({"_id": issue_id})
        if doc is None:
            return None
        applied = frozenset(doc.pop(APPLIED, ()))
        doc["issue_id"] = issue_id
        return IssueRecord.model_validate(doc), applied

    async def load_many(self, issue_ids: Iterable[str]) -> dict[str, Loaded]:
        """The records of `issue_ids` that exist: point reads by `_id`, side by side (the
        one lookup both engines answer from an index; `$in` would scan on FerretDB v1)."""
        ids = list(dict.fromkeys(issue_ids))
        found = await asyncio.gather(*(self.load(issue_id) for issue_id in ids))
        return {i: loaded for i, loaded in zip(ids, found, strict=True) if loaded is not None}

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
            self._mark_provisional(derived, record, calendar, new=new)
        for issue_id, partition, due in writes.timers:
            if due is None:
                derived.delete(self._timers(partition), issue_id)
            elif issue_id in writes.new:
                derived.insert(
                    self._timers(partition),
                    {"_id": issue_id, "due": due},
                    otherwise={"$set": {"due": due}},
                )
            else:
                derived.update(self._timers(partition), issue_id, {"$set": {"due": due}})
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
        fields["provisional_years"] = list(record.provisional_in(calendar))
        fields["provisional_clocks"] = record.provisional_clocks(calendar)
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
        timers = self._timers(partition)
        if due is None:
            await timers.delete_one({"_id": issue_id})
        else:
            await _upsert(timers, issue_id, {"$set": {"due": due}})

    async def timer_of(self, issue_id: str, partition: int) -> datetime | None:
        doc = await self._timers(partition).find_one({"_id": issue_id})
        return None if doc is None else doc["due"]

    async def timers_in(
        self, partition: int, batch_size: int = 5000
    ) -> AsyncIterator[tuple[str, datetime]]:
        """Every timer of `partition` (one scan of its collection), as `(issue_id, due)`."""
        async for doc in self._timers(partition).find({}, batch_size=batch_size):
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
        first, at most `limit` (0: all). A scan: for the views only, never a point lookup."""
        cursor = self._issues.find(dict(match), {APPLIED: 0}, limit=limit).sort("deadline", 1)
        async for doc in cursor:
            doc["issue_id"] = doc.pop("_id")
            yield IssueRecord.model_validate(doc)


async def _upsert(collection: AsyncCollection[Document], doc_id: str, update: Any) -> None:
    for _ in range(2):
        try:
            await collection.update_one({"_id": doc_id}, update, upsert=True)
        except DuplicateKeyError:
            continue  # a concurrent upsert created the document first: update it now
        return
    raise RuntimeError(f"{doc_id}: the document kept changing under an upsert")
