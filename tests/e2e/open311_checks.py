"""A Schemathesis check (loaded through SCHEMATHESIS_HOOKS): every Open311 error is the
GeoReport v2 error list in the format the path asks for, its code the HTTP status."""

from typing import Any
from xml.etree import ElementTree

import schemathesis


@schemathesis.check
def open311_error_format(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code < 400 or not case.path.startswith("/open311/"):
        return None
    fmt = (case.path_parameters or {}).get("fmt")
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if fmt == "xml":
        assert content_type.startswith("text/xml"), f"an .xml error as {content_type}"
        root = ElementTree.fromstring(response.content)
        assert root.tag == "errors", f"<{root.tag}> instead of <errors>"
        assert root.findtext("error/code") == str(response.status_code), response.text
        assert root.findtext("error/description"), response.text
    else:
        assert content_type.startswith("application/json"), f"a JSON error as {content_type}"
        errors = response.json()
        assert isinstance(errors, list) and errors, f"not the spec's error list: {response.text}"
        for error in errors:
            assert set(error) == {"code", "description"}, response.text
            assert error["code"] == response.status_code and error["description"], response.text
    return True


@schemathesis.hook
def map_query(ctx: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
    """Read with the run's bearer token: a random api_key would make every read a 403."""
    if query:
        query.pop("api_key", None)
    return query
