"""Intake's own MongoDB store: the status view of each issue, receipts, sealed contacts (and a
report's text and address as typed, sealed beside them), principals, idempotency records and
the reports withheld from public reads. Credentials are kept as hashes only."""

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from services.contracts.events import Event, IssueReported
from services.contracts.lifecycle import FINAL_STATES
from services.contracts.vocabulary import IssueState
from services.intake.domain.inbox import HOLDERS, ORDER, SLIM
from services.intake.domain.privacy import secret_hash
from services.intake.domain.rules import Principal, Role
from services.intake.domain.view import (
    VERSION,
    derive,
    fold_entry,
    record_update,
    reported_fields,
)
from services.runtime.batching import GroupCommit
from services.runtime.effects import DUPLICATE_KEY, BulkWrites
from services.runtime.mongo import APPLIED, Document, upsert

OPEN_STATES = [s.value for s in IssueState if s not in FINAL_STATES]
REVISION = "_rev"
"""Raised by every write that records events in a view's history: what `apply_all` guards
its one write per issue with (the history it folded into is still the stored one)."""
REVISION_ATTEMPTS = 5
FOLDED = {"history": 1, REVISION: 1, "description": 1, "media_urls": 1}
HIDDEN = {APPLIED: 0, REVISION: 0, **{name: 0 for name in VERSION}}
"""Bookkeeping the reads leave out (`_applied` of views written before the fold)."""
PENDING, DONE, RELEASED = "pending", "done", "released"
"""An idempotency record's states: its request runs, answered, or failed (may be retried)."""
INDEXED = ("office_id", "co_office_ids")
"""The status view's indexed fields: the office holding an issue, and its co-offices."""
INBOX_INDEXES = [[(f"inbox.{holder}", ASCENDING), *ORDER] for holder in HOLDERS]
"""An inbox page's indexes: each place an office holds an open issue in, then the page's
order (due soonest first, then id), so a page is read in order and stops after it."""


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _older(derived: Mapping[str, Any]) -> Document:
    """The guard of a derived view's write: the stored one was derived from an earlier
    history (or none)."""
    n, w = (derived[name] for name in VERSION)
    return {"$or": [
        {VERSION[0]: {"$exists": False}}, {VERSION[0]: {"$lt": n}},
        {VERSION[0]: n, VERSION[1]: {"$lt": w}},
    ]}  # fmt: skip


def _lacks(doc: Document, fields: Document) -> bool:
    return any(doc.get(name) != value for name, value in fields.items())


def _folded(
    deliveries: Sequence[tuple[Event, int]], issue_id: str, history: dict[str, Any]
) -> Document:
    """The issue's events folded into `history` (in place): the report's own fields beside
    it (none unless one is an `IssueReported`)."""
    reported: Document = {}
    for event, offset in deliveries:
        if event.issue_id == issue_id:
            fold_entry(history, event, offset)
            if isinstance(event, IssueReported):
                reported = reported_fields(event)
    return reported


def _recorded(deliveries: Sequence[tuple[Event, int]]) -> dict[str, Document]:
    """The events' `record_update`s, merged into one update per issue: the entries of
    different events are different fields; two copies of one event keep the least of what
    copies may say differently (`$min`), as two updates would."""
    merged: dict[str, Document] = {}
    for event, offset in deliveries:
        update = record_update(event, offset)
        into = merged.setdefault(event.issue_id, {"$set": {}, "$min": {}, "$inc": {REVISION: 0}})
        into["$inc"][REVISION] += 1
        into["$set"].update(update["$set"])
        for path, value in update["$min"].items():
            into["$min"][path] = min(into["$min"].get(path, value), value)
    return merged


