"""Personal numbers in free text, masked for public outputs (Open311 reads, a receipt look-up by
anyone but the reporter). Operators type what callers say, so a report's text may hold a phone
number, an ID-card number or an e-mail address; staff with a token see the original. Pure.

Digits are ASCII `[0-9]` on purpose: Python's `\\d` also matches full-width and other digits."""

import re

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
