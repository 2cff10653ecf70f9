"""What a report and a new principal say, as the API takes them. Pure pydantic: field rules
are checked here, so an error names its field wherever the model is used (native API, Open311)."""

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.contracts.regions import RegionCode
from services.contracts.vocabulary import Channel, Kind, Level, ReporterType
from services.intake.domain.rules import Role

Phone = Annotated[str, Field(max_length=32, pattern=r"^\+?[0-9][0-9\- ]{4,30}$")]
MEDIA_URL = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+[^\s]*$"
MediaUrl = Annotated[
    str, Field(max_length=2000, pattern=MEDIA_URL, description="an absolute http or https URL")
]
"""A photo or a recording as a link: only http(s), which every reader (Open311 clients, the
console) may follow or show as it is; never `javascript:`, `data:` or a relative path."""


def is_media_url(url: object) -> bool:
    """Whether `url` is a link `MediaUrl` lets in (what reports stored before that rule may
    not be: such links are never shown)."""
    return isinstance(url, str) and len(url) <= 2000 and re.match(MEDIA_URL, url) is not None


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region_code: RegionCode | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    address: str | None = Field(default=None, max_length=500)


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    kind: Kind
    text: str = Field(min_length=1, max_length=5000)
    category: str | None = Field(default=None, max_length=64)
    location: LocationIn = LocationIn()
    media_urls: list[MediaUrl] = Field(default=[], max_length=20)
    reporter_type: ReporterType = ReporterType.CITIZEN
    reporter_phone: Phone | None = None
    reporter_name: str | None = Field(default=None, max_length=100)
    enterprise_id: str | None = Field(default=None, max_length=64)
    direct_answer: str | None = Field(
        default=None, min_length=1, max_length=5000,
        description="直办: the operator's answer; the issue is answered at intake, not dispatched",
    )  # fmt: skip
    public: bool = Field(
        default=True,
        description="false: the report stays out of public reads (Open311, a stranger's look-up)",
    )


class PrincipalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    name: str = Field(min_length=1, max_length=100, description="who holds the token (not logged)")
    office_id: str | None = Field(default=None, max_length=64)
    region_code: RegionCode | None = None
    level: Level | None = Field(default=None, description="a supervisor's level")
