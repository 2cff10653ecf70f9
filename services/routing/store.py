"""Routing's own projection: each issue's routing decisions (its assignment history)."""

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.contracts.events import IssueAssigned
from services.runtime.mongo import APPLIED, Document, apply_once


class RoutingStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._issues = db["issues"]

    async def record_assignment(self, assigned: IssueAssigned, cause_offset: int) -> bool:
        p = assigned.payload
        entry = {
            "cause_offset": cause_offset,
            "event_id": str(assigned.event_id),
            "office_id": p.office_id,
            "co_office_ids": list(p.co_office_ids),
            "level": p.level.value,
            "rung": p.rung.value,
            "reason": p.reason,
            "at": assigned.occurred_at,
        }
        update = {"$set": {"office_id": p.office_id, f"assignments.{assigned.event_id}": entry}}
        return await apply_once(self._issues, assigned.issue_id, str(assigned.event_id), update)

    async def current_office(self, issue_id: str) -> str | None:
        doc = await self._issues.find_one({"_id": issue_id}, {"office_id": 1})
        return None if doc is None else doc.get("office_id")

    async def history(self, issue_id: str) -> dict[str, Any] | None:
        """The issue's current office and its assignments, in the order they were made."""
        doc = await self._issues.find_one({"_id": issue_id}, {APPLIED: 0})
        if doc is not None:
            made = doc.get("assignments", {}).values()
            doc["assignments"] = sorted(made, key=lambda a: int(a["cause_offset"]))
        return doc