class IntakeStore:
    """Every request-path operation that a busy front door repeats is a group commit
    (`runtime.batching`): concurrent requests' reads and writes of one kind go to the engine
    as one statement (principals read by `_id $in`, receipts, new views and idempotency
    claims as one insert each, answers remembered in one bulk write), and each request
    returns once its own part is done."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._issues = db["issues"]
        self._receipts = db["receipts"]
        self._contacts = db["contacts"]
        self._principals = db["principals"]
        self._idempotency = db["idempotency"]
        self._withheld = db["withheld"]
        self._new_views: GroupCommit[list[tuple[Event, int]], None]
        self._new_views = GroupCommit(self._insert_views)
        self._receipt_writes: GroupCommit[tuple[str, str], None]
        self._receipt_writes = GroupCommit(self._write_receipts)
        self._principal_reads: GroupCommit[str, Document | None]
        self._principal_reads = GroupCommit(self._read_principals)
        self._claims: GroupCommit[Document, Document | None]
        self._claims = GroupCommit(self._insert_claims)
        self._answers: GroupCommit[UpdateOne, None] = GroupCommit(self._write_answers)

    # the status view ------------------------------------------------------------------

    async def apply(self, event: Event, offset: int) -> bool:
        """Record the event in its issue's history (idempotent, order-independent), then derive
        the view's fields from the whole history and write them with a compare-and-set on the
        history's version: whoever derived from the latest history wins, in any order."""
        recorded = {**record_update(event, offset), "$inc": {REVISION: 1}}
        await upsert(self._issues, event.issue_id, recorded)
        doc = await self._issues.find_one({"_id": event.issue_id}, {"history": 1})
        derived = derive((doc or {}).get("history") or {})
        written = await self._issues.update_one(
            {"_id": event.issue_id, **_older(derived)}, {"$set": derived}
        )
        return written.modified_count == 1

    async def apply_all(self, deliveries: Sequence[tuple[Event, int]]) -> None:
        """`apply` for many events at once: the histories of their issues read in one query,
        the events folded into them here, and each issue that changed written in one
        statement (its history and the fields derived from it, guarded by the revision read:
        `_rev`, which every recording raises), the new ones in one insert, the others in one
        bulk write. An issue another writer changed meanwhile is read and folded again. So an
        event the view holds already (the consumer's copy of what the API applied) costs no
        write at all."""
        pending = {e.issue_id for e, _ in deliveries}
        for _ in range(REVISION_ATTEMPTS):
            if not pending:
                return
            pending = await self._fold_in(deliveries, pending)
        await self._apply_stepwise(deliveries)  # contended: record, read, derive

    async def _fold_in(
        self, deliveries: Sequence[tuple[Event, int]], issue_ids: set[str]
    ) -> set[str]:
        """One round of `apply_all` over `issue_ids`: those that must be tried again."""
        ids = sorted(issue_ids)
        query = {"_id": ids[0]} if len(ids) == 1 else {"_id": {"$in": ids}}
        stored = {doc["_id"]: doc async for doc in self._issues.find(query, FOLDED)}
        inserts: list[Document] = []
        updates: list[UpdateOne] = []
        updated: list[str] = []
        for issue_id in ids:
            doc = stored.get(issue_id)
            history = dict((doc or {}).get("history") or {})
            reported = _folded(deliveries, issue_id, history)
            if doc is not None and history == doc.get("history") and not _lacks(doc, reported):
                continue  # every event is in the view already
            fields = {**reported, "history": history, **derive(history)}
            if doc is None:
                inserts.append({**fields, "_id": issue_id, REVISION: 1})
            else:
                guard = {"_id": issue_id, REVISION: doc.get(REVISION, {"$exists": False})}
                updates.append(UpdateOne(guard, {"$set": fields, "$inc": {REVISION: 1}}))
                updated.append(issue_id)
        again: set[str] = set()
        if inserts:
            try:
                await self._issues.insert_many(inserts, ordered=False)
            except BulkWriteError as error:
                errors = error.details.get("writeErrors", [])
                if not all(e.get("code") == DUPLICATE_KEY for e in errors):
                    raise
                again |= {str(inserts[e["index"]]["_id"]) for e in errors}
        if updates:
            written = await self._issues.bulk_write(updates, ordered=False)
            if written.matched_count < len(updates):  # which: the next round reads them all
                again |= set(updated)
        return again

    async def apply_new(self, deliveries: Sequence[tuple[Event, int]]) -> None:
        """`apply_all` for the events of issues believed new (a report just published):
        their views are inserted without a read first, in one insert with those of the
        reports other requests publish meanwhile. An issue whose view exists already (a
        retried report, or the consumer's copy came first) is applied by `apply_all`."""
        await self._new_views(list(deliveries))

    async def _insert_views(
        self, calls: list[list[tuple[Event, int]]]
    ) -> list[BaseException | None]:
        writes = BulkWrites()
        for deliveries in calls:
            for issue_id in dict.fromkeys(event.issue_id for event, _ in deliveries):
                history: dict[str, Any] = {}
                reported = _folded(deliveries, issue_id, history)
                fields = {**reported, "history": history, **derive(history)}
                writes.insert(self._issues, {**fields, "_id": issue_id, REVISION: 1}, None)
        taken = {doc_id for _, doc_id in (await writes.commit()).taken}
        again = [
            deliveries if any(event.issue_id in taken for event, _ in deliveries) else []
            for deliveries in calls
        ]
        outcomes = await asyncio.gather(
            *(self.apply_all(deliveries) for deliveries in again if deliveries),
            return_exceptions=True,
        )
        failed = iter(outcomes)
        return [next(failed) if deliveries else None for deliveries in again]

    async def _apply_stepwise(self, deliveries: Sequence[tuple[Event, int]]) -> None:
        """Every event recorded, then each issue derived and written with a compare-and-set
        on its version, as `apply` does one event: converges whoever writes beside it."""
        records = BulkWrites()
        for issue_id, update in _recorded(deliveries).items():
            records.update(self._issues, issue_id, update)
        await records.commit()
        ids = list(dict.fromkeys(event.issue_id for event, _ in deliveries))
        query = {"_id": ids[0]} if len(ids) == 1 else {"_id": {"$in": ids}}
        views = BulkWrites()
        async for doc in self._issues.find(query, {"history": 1}):
            derived = derive(doc.get("history") or {})
            views.update(
                self._issues, doc["_id"], {"$set": derived}, upsert=False, where=_older(derived)
            )
        await views.commit()

    async def issue(self, issue_id: str) -> dict[str, Any] | None:
        return await self._issues.find_one({"_id": issue_id}, HIDDEN)

    async def issues(self, query: Document, limit: int = 1000) -> list[Document]:
        cursor = self._issues.find(query, HIDDEN).sort("reported_at", -1).limit(limit)
        return [doc async for doc in cursor]

    async def ensure_indexes(self) -> None:
        """The indexes intake's request paths are served from (one place): an office's inbox
        by the office holding the issue, and by its co-offices; an inbox's pages by each place
        an office holds an open issue in, in the page's order (`INBOX_INDEXES`)."""
        for field in INDEXED:
            await self._issues.create_index([(field, ASCENDING)])
        for keys in INBOX_INDEXES:
            await self._issues.create_index(keys)

    async def inbox(self, office_id: str, projection: Document | None = None) -> list[Document]:
        """Open issues an office holds now, as lead or co-office, newest report first (every
        one: no limit). Two queries, each an equality on an indexed field (an `$or` is not
        served from an index by the local engine), merged. The engine answers an equality on
        an array field with every non-empty array there: the co-offices' query reads the open
        issues that have co-offices, then keeps this office's."""
        open_ = {"state": {"$in": OPEN_STATES}}
        queries = [
            {"office_id": office_id, **open_},
            {"co_office_ids": office_id, **open_},
        ]
        seen: dict[str, Document] = {}
        for query in queries:
            async for doc in self._issues.find(query, projection or HIDDEN):
                seen.setdefault(str(doc["_id"]), doc)
        far = datetime.min.replace(tzinfo=UTC)
        return sorted(seen.values(), key=lambda d: _aware(d.get("reported_at")) or far,
                      reverse=True)  # fmt: skip

    async def inbox_page(
        self, office_id: str, after: tuple[datetime, str] | None, limit: int
    ) -> list[Document]:
        """What an inbox page after `after` (order key, id) is made of, slim: for each place
        an office holds an open issue in (lead, each co-office place), the first `limit + 1`
        issues there in the page's order, read in order from that place's index, starting at
        the cursor (a keyset on the order key and id), so a page costs the same whatever the
        office holds. The places are asked at once; the caller merges them."""
        keyset: Document = {}
        if after is not None:
            due, issue_id = after
            keyset = {
                "$or": [{"inbox.due": {"$gt": due}}, {"inbox.due": due, "_id": {"$gt": issue_id}}]
            }

        async def there(holder: str) -> list[Document]:
            query = {f"inbox.{holder}": office_id, **keyset}
            cursor = self._issues.find(query, SLIM).sort(list(ORDER)).limit(limit + 1)
            return [doc async for doc in cursor]

        found = await asyncio.gather(*(there(holder) for holder in HOLDERS))
        return [doc for docs in found for doc in docs]

    async def inbox_count(self, office_id: str, cap: int) -> int:
        """How many open issues the office holds, counted up to `cap + 1` (more are not read):
        the ids in each place's index order, stopping there."""

        async def there(holder: str) -> set[str]:
            query = {f"inbox.{holder}": office_id}
            found = self._issues.find(query, {"_id": 1}).sort(list(ORDER)).limit(cap + 1)
            return {str(doc["_id"]) async for doc in found}

        ids = set[str]().union(*await asyncio.gather(*(there(holder) for holder in HOLDERS)))
        return min(len(ids), cap + 1)

    # receipts and contacts ------------------------------------------------------------

    async def save_receipt(self, receipt_code: str, issue_id: str) -> None:
        await self._receipt_writes((secret_hash(receipt_code), issue_id))

    async def _write_receipts(self, receipts: list[tuple[str, str]]) -> list[None]:
        """New receipts in one insert; a code already stored (a retried report) is set."""
        writes = BulkWrites()
        for code_hash, issue_id in receipts:
            writes.insert(
                self._receipts, {"_id": code_hash, "issue_id": issue_id},
                {"$set": {"issue_id": issue_id}},
            )  # fmt: skip
        await writes.commit()
        return [None] * len(receipts)

    async def issue_of_receipt(self, receipt_code: str) -> str | None:
        doc = await self._receipts.find_one({"_id": secret_hash(receipt_code)})
        return None if doc is None else str(doc["issue_id"])

    async def save_contact(self, issue_id: str, reporter_id: str, sealed: str) -> None:
        await self._contacts.update_one(
            {"_id": issue_id}, {"$set": {"reporter_id": reporter_id, "sealed": sealed}}, upsert=True
        )

    async def sealed_contact(self, issue_id: str) -> str | None:
        doc = await self._contacts.find_one({"_id": issue_id})
        return str(doc["sealed"]) if doc and doc.get("sealed") else None

    async def save_written(self, issue_id: str, sealed: str) -> None:
        """A report's text and address as typed, sealed (the view holds them masked)."""
        await self._contacts.update_one(
            {"_id": issue_id}, {"$set": {"written": sealed}}, upsert=True
        )

    async def sealed_written(self, issue_ids: Iterable[str]) -> dict[str, str]:
        """What `save_written` kept of these issues, by issue id (one read)."""
        ids = list(dict.fromkeys(issue_ids))
        if not ids:
            return {}
        found = self._contacts.find({"_id": {"$in": ids}, "written": {"$exists": True}})
        return {str(doc["_id"]): str(doc["written"]) async for doc in found}

    async def reporter_of(self, issue_id: str) -> str | None:
        doc = await self._contacts.find_one({"_id": issue_id})
        return str(doc["reporter_id"]) if doc and doc.get("reporter_id") else None

    async def withhold(self, issue_id: str) -> None:
        """Keep a report out of public reads (an operator said it is not public). Kept beside
        the status view, not in it, so a rebuilt view keeps it too."""
        await self._withheld.update_one({"_id": issue_id}, {"$set": {"public": False}}, upsert=True)

    async def withheld_among(self, issue_ids: Iterable[str]) -> set[str]:
        ids = list(issue_ids)
        if not ids:
            return set()
        return {str(doc["_id"]) async for doc in self._withheld.find({"_id": {"$in": ids}})}

    # principals -----------------------------------------------------------------------

    async def add_principal(self, token: str, principal: Principal) -> None:
        fields = {k: v for k, v in asdict(principal).items() if v is not None}
        await self._principals.update_one(
            {"_id": secret_hash(token)}, {"$set": fields}, upsert=True
        )

    async def principal(self, token: str) -> Principal | None:
        """The principal of a token, read every time (a principal changed or removed in the
        database is seen at once), with the reads other requests ask for meanwhile (one read
        by `_id`)."""
        doc = await self._principal_reads(secret_hash(token))
        if doc is None:
            return None
        fields = {name: value for name, value in doc.items() if name != "_id"}
        return Principal(**{**fields, "role": Role(doc["role"])})

    async def _read_principals(self, hashes: list[str]) -> list[Document | None]:
        ids = list(dict.fromkeys(hashes))
        query = {"_id": ids[0]} if len(ids) == 1 else {"_id": {"$in": ids}}
        found: dict[str, Document] = {doc["_id"]: doc async for doc in self._principals.find(query)}
        return [found.get(one) for one in hashes]

    # idempotency ------------------------------------------------------------------------

    async def claim(self, key: str, fingerprint: str, now: datetime) -> Document | None:
        """Claim an idempotency key; None if new, else the record of the first request (one
        insert with the claims of other requests meanwhile; the records of the keys taken
        already in one read)."""
        return await self._claims({"_id": key, "fingerprint": fingerprint, "state": PENDING,
                                   "at": now})  # fmt: skip

    async def _insert_claims(self, claims: list[Document]) -> list[Document | None]:
        firsts: dict[str, Document] = {}  # a key claimed twice at once: the second meets the first
        for claim in claims:
            firsts.setdefault(claim["_id"], claim)
        writes = BulkWrites()
        for claim in firsts.values():
            writes.insert(self._idempotency, claim, None)
        taken = [doc_id for _, doc_id in (await writes.commit()).taken]
        stored: dict[str, Document] = {}
        if taken:
            query = {"_id": taken[0]} if len(taken) == 1 else {"_id": {"$in": taken}}
            stored = {doc["_id"]: doc async for doc in self._idempotency.find(query)}
        return [
            stored.get(key) if (key := claim["_id"]) in taken
            else None if firsts[key] is claim else firsts[key]
            for claim in claims
        ]  # fmt: skip

    async def reclaim(self, key: str, now: datetime) -> bool:
        """Take over a released claim (its request failed); False when another retry took
        it first."""
        taken = await self._idempotency.update_one(
            {"_id": key, "state": RELEASED}, {"$set": {"state": PENDING, "at": now}}
        )
        return taken.modified_count == 1

    async def remember(self, key: str, status: int, body: Any) -> None:
        """Keep a request's answer (one bulk write with the answers of other requests)."""
        await self._answers(UpdateOne(
            {"_id": key}, {"$set": {"state": DONE, "status": status, "body": body}}
        ))  # fmt: skip

    async def _write_answers(self, answers: list[UpdateOne]) -> list[None]:
        await self._idempotency.bulk_write(answers, ordered=True)
        return [None] * len(answers)

    async def forget(self, key: str) -> None:
        """Release a claim whose request failed, so the client may retry it. The record
        stays (released): a later claim of the key then knows a first attempt ran and may
        have reached the log; a key never claimed before needs no such look."""
        await self._idempotency.update_one(
            {"_id": key, "state": PENDING}, {"$set": {"state": RELEASED}}
        )
