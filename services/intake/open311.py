"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) on top of intake.

Services come from the category catalogue; `POST /requests` is form-encoded with an
`api_key` (a principal's token); every resource answers in `.json` or `.xml`; errors
are the spec's list of {code, description} with the matching HTTP status.

Reading requests is public, as the spec has it; a caller who names themselves (`api_key`
query parameter or bearer token) reads only what they may see (`domain.may_see`): a
supervisor, only the issues within their region.
"""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError

from services.contracts.vocabulary import Channel, IssueState, Kind
from services.intake.api import IdempotencyKey, IntakeApi, LocationIn, ReportIn
from services.intake.catalogue import Catalogue
from services.intake.domain import Action, Principal, Refused, check, may_see
from services.intake.idempotency import fingerprint
from services.intake.open311_format import FORMATS, Open311Error, error, render, timestamp
from services.intake.scope import place_of

MAX_REQUESTS = 1000
CLOSED = {IssueState.CLOSED.value, IssueState.MERGED.value, IssueState.ANSWERED.value}
NOTES = ("IssueResolved", "ProgressNoted", "IssueAnswered", "IssueReturned", "IssueReopened")


def status_of(state: str) -> str:
    return "closed" if state in CLOSED else "open"


def status_notes(view: dict[str, Any]) -> str | None:
    notes = [h for h in view.get("history", {}).values() if h["type"] in NOTES]
    if not notes:
        return None
    last = max(notes, key=lambda h: int(h["offset"]))
    return str(last.get("result") or last.get("note") or last.get("answer") or last.get("reason"))


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


async def caller(api: IntakeApi, request: Request, api_key: str | None) -> Principal | None:
    """Who reads, if they say: an `api_key` (or a bearer token); an unknown one is a 403."""
    authorization = request.headers.get("Authorization", "")
    scheme, _, bearer = authorization.partition(" ")
    key = api_key or (bearer.strip() if scheme.lower() == "bearer" else None)
    if not key:
        return None
    who = await api.authenticate.token(key)
    if who is None:
        raise Open311Error(403, "api_key invalid")
    return who


class Open311:
    def __init__(self, api: IntakeApi, catalogue: Catalogue) -> None:
        self.api = api
        self.catalogue = catalogue

    def services(self) -> list[dict[str, Any]]:
        return [
            {
                "service_code": item.id,
                "service_name": f"{item.name} {item.name_en}",
                "description": f"{group.name} / {item.name}",
                "metadata": True,
                "type": "realtime",
                "keywords": ",".join(item.keywords),
                "group": group.name_en,
            }
            for group, item in self.catalogue.items()
        ]

    def definition(self, code: str) -> dict[str, Any]:
        if self.catalogue.item(code) is None:
            raise Open311Error(404, f"service_code {code} not found")
        kinds = [{"key": kind.value, "name": kind.value} for kind in Kind]
        attribute = {
            "variable": True, "code": "kind", "datatype": "singlevaluelist", "required": False,
            "datatype_description": "what the request asks for (default: complaint)",
            "order": 1, "description": "Kind of request", "values": kinds,
        }  # fmt: skip
        return {"service_code": code, "attributes": [attribute]}

    def request(self, view: dict[str, Any]) -> dict[str, Any]:
        category = view.get("category") or ""
        found = self.catalogue.item(category)
        location = view.get("location") or {}
        deadlines = view.get("deadlines") or {}
        expected: datetime | None = deadlines.get("resolve") or deadlines.get("accept")
        return {
            "service_request_id": view["_id"],
            "status": status_of(view["state"]),
            "status_notes": status_notes(view),
            "service_name": f"{found[1].name} {found[1].name_en}" if found else None,
            "service_code": category or None,
            "description": view.get("description"),
            "agency_responsible": view.get("office_id"),
            "service_notice": None,
            "requested_datetime": timestamp(view.get("reported_at")),
            "updated_datetime": timestamp(view.get("updated_at")),
            "expected_datetime": timestamp(expected),
            "address": location.get("address"),
            "address_id": None,
            "zipcode": None,
            "lat": location.get("latitude"),
            "long": location.get("longitude"),
            "media_url": (view.get("media_urls") or [None])[0],
        }


def build_router(api: IntakeApi, catalogue: Catalogue) -> APIRouter:
    open311 = Open311(api, catalogue)
    router = APIRouter(prefix="/open311/v2", tags=["open311"])
    limited = [Depends(api.limits.dependency("open311"))]

    def answer(fmt: str, produce: Any) -> Response:
        try:
            if fmt not in FORMATS:
                raise Open311Error(404, f"format must be json or xml, not {fmt}")
            return produce()  # type: ignore[no-any-return]
        except Open311Error as failure:
            return error(fmt, failure)

    @router.get("/services.{fmt}", dependencies=limited, summary="Service list")
    async def services(fmt: str) -> Response:
        return answer(fmt, lambda: render(fmt, "services", open311.services()))

    @router.get(
        "/services/{service_code}.{fmt}", dependencies=limited, summary="Service definition"
    )
    async def definition(service_code: str, fmt: str) -> Response:
        return answer(
            fmt, lambda: render(fmt, "service_definition", open311.definition(service_code))
        )

    @router.post("/requests.{fmt}", dependencies=limited, summary="Create a service request")
    async def create(fmt: str, request: Request, key: IdempotencyKey = None) -> Response:
        try:
            if fmt not in FORMATS:
                raise Open311Error(404, f"format must be json or xml, not {fmt}")
            form = await request.form()
            fields = {k: str(v) for k, v in form.items()}
            who, report = await _read_request(open311, fields)
            print_ = fingerprint("POST", request.url.path, report.model_dump(mode="json"))

            async def work(seed: uuid.UUID | None) -> tuple[int, Any]:
                _, out = await api.create_report(report, who, seed)
                created = {"service_request_id": out["issue_id"], "service_notice": None,
                           "account_id": None}  # fmt: skip
                return 200, [created]

            _, body, _ = await api.idempotency.run(who.id, key, print_, work)
            return render(fmt, "service_requests", body)
        except Open311Error as failure:
            return error(fmt, failure)

    @router.get("/requests.{fmt}", dependencies=limited, summary="Service requests")
    async def requests(
        fmt: str,
        request: Request,
        api_key: str | None = None,
        service_request_id: str | None = None,
        service_code: str | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
    ) -> Response:
        async def produce(who: Principal | None) -> list[dict[str, Any]]:
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
            views = await api.store.issues(query, limit=0 if who else MAX_REQUESTS)
            return [open311.request(v) for v in seen_by(who, views)[:MAX_REQUESTS]]

        try:
            if fmt not in FORMATS:
                raise Open311Error(404, f"format must be json or xml, not {fmt}")
            return render(
                fmt, "service_requests", await produce(await caller(api, request, api_key))
            )
        except Open311Error as failure:
            return error(fmt, failure)

    @router.get("/requests/{service_request_id}.{fmt}", dependencies=limited, summary="A request")
    async def one(
        service_request_id: str, fmt: str, request: Request, api_key: str | None = None
    ) -> Response:
        try:
            who = await caller(api, request, api_key)
        except Open311Error as failure:
            return error(fmt, failure)
        view = await api.store.issue(service_request_id)
        if view is not None and not seen_by(who, [view]):
            view = None  # not one this caller may see: as if there were none
        if fmt not in FORMATS or view is None:
            return error(
                fmt, Open311Error(404, f"service_request_id {service_request_id} not found")
            )
        return render(fmt, "service_requests", [open311.request(view)])

    @router.get("/tokens/{token}.{fmt}", dependencies=limited, summary="Request id of a token")
    async def token(token: str, fmt: str) -> Response:
        # requests are created synchronously: the token is the service_request_id itself
        view = await api.store.issue(token)
        if fmt not in FORMATS or view is None:
            return error(fmt, Open311Error(404, f"token {token} not found"))
        return render(fmt, "service_requests", [{"service_request_id": token, "token": token}])

    return router


async def _read_request(open311: Open311, fields: dict[str, str]) -> tuple[Principal, ReportIn]:
    """The form of `POST /requests`, checked as the spec answers: 403, 400 or 404."""
    api = open311.api
    key = fields.get("api_key")
    who = await api.authenticate.token(key) if key else None
    if who is None:
        raise Open311Error(403, "api_key missing or invalid")
    try:
        check(Action.REPORT, who, None, None, "")
    except Refused as refused:
        raise Open311Error(403, refused.reason) from refused
    code = fields.get("service_code")
    if not code:
        raise Open311Error(400, "service_code is required")
    if open311.catalogue.item(code) is None:
        raise Open311Error(404, f"service_code {code} not found")
    has_point = "lat" in fields and "long" in fields
    if not (has_point or fields.get("address_string") or fields.get("address_id")):
        raise Open311Error(
            400, "a location is required: lat and long, address_string or address_id"
        )
    try:
        report = ReportIn(
            channel=Channel.OPEN311,
            kind=Kind(fields.get("attribute[kind]", Kind.COMPLAINT.value)),
            text=fields.get("description") or code,
            category=code,
            location=LocationIn(
                latitude=float(fields["lat"]) if has_point else None,
                longitude=float(fields["long"]) if has_point else None,
                address=fields.get("address_string"),
                region_code=fields.get("address_id"),
            ),
            media_urls=[fields["media_url"]] if fields.get("media_url") else [],
            reporter_phone=fields.get("phone") or None,
            reporter_name=" ".join(
                part for part in (fields.get("first_name"), fields.get("last_name")) if part
            ) or None,
        )  # fmt: skip
    except (ValidationError, ValueError) as invalid:
        raise Open311Error(400, _reason(invalid)) from invalid
    return who, report


def _reason(invalid: Exception) -> str:
    if isinstance(invalid, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in invalid.errors()
        )
    return str(invalid)
