"""Fakes of intake's ports (type-checked against the protocols)."""

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from services.contracts.events import Envelope, Event
from services.intake.domain.rules import Principal
from services.intake.domain.throttling import Limit, counter_id
from services.intake.domain.view import VERSION, derive, record_update, version_of
from services.intake.handlers.ports import Document, IntakeStore, Landed, Publisher, Throttle


class CountingThrottle:
    """The store's fixed windows, counted in memory."""

    def __init__(self, limit: Limit, now: float | None = None) -> None:
        self.limit = limit
        self.now = time.time() if now is None else now
        self.counts: Counter[str] = Counter()

    async def hit(self, name: str, client: str) -> int:
        key = counter_id(name, client, self.limit.window(self.now))
        self.counts[key] += 1
        return self.limit.wait(self.counts[key], self.now)

    async def peek(self, name: str, client: str) -> int:
        key = counter_id(name, client, self.limit.window(self.now))
        return self.limit.wait(self.counts[key], self.now)


_: type[Throttle] = CountingThrottle


class FakeStore:
    """Intake's store in dictionaries: the views, receipts, principals, withheld reports."""

    def __init__(self) -> None:
        self.views: dict[str, Document] = {}
        self.receipts: dict[str, str] = {}
        self.contacts: dict[str, tuple[str, str]] = {}
        self.written: dict[str, str] = {}
        self.withheld: set[str] = set()
        self.principals: dict[str, Principal] = {}
        self.claims: dict[str, Document] = {}
        self.batches = 0
        """Calls of `apply_all`."""

    async def apply(self, event: Event, offset: int) -> bool:
        view = self.views.setdefault(event.issue_id, {"_id": event.issue_id})
        update = record_update(event, offset)
        for operator, changes in update.items():
            for path, value in changes.items():
                *parents, leaf = path.split(".")
                target = view
                for part in parents:
                    target = target.setdefault(part, {})
                if operator == "$set" or leaf not in target:
                    target[leaf] = value
                else:  # $min
                    target[leaf] = min(target[leaf], value)
        derived = derive(view["history"])
        if tuple(view.get(name, -(2**63)) for name in VERSION) >= version_of(view["history"]):
            return False
        view |= derived
        return True

    async def apply_all(self, deliveries: Sequence[tuple[Event, int]]) -> None:
        self.batches += 1
        for event, offset in deliveries:
            await self.apply(event, offset)

    async def apply_new(self, deliveries: Sequence[tuple[Event, int]]) -> None:
        await self.apply_all(deliveries)

    async def issue(self, issue_id: str) -> Document | None:
        view = self.views.get(issue_id)
        return None if view is None else {k: v for k, v in view.items() if k not in VERSION}

    async def issues(self, query: Document, limit: int = 1000) -> list[Document]:
        return list(self.views.values())[: limit or None]

    async def inbox(self, office_id: str) -> list[Document]:
        return [v for v in self.views.values() if v.get("office_id") == office_id]

    async def save_receipt(self, receipt_code: str, issue_id: str) -> None:
        self.receipts[receipt_code] = issue_id

    async def issue_of_receipt(self, receipt_code: str) -> str | None:
        return self.receipts.get(receipt_code)

    async def save_contact(self, issue_id: str, reporter_id: str, sealed: str) -> None:
        self.contacts[issue_id] = (reporter_id, sealed)

    async def save_written(self, issue_id: str, sealed: str) -> None:
        self.written[issue_id] = sealed

    async def sealed_written(self, issue_ids: Iterable[str]) -> dict[str, str]:
        return {i: self.written[i] for i in issue_ids if i in self.written}

    async def sealed_contact(self, issue_id: str) -> str | None:
        return self.contacts.get(issue_id, ("", None))[1] or None

    async def reporter_of(self, issue_id: str) -> str | None:
        return self.contacts.get(issue_id, (None, ""))[0]

    async def withhold(self, issue_id: str) -> None:
        self.withheld.add(issue_id)

    async def withheld_among(self, issue_ids: Iterable[str]) -> set[str]:
        return self.withheld & set(issue_ids)

    async def add_principal(self, token: str, principal: Principal) -> None:
        self.principals[token] = principal

    async def principal(self, token: str) -> Principal | None:
        return self.principals.get(token)

    async def claim(self, key: str, fingerprint: str, now: datetime) -> Document | None:
        if key in self.claims:
            return self.claims[key]
        self.claims[key] = {"fingerprint": fingerprint, "state": "pending", "at": now}
        return None

    async def remember(self, key: str, status: int, body: Any) -> None:
        self.claims[key] |= {"state": "done", "status": status, "body": body}

    async def reclaim(self, key: str, now: datetime) -> bool:
        if self.claims[key]["state"] != "released":
            return False
        self.claims[key] |= {"state": "pending", "at": now}
        return True

    async def forget(self, key: str) -> None:
        if key in self.claims and self.claims[key]["state"] == "pending":
            self.claims[key]["state"] = "released"


class Landing:
    def __init__(self, offset: int) -> None:
        self.offset = offset


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[Envelope] = []

    async def publish_all(self, events: Iterable[Envelope]) -> Sequence[Landed]:
        landed = []
        for event in events:
            self.published.append(event)
            landed.append(Landing(len(self.published)))
        return landed


_store: type[IntakeStore] = FakeStore
_publisher: type[Publisher] = FakePublisher
