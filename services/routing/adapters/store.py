"""Routing's own store: each issue's routing state (its decisions, as one document), the
reporters merged into it, and the duplicate index: one claim document per cell of the
claim grid (`domain.duplicates.Cell`), held by the open problem that claimed it.

Every operation filters on `_id` (the lookup FerretDB v1 answers from an index; releasing
a claim adds the holder's id as a guard). A claim is taken by one insert: the unique `_id`
makes it atomic across processes, on MongoDB and on the local engine alike.
"""

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.contracts.events import IssueMergedPayload
from services.routing.domain.duplicates import Claim, OpenIssue
from services.routing.domain.state import RoutingState
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
        found = await asyncio.gather(*(self._claims.find_one({"_id": key}) for key in keys))
        return [_claim(doc) for doc in found if doc is not None]

    async def claim(self, key: str, problem: OpenIssue) -> Claim | None:
        document = {
            "_id": key,
            "issue_id": problem.issue_id,
            "category": problem.category,
            "latitude": problem.latitude,
            "longitude": problem.longitude,
            "last_reported_at": problem.last_reported_at,
            "confirmed": False,
        }
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


def _claim(doc: Document) -> Claim:
    problem = OpenIssue(
        issue_id=str(doc["issue_id"]),
        category=doc["category"],
        latitude=float(doc["latitude"]),
        longitude=float(doc["longitude"]),
        last_reported_at=doc["last_reported_at"],
    )
    return Claim(str(doc["_id"]), problem, bool(doc.get("confirmed", True)))
