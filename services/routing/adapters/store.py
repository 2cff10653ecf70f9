"""Routing's own store: each issue's routing state (its decisions, as one document), the
reporters merged into it, and the duplicate index: one claim document per cell of the
claim grid (`domain.duplicates.Cell`), held by the open problem that claimed it.

Every operation filters on `_id` (the lookup FerretDB v1 answers from an index; releasing
a claim adds the holder's id as a guard), several at once with `_id: {$in: [...]}`. A claim
is taken by one insert: the unique `_id` makes it atomic across processes, on MongoDB and on
the local engine alike.

A consumer batch reads what it needs in two queries (`stored`, `claims`), takes its new
claims in one `insert_many` (`take`), and writes the rest with `commit`: one ordered bulk
write on the claims, then one on the issues (`runtime.effects.BulkWrites`).
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.contracts.events import IssueMergedPayload
from services.routing.domain.batch import Effects, IssueEffects, Stored
from services.routing.domain.duplicates import Claim, OpenIssue
from services.routing.domain.state import RoutingState
from services.runtime.effects import DUPLICATE_KEY, BulkWrites
from services.runtime.mongo import APPLIED, Document, apply_once


class RoutingStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._issues = db["issues"]
        self._claims = db["claims"]

    async def state(self, issue_id: str) -> RoutingState | None:
        doc = await self._issues.find_one({"_id": issue_id}, {"state": 1})
        if doc is None or doc.get("state") is None:
            return None
        return RoutingState.model_validate(doc["state"])

    async def save(
        self, issue_id: str, state: RoutingState, cause: str, claim: str | None = None
    ) -> bool:
        fields: Document = {"state": state.model_dump(mode="json")}
        if claim is not None:
            fields["claim"] = claim
        update = {"$set": fields}
        return await apply_once(self._issues, issue_id, cause, update)

    async def merge_of(self, issue_id: str) -> IssueMergedPayload | None:
        doc = await self._issues.find_one({"_id": issue_id}, {"merge": 1})
        if doc is None or doc.get("merge") is None:
            return None
        return IssueMergedPayload.model_validate(doc["merge"])

    async def record_merge(
        self,
        issue_id: str,
        merge: IssueMergedPayload,
        reported_at: datetime,
        cause: str,
        claim: str | None = None,
    ) -> None:
        """The duplicate points at its problem; the problem counts it among its reporters,
        and its claim keeps the window open from this report on."""
        await apply_once(self._issues, issue_id, cause, {"$set": {"merge": merge.model_dump()}})
        into = merge.into_issue_id
        await apply_once(
            self._issues, into, cause, {"$set": {f"reporters.{issue_id}": reported_at}}
        )
        if claim is not None:
            await self._claims.update_one(
                {"_id": claim, "issue_id": into}, {"$max": {"last_reported_at": reported_at}}
            )

    async def claims(self, keys: Sequence[str]) -> list[Claim]:
        found = await _by_ids(self._claims, keys)
        return [_claim(doc) for doc in found]

    async def claim(self, key: str, problem: OpenIssue) -> Claim | None:
        document = _claim_document(key, problem)
        for _ in range(3):
            try:
                await self._claims.insert_one(document)
                return None
            except DuplicateKeyError:
                holder = await self._claims.find_one({"_id": key})
                if holder is not None:
                    return _claim(holder)
                # released between the insert and the look-up: try again
        raise RuntimeError(f"claim {key} kept changing hands")

    async def confirm(self, key: str, issue_id: str) -> None:
        await self._claims.update_one(
            {"_id": key, "issue_id": issue_id}, {"$set": {"confirmed": True}}
        )

    async def release(self, key: str, issue_id: str) -> None:
        await self._claims.delete_one({"_id": key, "issue_id": issue_id})

    async def claim_of(self, issue_id: str) -> str | None:
        doc = await self._issues.find_one({"_id": issue_id}, {"claim": 1})
        return None if doc is None or doc.get("claim") is None else str(doc["claim"])

    # a consumer batch --------------------------------------------------------------------

    async def stored(self, issue_ids: Iterable[str]) -> dict[str, Stored]:
        """What is stored of these issues (those found), in one read."""
        fields = {"state": 1, "merge": 1, "claim": 1, "merged_claim": 1}
        found = {}
        for doc in await _by_ids(self._issues, list(dict.fromkeys(issue_ids)), fields):
            state, merge, claim = doc.get("state"), doc.get("merge"), doc.get("claim")
            found[str(doc["_id"])] = Stored(
                state=None if state is None else RoutingState.model_validate(state),
                merge=None if merge is None else IssueMergedPayload.model_validate(merge),
                claim=None if claim is None else str(claim),
                merged_claim=doc.get("merged_claim"),
            )
        return found

    async def take(self, fresh: Sequence[Claim], outlived: Sequence[Claim]) -> list[str]:
        """Give up the `outlived` claims (where their problem still holds them), then take the
        `fresh` ones, unconfirmed, in one insert: the keys of those held already (not taken)."""
        if outlived:
            writes = BulkWrites()
            for held in outlived:
                writes.delete(self._claims, held.key, where={"issue_id": held.problem.issue_id})
            await writes.commit()
        if not fresh:
            return []
        documents = [_claim_document(c.key, c.problem) for c in fresh]
        try:
            await self._claims.insert_many(documents, ordered=False)
        except BulkWriteError as error:
            errors = error.details.get("writeErrors", [])
            if not all(e.get("code") == DUPLICATE_KEY for e in errors):
                raise
            return [str(documents[e["index"]]["_id"]) for e in errors]
        return []

    async def release_all(self, claims: Sequence[Claim]) -> None:
        """Free each cell its claim's problem still holds, in one bulk write."""
        writes = BulkWrites()
        for held in claims:
            writes.delete(self._claims, held.key, where={"issue_id": held.problem.issue_id})
        await writes.commit()

    async def commit(self, effects: Effects) -> None:
        """The batch's writes on the issues, then on the claims (in event order). A crash
        between them leaves decisions stored whose claims are not confirmed yet: the replay
        finds the decisions and confirms their claims again (a closing releases again)."""
        issues = BulkWrites()
        for issue_id, write in effects.issues.items():
            self._write(issues, issue_id, write)
        await issues.commit()
        claims = BulkWrites()
        for what, key, issue_id, at in effects.claims:
            holder = {"issue_id": issue_id}
            if what == "confirm":
                claims.update(
                    self._claims, key, {"$set": {"confirmed": True}}, upsert=False, where=holder
                )
            elif what == "extend":
                claims.update(
                    self._claims, key, {"$max": {"last_reported_at": at}}, upsert=False,
                    where=holder,
                )  # fmt: skip
            else:
                claims.delete(self._claims, key, where=holder)
        await claims.commit()

    def _write(self, writes: BulkWrites, issue_id: str, write: IssueEffects) -> None:
        fields: Document = {}
        if write.state is not None:
            fields["state"] = write.state.model_dump(mode="json")
        if write.claim is not None:
            fields["claim"] = write.claim
        if write.merge is not None:
            fields["merge"] = write.merge.model_dump()
        if write.merged_claim is not None:
            fields["merged_claim"] = write.merged_claim
        dotted = {**fields, **{f"reporters.{i}": at for i, at in write.reporters.items()}}
        update: Document = {"$addToSet": {APPLIED: {"$each": write.causes}}}
        if dotted:
            update["$set"] = dotted
        if write.new:
            document = {**fields, "_id": issue_id, APPLIED: write.causes}
            if write.reporters:
                document["reporters"] = dict(write.reporters)
            writes.insert(self._issues, document, otherwise=update)
        elif write.stored:
            unseen = {APPLIED: {"$nin": write.causes}}
            writes.update(self._issues, issue_id, update, upsert=False, where=unseen)
        else:
            writes.update(self._issues, issue_id, update)

    async def history(self, issue_id: str) -> dict[str, Any] | None:
        doc = await self._issues.find_one({"_id": issue_id}, {APPLIED: 0})
        if doc is None:
            return None
        reporters = doc.pop("reporters", {})
        return {
            "issue_id": issue_id,
            **(doc.pop("state", None) or {}),
            "merged_into": (doc.get("merge") or {}).get("into_issue_id"),
            "merged_reporters": sorted(reporters, key=lambda i: reporters[i]),
        }


async def _by_ids(
    collection: AsyncCollection[Document], ids: Sequence[str], fields: Document | None = None
) -> list[Document]:
    """The documents of these ids that exist, in one query."""
    if not ids:
        return []
    if len(ids) == 1:
        doc = await collection.find_one({"_id": ids[0]}, fields)
        return [] if doc is None else [doc]
    return [doc async for doc in collection.find({"_id": {"$in": list(ids)}}, fields)]


def _claim_document(key: str, problem: OpenIssue) -> Document:
    return {
        "_id": key,
        "issue_id": problem.issue_id,
        "category": problem.category,
        "latitude": problem.latitude,
        "longitude": problem.longitude,
        "last_reported_at": problem.last_reported_at,
        "confirmed": False,
    }


def _claim(doc: Document) -> Claim:
    problem = OpenIssue(
        issue_id=str(doc["issue_id"]),
        category=doc["category"],
        latitude=float(doc["latitude"]),
        longitude=float(doc["longitude"]),
        last_reported_at=doc["last_reported_at"],
    )
    return Claim(str(doc["_id"]), problem, bool(doc.get("confirmed", True)))
