"""Routing's own store: each issue's routing state (its decisions, as one document), the
reporters merged into it, and the duplicate index of open issues.

Point operations filter on `_id` alone (the one lookup FerretDB v1 answers from an index);
the duplicate index is read by category, a scan that stays small while only open issues
are in it. Bucketing by grid is the next step when it grows.
"""

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.contracts.events import IssueMergedPayload
from services.routing.domain.duplicates import OpenIssue
from services.routing.domain.state import RoutingState
from services.runtime.mongo import APPLIED, Document, apply_once


class RoutingStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._issues = db["issues"]
        self._open = db["open_issues"]

    async def state(self, issue_id: str) -> RoutingState | None:
        doc = await self._issues.find_one({"_id": issue_id}, {"state": 1})
        if doc is None or doc.get("state") is None:
            return None
        return RoutingState.model_validate(doc["state"])

    async def save(self, issue_id: str, state: RoutingState, cause: str) -> bool:
        update = {"$set": {"state": state.model_dump(mode="json")}}
        return await apply_once(self._issues, issue_id, cause, update)

    async def merge_of(self, issue_id: str) -> IssueMergedPayload | None:
        doc = await self._issues.find_one({"_id": issue_id}, {"merge": 1})
        if doc is None or doc.get("merge") is None:
            return None
        return IssueMergedPayload.model_validate(doc["merge"])

    async def record_merge(
        self, issue_id: str, merge: IssueMergedPayload, reported_at: datetime, cause: str
    ) -> None:
        """The duplicate points at its problem; the problem counts it among its reporters."""
        await apply_once(self._issues, issue_id, cause, {"$set": {"merge": merge.model_dump()}})
        into = merge.into_issue_id
        await apply_once(
            self._issues, into, cause, {"$set": {f"reporters.{issue_id}": reported_at}}
        )
        await self._open.update_one({"_id": into}, {"$max": {"last_reported_at": reported_at}})

    async def open_issue(self, issue: OpenIssue) -> None:
        fields = {
            "category": issue.category,
            "latitude": issue.latitude,
            "longitude": issue.longitude,
        }
        await self._open.update_one(
            {"_id": issue.issue_id},
            {"$set": fields, "$max": {"last_reported_at": issue.last_reported_at}},
            upsert=True,
        )

    async def close_issue(self, issue_id: str) -> None:
        await self._open.delete_one({"_id": issue_id})

    async def open_candidates(self, category: str) -> list[OpenIssue]:
        cursor = self._open.find({"category": category})
        return [
            OpenIssue(
                issue_id=str(doc["_id"]),
                category=doc["category"],
                latitude=float(doc["latitude"]),
                longitude=float(doc["longitude"]),
                last_reported_at=doc["last_reported_at"],
            )
            async for doc in cursor
        ]

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
