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

from pydantic import Field

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


RegionCode = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{6}(?:[0-9]{3}){0,3}$",
        description="an administrative division code: 6 digits (a city ends in 00, else a "
        "county), 9 (township), 12 (village) or 15 (grid); ASCII digits only",
    ),
]
"""A region code a request names (a query parameter or a field), as `level_of` knows it:
every code this pattern lets through has a level, and nothing else does (no path, no NUL, no
full-width digits)."""


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
