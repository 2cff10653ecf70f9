"""Region codes as the log carries them: administrative division codes (GB/T 2260) and the
sample city's extensions below them — a city (or province) of six digits ending in 00,
counties of six digits, townships of nine, villages of twelve, grids of fifteen. Each code
begins with the code of the region above it, once a city's trailing zero pairs are dropped.

Routing knows the tree and puts an issue's region path on `IssueTriaged`; these rules are
for what carries only a code (an issue answered at intake is never triaged). Pure.
"""

import re
from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator

from services.contracts.vocabulary import Level

LEVEL_BY_LENGTH = {6: Level.COUNTY, 9: Level.TOWNSHIP, 12: Level.VILLAGE, 15: Level.GRID}
CODE_RULE = "a region code is ASCII digits: 6 (city, county), 9, 12 or 15 digits"


def level_of(code: str) -> Level | None:
    """The level of a region code; None when it is no such code."""
    if not re.fullmatch(r"[0-9]+", code):
        return None
    if len(code) == 6 and code.endswith("00"):
        return Level.CITY
    return LEVEL_BY_LENGTH.get(len(code))


def checked_code(code: str) -> str:
    """`code` itself when it is a region code of some level, else a ValueError (`CODE_RULE`:
    pydantic's 422 names the field)."""
    if level_of(code) is None:
        raise ValueError(CODE_RULE)
    return code


RegionCode = Annotated[str, AfterValidator(checked_code)]
"""A region code a request names (a query parameter or a field), at any level."""


def stem(region_code: str) -> str:
    """The prefix every code under a region begins with: a six-digit city or province drops
    its trailing zero pairs (410000 → 41, 411900 → 4119); other codes are their own prefix."""
    if len(region_code) != 6:
        return region_code
    while len(region_code) > 2 and region_code.endswith("00"):
        region_code = region_code[:-2]
    return region_code


def lies_under(code: str, region_code: str) -> bool:
    """Whether the region `code` is `region_code` or lies below it, by the codes alone."""
    return code.startswith(stem(region_code))


def lies_in(region_path: Sequence[str], region_code: str | None, region: str | None) -> bool:
    """The one containment rule: whether an issue lies in `region` (None: every region).

    An issue routing triaged lies in the regions on its region path (from the city down). An
    issue never triaged (answered at intake, 直办) has no path, only its own code: it lies in
    the regions its code lies under by the administrative division codes (411901002001 lies
    in 411901002, 411901 and 411900). An issue with neither lies in no region."""
    if region is None:
        return True
    if region_path:
        return region in region_path
    return bool(region_code) and lies_under(str(region_code), region)
