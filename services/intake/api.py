"""Intake's REST API: report an issue, look one up."""

import hashlib
import hmac
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, ConfigDict, Field

from services.contracts.events import IssueReported, IssueReportedPayload, Location
from services.contracts.vocabulary import Channel, Kind, ReporterType
from services.intake.domain import history_in_order, new_issue_id, new_receipt_code
from services.intake.store import IntakeStore
from services.runtime.broker import EventPublisher


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region_code: str | None = Field(default=None, max_length=64)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=500)


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    kind: Kind
    text: str = Field(min_length=1, max_length=5000)
    category: str | None = Field(default=None, max_length=64)
    location: LocationIn = LocationIn()
    media_urls: list[Annotated[str, Field(max_length=2000)]] = Field(default=[], max_length=20)
    reporter_type: ReporterType = ReporterType.CITIZEN
    reporter_phone: Annotated[str | None, Field(max_length=32, pattern=r"^\+?[0-9\- ]{5,32}$")] = (
        None
    )
    enterprise_id: str | None = Field(default=None, max_length=64)


class ReportOut(BaseModel):
    issue_id: str
    receipt_code: str
    state: str


def pseudonym(secret: bytes, contact: str) -> str:
    """A stable pseudonymous reporter id: the same phone gives the same id, never the phone."""
    digits = "".join(ch for ch in contact if ch.isdigit())
    return hmac.new(secret, digits.encode(), hashlib.sha256).hexdigest()[:24]


def build_router(store: IntakeStore, publisher: EventPublisher, pseudonym_key: bytes) -> APIRouter:
    router = APIRouter(tags=["issues"])

    @router.post("/issues", status_code=status.HTTP_201_CREATED, response_model=ReportOut)
    async def report(body: ReportIn, response: Response) -> ReportOut:
        issue_id = new_issue_id()
        event = IssueReported(
            issue_id=issue_id,
            producer="intake",
            payload=IssueReportedPayload(
                channel=body.channel,
                kind=body.kind,
                text=body.text,
                category=body.category,
                location=Location(**body.location.model_dump()),
                media_urls=tuple(body.media_urls),
                reporter_id=pseudonym(pseudonym_key, body.reporter_phone)
                if body.reporter_phone
                else None,
                reporter_type=body.reporter_type,
                enterprise_id=body.enterprise_id,
            ),
        )
        receipt = new_receipt_code()
        await store.save_receipt(receipt, issue_id)
        [landed] = await publisher.publish(event)  # answers only once Kafka acknowledged it
        await store.apply(event, landed.offset)  # read-your-writes; the consumer's copy is a no-op
        response.headers["Location"] = f"/issues/{issue_id}"
        return ReportOut(issue_id=issue_id, receipt_code=receipt, state="received")

    @router.get("/issues/{issue_id}")
    async def get_issue(issue_id: str) -> dict[str, Any]:
        view = await store.issue(issue_id)
        if view is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no issue {issue_id}")
        view["issue_id"] = view.pop("_id")
        view["history"] = history_in_order(view.get("history", {}))
        return view

    return router
