"""Intake's own MongoDB projection: the status view of each issue, and receipts."""

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.contracts.events import Event
from services.intake.domain import view_update
from services.runtime.mongo import APPLIED, Document, apply_once


class IntakeStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._issues = db["issues"]
        self._receipts = db["receipts"]

    async def apply(self, event: Event, offset: int) -> bool:
        update = view_update(event, offset)
        return await apply_once(self._issues, event.issue_id, str(event.event_id), update)

    async def save_receipt(self, receipt_code: str, issue_id: str) -> None:
        await self._receipts.update_one(
            {"_id": receipt_code}, {"$setOnInsert": {"issue_id": issue_id}}, upsert=True
        )

    async def issue(self, issue_id: str) -> dict[str, Any] | None:
        return await self._issues.find_one({"_id": issue_id}, {APPLIED: 0})
