"""A service's path built from what a person typed or a page's URL carried. Pure.

An issue id, a receipt code or a region code is one segment of the path the console calls on
its users' behalf: percent-encoded whole, so `?`, `#`, `/`, NUL or a dot segment in it stay in
that segment (`/issues/%3Fx` is intake's 404 for no such issue), never a query, another route
(`/issues/..` → `/`) or a URL the HTTP client refuses (a 500)."""

from urllib.parse import quote

DOTS = {".": "%2E", "..": "%2E%2E"}


def path(*segments: object) -> str:
    """`/a/b/c` with each segment percent-encoded whole (dot segments too)."""
    return "".join("/" + DOTS.get(str(s), quote(str(s), safe="")) for s in segments)
