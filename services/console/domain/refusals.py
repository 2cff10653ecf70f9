"""A service's refusal as a sentence a person can read: who may not, which state, which field."""

from typing import Any

from services.console.domain.i18n import translate


def readable(status: int, detail: Any, lang: str) -> str:
    """The message for an API answer with `status` and FastAPI's `detail` (a string, or for
    a 422 a list of {loc, msg}); in `lang`."""
    if status == 422 and isinstance(detail, list):
        parts = []
        for error in detail:
            loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
            name = ".".join(loc) or "?"
            parts.append(
                f"{translate('field.' + name, lang, default=name)}: {error.get('msg', '')}"
            )
        return f"{translate('refused.422', lang)} {'; '.join(parts)}"
    text = detail if isinstance(detail, str) else str(detail or "")
    key = f"refused.{status}" if status in (401, 403, 404, 409, 422, 429) else "refused.other"
    head = translate(key, lang)
    if key == "refused.other":
        head = f"{head} ({status})"
    return f"{head} {text}".strip()


LOGGED_CHARS = 300


def loggable(detail: Any) -> str:
    """A refusal's `detail` as the console may log it: for a 422, each field and its reason,
    never the value sent (FastAPI echoes it as `input`, and what was sent may be a reporter's
    phone number or name); anything else as text, cut to LOGGED_CHARS."""
    if isinstance(detail, list):
        parts = []
        for error in detail:
            if not isinstance(error, dict):
                continue
            loc = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query"))
            parts.append(f"{loc or '?'}: {error.get('msg', '')}")
        return "; ".join(parts)[:LOGGED_CHARS]
    return (detail if isinstance(detail, str) else str(detail or ""))[:LOGGED_CHARS]


def detail_of(body: Any) -> Any:
    """FastAPI's `detail` from an error body (anything else as it is)."""
    if isinstance(body, dict) and "detail" in body:
        return body["detail"]
    return body
