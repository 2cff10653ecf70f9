"""Reports for routing tests, and lookups into a city."""

from services.contracts.events import IssueReportedPayload, Location
from services.contracts.vocabulary import Channel, Kind, Level, ReporterType
from services.routing.domain.jurisdiction import City, Region


def report(
    text: str,
    *,
    category: str | None = None,
    kind: Kind = Kind.COMPLAINT,
    region: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    reporter_type: ReporterType = ReporterType.CITIZEN,
    enterprise_id: str | None = None,
    channel: Channel = Channel.HOTLINE,
) -> IssueReportedPayload:
    return IssueReportedPayload(
        channel=channel,
        kind=kind,
        text=text,
        category=category,
        location=Location(region_code=region, latitude=latitude, longitude=longitude),
        reporter_type=reporter_type,
        enterprise_id=enterprise_id,
    )


def first(city: City, level: Level, kind: str | None = None) -> Region:
    """The first region of a level (and of a kind of region, if given)."""
    return next(
        region
        for region in city.regions()
        if region.level is level and (kind is None or region.kind == kind)
    )


def chain(city: City, code: str) -> dict[Level, Region]:
    return {region.level: region for region in city.ancestors(code)}
