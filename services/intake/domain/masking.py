"""Personal numbers in free text: masked on the log and for public outputs. Operators type what
callers say, so a report's text may hold a phone number, an ID-card number or an e-mail
address. What goes on the log (and so into every projection) is masked: a report's text and
address, a direct answer, an office's result, reason or note. Intake keeps a report's text and
address as typed, sealed like the contact (`Written`), and staff with a token read them so
(`written_view`); public outputs (Open311 reads, a receipt look-up by anyone but the reporter)
mask what they show again. Pure.

Digits are ASCII `[0-9]` on purpose: Python's `\\d` also matches full-width and other digits."""

import re
from dataclasses import dataclass
from typing import Any

MASK = "*"

_NOT_DIGIT_BEFORE, _NOT_DIGIT_AFTER = r"(?<![0-9])", r"(?![0-9])"
ID_CARD = re.compile(_NOT_DIGIT_BEFORE + r"[1-9][0-9]{16}[0-9Xx]" + _NOT_DIGIT_AFTER)
"""居民身份证号码: 17 digits and a check character (a digit or X)."""
MOBILE = re.compile(
    _NOT_DIGIT_BEFORE + r"(?:\+?86[ -]?)?1[3-9](?:[ -]?[0-9]){9}" + _NOT_DIGIT_AFTER
)
"""A mainland mobile number, also written in groups (139-8765-4321, 139 8765 4321, +86 …)."""
LANDLINE = re.compile(
    _NOT_DIGIT_BEFORE + r"\(?0[1-9][0-9]{1,2}\)?[ -]?[1-9][0-9]{6,7}" + _NOT_DIGIT_AFTER
)
"""A landline with its area code (0371-12345678, (010) 1234567)."""
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

PATTERNS = (ID_CARD, EMAIL, MOBILE, LANDLINE)


def _hide(found: re.Match[str]) -> str:
    """Every digit and letter of the match becomes the mask; separators keep their places."""
    return "".join(MASK if ch.isalnum() else ch for ch in found.group())


def mask(text: str) -> str:
    """`text` with every phone number, ID-card number and e-mail address masked."""
    for pattern in PATTERNS:
        text = pattern.sub(_hide, text)
    return text


def masked(text: str | None) -> str | None:
    return None if text is None else mask(text)


@dataclass(frozen=True)
class Written:
    """A report's text and address as typed (the log carries them masked)."""

    text: str
    address: str | None

    @property
    def holds_personal_numbers(self) -> bool:
        """Whether masking changed either: only then is there anything to keep."""
        return mask(self.text) != self.text or masked(self.address) != self.address

    def sealable(self) -> dict[str, str]:
        return {"description": self.text, "address": self.address or ""}


def written_view(view: dict[str, Any], opened: dict[str, str]) -> dict[str, Any]:
    """`view` with its report's text and address as typed (`opened`: `Written.sealable`)."""
    out = {**view, "description": opened.get("description") or view.get("description")}
    location = view.get("location")
    if isinstance(location, dict) and opened.get("address"):
        out["location"] = {**location, "address": opened["address"]}
    return out
