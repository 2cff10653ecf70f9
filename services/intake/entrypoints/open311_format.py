"""Open311 GeoReport v2's two formats (JSON arrays and the spec's XML documents), and how a
status view reads as a service request."""

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi import Response

from services.contracts.vocabulary import IssueState
from services.intake.domain.catalogue import Catalogue
from services.intake.domain.masking import masked
from services.intake.domain.reports import is_media_url

OPEN311_PREFIX = "/open311/v2"
FORMATS = ("json", "xml")
MEDIA_TYPES = {"json": "application/json", "xml": "text/xml"}
ITEM_ELEMENT = {  # the spec's XML: <services><service>…, <service_requests><request>…
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
}


class Open311Error(Exception):
    """An error as the spec answers it: a list of {code, description} and an HTTP status."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def fmt_of(path: str) -> str:
    """The format a path asks for (`…/requests.xml`); JSON when it names none we know."""
    suffix = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    return suffix if suffix in FORMATS else "json"


def timestamp(value: datetime | None) -> str | None:
    """W3C / ISO 8601 with a time zone, as the spec asks."""
    return None if value is None else value.astimezone(UTC).isoformat(timespec="seconds")


def render(fmt: str, root: str, body: Sequence[dict[str, Any]] | dict[str, Any]) -> Response:
    """`body` as JSON, or as XML under `root` (a list becomes one item element per entry)."""
    if fmt == "json":
        return Response(json.dumps(body, ensure_ascii=False), media_type=MEDIA_TYPES["json"])
    element = Element(root)
    if isinstance(body, dict):
        _fill(element, body)
    else:
        for entry in body:
            _fill(SubElement(element, ITEM_ELEMENT.get(root, root)), entry)
    document = b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(element, encoding="utf-8")
    return Response(document, media_type=MEDIA_TYPES["xml"])


def error(fmt: str, failure: Open311Error) -> Response:
    response = render(
        fmt if fmt in FORMATS else "json",
        "errors",
        [{"code": failure.status, "description": failure.description}],
    )
    response.status_code = failure.status
    return response


def _fill(parent: Element, fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        child = SubElement(parent, key)
        if isinstance(value, dict):
            _fill(child, value)
        elif isinstance(value, list):
            for entry in value:
                item = SubElement(child, ITEM_ELEMENT.get(key, "value"))
                if isinstance(entry, dict):
                    _fill(item, entry)
                else:
                    item.text = _text(entry)
        elif value is not None:
            child.text = _text(value)


NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot carry (control characters, lone surrogates), even escaped."""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("\ufffd", str(value))


CLOSED = {IssueState.CLOSED.value, IssueState.MERGED.value, IssueState.ANSWERED.value}
NOTES = ("IssueResolved", "ProgressNoted", "IssueAnswered", "IssueReturned", "IssueReopened")


def status_of(state: str | None) -> str:
    return "closed" if state in CLOSED else "open"


def status_notes(view: dict[str, Any]) -> str | None:
    notes = [h for h in view.get("history", {}).values() if h["type"] in NOTES]
    if not notes:
        return None
    last = max(notes, key=lambda h: int(h["offset"]))
    return str(last.get("result") or last.get("note") or last.get("answer") or last.get("reason"))


def service_request(
    view: dict[str, Any], catalogue: Catalogue, public: bool = True
) -> dict[str, Any]:
    """A status view as a service request; `public`: with personal numbers masked in its text
    (anyone may read it), else as written (staff who named themselves)."""
    shown = masked if public else (lambda text: text)
    category = view.get("category") or ""
    found = catalogue.item(category)
    location = view.get("location") or {}
    deadlines = view.get("deadlines") or {}
    expected: datetime | None = deadlines.get("resolve") or deadlines.get("accept")
    return {
        "service_request_id": view["_id"],
        "status": status_of(view.get("state")),
        "status_notes": shown(status_notes(view)),
        "service_name": f"{found[1].name} {found[1].name_en}" if found else None,
        "service_code": category or None,
        "description": shown(view.get("description")),
        "agency_responsible": view.get("office_id"),
        "service_notice": None,
        "requested_datetime": timestamp(view.get("reported_at")),
        "updated_datetime": timestamp(view.get("updated_at")),
        "expected_datetime": timestamp(expected),
        "address": shown(location.get("address")),
        "address_id": None,
        "zipcode": None,
        "lat": location.get("latitude"),
        "long": location.get("longitude"),
        "media_url": next(filter(is_media_url, view.get("media_urls") or ()), None),
    }


def services(catalogue: Catalogue) -> list[dict[str, Any]]:
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
        for group, item in catalogue.items()
    ]
