"""Open311 GeoReport v2's two formats: JSON arrays and the spec's XML documents. Pure."""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi import Response

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


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
