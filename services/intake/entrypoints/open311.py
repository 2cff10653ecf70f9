"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) on top of intake.

Services come from the category catalogue; `POST /requests` is form-encoded with an
`api_key` (a principal's token); every resource answers in `.json` or `.xml`; errors
are the spec's list of {code, description} with the matching HTTP status, validation errors of
the query included (`errors.py` renders them all).

Reading requests is public, as the spec has it, with personal numbers masked in their text and
without the reports an operator withheld; a caller who names themselves (`api_key` query
parameter or bearer token) reads only what they may see (`domain.rules.may_see`) — a
supervisor, only the issues within their region — as written.
"""

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError

from services.contracts.days import Instant
from services.contracts.vocabulary import Channel, Kind
from services.intake.domain.catalogue import Catalogue
from services.intake.domain.errors import Forbidden
from services.intake.domain.fingerprint import fingerprint
from services.intake.domain.reports import ReportIn
from services.intake.domain.rules import Act, Principal, check, may_see
from services.intake.domain.scope import place_of
from services.intake.entrypoints.auth import IdempotencyKey, limited
from services.intake.entrypoints.open311_format import (
    CLOSED,
    OPEN311_PREFIX,
    Open311Error,
    render,
    service_request,
    services,
)
from services.intake.handlers.issues import IntakeHandlers
from services.runtime.auth import bearer_token

MAX_REQUESTS = 1000
Format = Literal["json", "xml"]
SPEC_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": what, "content": {"application/json": {}, "text/xml": {}}}
    for code, what in {
        400: "a parameter is missing or invalid",
        403: "api_key missing or invalid",
        404: "no such resource or format",
        429: "rate limited",
    }.items()
}
BOTH: dict[int | str, dict[str, Any]] = {200: {"content": {"application/json": {}, "text/xml": {}}}}


def seen_by(who: Principal | None, views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The views a caller may see (an anonymous caller: all of them, the public list)."""
    if who is None:
        return views
    return [
        view
        for view in views
        if may_see(
            who, view["_id"], view.get("office_id"), view.get("co_office_ids", []), place_of(view)
        )
    ]


def build_router(intake: IntakeHandlers, catalogue: Catalogue) -> APIRouter:
    router = APIRouter(
        prefix=OPEN311_PREFIX, tags=["open311"], responses=SPEC_ERRORS,
        dependencies=[Depends(limited(intake.throttle, "open311"))],
    )  # fmt: skip

    async def caller(api_key: str | None, bearer: str | None) -> Principal | None:
        """Who reads, if they say: an `api_key` (or a bearer token); an unknown one is a 403."""
        key = api_key or bearer
        if not key:
            return None
        who = await intake.authenticate.token(key)
        if who is None:
            raise Open311Error(403, "api_key invalid")
        return who

    async def readable(who: Principal | None, views: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """What a caller reads of `views`: theirs as written, or the public ones masked."""
        if who is not None:
            theirs = await intake.written(seen_by(who, views))
            return [service_request(v, catalogue, public=False) for v in theirs]
        withheld = await intake.store.withheld_among(v["_id"] for v in views)
        return [service_request(v, catalogue) for v in views if v["_id"] not in withheld]

    Bearer = Annotated[str | None, Depends(bearer_token)]

    @router.get("/services.{fmt}", summary="Service list", responses=BOTH)
    async def service_list(fmt: Format) -> Response:
        return render(fmt, "services", services(catalogue))

    @router.get("/services/{service_code}.{fmt}", summary="Service definition", responses=BOTH)
    async def definition(service_code: str, fmt: Format) -> Response:
        if catalogue.item(service_code) is None:
            raise Open311Error(404, f"service_code {service_code} not found")
        kinds = [{"key": kind.value, "name": kind.value} for kind in Kind]
        attribute = {
            "variable": True, "code": "kind", "datatype": "singlevaluelist", "required": False,
            "datatype_description": "what the request asks for (default: complaint)",
            "order": 1, "description": "Kind of request", "values": kinds,
        }  # fmt: skip
        body = {"service_code": service_code, "attributes": [attribute]}
        return render(fmt, "service_definition", body)

    @router.post("/requests.{fmt}", summary="Create a service request", responses=BOTH)
    async def create(fmt: Format, request: Request, key: IdempotencyKey = None) -> Response:
        form = await request.form()
        fields = {k: str(v) for k, v in form.items()}
        who, report = await _read_request(intake, catalogue, fields)
        print_ = fingerprint("POST", request.url.path, report.model_dump(mode="json"))

        def answer(out: dict[str, Any]) -> tuple[int, Any]:
            created = {"service_request_id": out["issue_id"], "service_notice": None,
                       "account_id": None}  # fmt: skip
            return 200, [created]

        async def work(seed: uuid.UUID | None) -> tuple[int, Any]:
            _, out = await intake.create_report(report, who, seed)
            return answer(out)

        async def recall(seed: uuid.UUID) -> tuple[int, Any] | None:
            first = await intake.recall_report(report, seed)
            return None if first is None else answer(first[1])

        _, body, replayed = await intake.idempotency.run(who.id, key, print_, work, recall)
        response = render(fmt, "service_requests", body)
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response

    @router.get("/requests.{fmt}", summary="Service requests", responses=BOTH)
    async def requests(
        fmt: Format,
        bearer: Bearer,
        api_key: str | None = None,
        service_request_id: str | None = None,
        service_code: str | None = None,
        start_date: Instant | None = None,
        end_date: Instant | None = None,
        status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    ) -> Response:
        who = await caller(api_key, bearer)
        query: dict[str, Any] = {}
        if service_request_id:
            query["_id"] = {"$in": [i.strip() for i in service_request_id.split(",")]}
        if service_code:
            query["category"] = {"$in": service_code.split(",")}
        if start_date or end_date:
            query["reported_at"] = {
                **({"$gte": start_date} if start_date else {}),
                **({"$lte": end_date} if end_date else {}),
            }
        if status:
            query["state"] = {"$in" if status == "closed" else "$nin": sorted(CLOSED)}
        # a caller's filter runs here, after the query: fetch all, keep theirs, then cap
        views = await intake.store.issues(query, limit=0 if who else MAX_REQUESTS)
        return render(fmt, "service_requests", (await readable(who, views))[:MAX_REQUESTS])

    async def one_readable(issue_id: str, who: Principal | None) -> dict[str, Any] | None:
        view = await intake.store.issue(issue_id)
        shown = await readable(who, [view]) if view is not None else []
        return shown[0] if shown else None  # not one this caller may see: as if there were none

    @router.get("/requests/{service_request_id}.{fmt}", summary="A request", responses=BOTH)
    async def one(
        service_request_id: str, fmt: Format, bearer: Bearer, api_key: str | None = None
    ) -> Response:
        found = await one_readable(service_request_id, await caller(api_key, bearer))
        if found is None:
            raise Open311Error(404, f"service_request_id {service_request_id} not found")
        return render(fmt, "service_requests", [found])

    @router.get("/tokens/{token}.{fmt}", summary="Request id of a token", responses=BOTH)
    async def token(
        token: str, fmt: Format, bearer: Bearer, api_key: str | None = None
    ) -> Response:
        # requests are created synchronously: the token is the service_request_id itself; the
        # caller reads it only if they may read the request (the same scope as the list)
        if await one_readable(token, await caller(api_key, bearer)) is None:
            raise Open311Error(404, f"token {token} not found")
        return render(fmt, "service_requests", [{"service_request_id": token, "token": token}])

    return router


async def _read_request(
    intake: IntakeHandlers, catalogue: Catalogue, fields: dict[str, str]
) -> tuple[Principal, ReportIn]:
    """The form of `POST /requests`, checked as the spec answers: 403, 400 or 404."""
    key = fields.get("api_key")
    who = await intake.authenticate.token(key) if key else None
    if who is None:
        raise Open311Error(403, "api_key missing or invalid")
    try:
        check(Act.REPORT, who, None, None, "")
    except Forbidden as refused:
        raise Open311Error(403, refused.reason) from refused
    code = fields.get("service_code")
    if not code:
        raise Open311Error(400, "service_code is required")
    if catalogue.item(code) is None:
        raise Open311Error(404, f"service_code {code} not found")
    has_point = "lat" in fields and "long" in fields
    if not (has_point or fields.get("address_string") or fields.get("address_id")):
        raise Open311Error(
            400, "a location is required: lat and long, address_string or address_id"
        )
    point = {"latitude": fields["lat"], "longitude": fields["long"]} if has_point else {}
    try:  # the model parses every field, so a refusal names it ("location.latitude: …")
        report = ReportIn.model_validate({
            "channel": Channel.OPEN311,
            "kind": fields.get("attribute[kind]", Kind.COMPLAINT.value),
            "text": fields.get("description") or code,
            "category": code,
            "location": {**point, "address": fields.get("address_string"),
                         "region_code": fields.get("address_id")},
            "media_urls": [fields["media_url"]] if fields.get("media_url") else [],
            "reporter_phone": fields.get("phone") or None,
            "reporter_name": " ".join(
                part for part in (fields.get("first_name"), fields.get("last_name")) if part
            ) or None,
        })  # fmt: skip
    except ValidationError as invalid:
        raise Open311Error(400, _reason(invalid)) from invalid
    return who, report


def _reason(invalid: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in invalid.errors())
