"""The bulletins over HTTP: the weekly bulletin and the monthly report of a region, as
Markdown or as self-contained HTML, made on demand."""

from datetime import date
from enum import StrEnum

from fastapi import APIRouter, Query, Response

from services.contracts.days import Day
from services.reporting.bulletins.service import MEDIA_TYPES, Bulletins
from services.reporting.domain.period import Period, parse_month
from services.reporting.domain.scope import ScopeError, checked_region

REGION = Query(
    None,
    description="a region code at any level (city, county, township, village, grid): 6, 9, "
    "12 or 15 digits; absent: every region",
)


class BulletinFormat(StrEnum):
    MD = "md"
    HTML = "html"


ON = Query(None, description="a day of the ISO week; absent: last week")
MONTH = Query(None, description="YYYY-MM; absent: last month")
FORMAT = Query(BulletinFormat.MD, description="md (text/markdown) or html (text/html)")
RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {MEDIA_TYPES["md"]: {}, MEDIA_TYPES["html"]: {}}},
    422: {"description": "a bad parameter: the field and the reason"},
}


def build_bulletin_router(bulletins: Bulletins) -> APIRouter:
    router = APIRouter(tags=["bulletins"])

    def today() -> date:
        return bulletins.now().astimezone(bulletins.timezone).date()

    async def answer(period: Period, region_code: str | None, fmt: BulletinFormat) -> Response:
        body = await bulletins.render(period, checked_region("region_code", region_code), fmt.value)
        return Response(body, media_type=MEDIA_TYPES[fmt.value])

    @router.get(
        "/bulletins/weekly",
        summary="周通报: the weekly bulletin of a region",
        response_class=Response,
        responses=RESPONSES,
    )
    async def weekly(
        region_code: str | None = REGION,
        on: Day | None = ON,
        format: BulletinFormat = FORMAT,
    ) -> Response:
        period = Period.week_of(on) if on else Period.week_of(today()).before()
        return await answer(period, region_code, format)

    @router.get(
        "/bulletins/monthly",
        summary="月报告: the monthly report of a region",
        response_class=Response,
        responses=RESPONSES,
    )
    async def monthly(
        region_code: str | None = REGION,
        month: str | None = MONTH,
        format: BulletinFormat = FORMAT,
    ) -> Response:
        if month is None:
            day = today()
            period = Period.month_of(day.year, day.month).before()
        else:
            try:
                period = parse_month(month)
            except ValueError as error:
                raise ScopeError("month", f"{error}, got {month!r}") from None
        return await answer(period, region_code, format)

    return router
