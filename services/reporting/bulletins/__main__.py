"""`python -m services.reporting.bulletins --region 411900 --week 2026-11-16 --format md`:
one bulletin from the reporting store (HUIYIN_* settings), printed or written to --out."""

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from services.reporting.adapters.store import ReportingStore
from services.reporting.bulletins.schedule import write_atomically
from services.reporting.bulletins.service import Bulletins, BulletinSettings
from services.reporting.domain.period import Period, parse_month
from services.reporting.settings import ReportingSettings
from services.runtime.mongo import make_mongo_client


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m services.reporting.bulletins",
        description="周通报 / 月报告: the weekly bulletin or monthly report of a region",
    )
    parser.add_argument("--region", help="a region code at any level; absent: every region")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--week", type=date.fromisoformat, help="a day of the ISO week")
    which.add_argument("--month", help="YYYY-MM")
    parser.add_argument("--format", choices=("md", "html"), default="md")
    parser.add_argument("--out", type=Path, help="write here (atomically) instead of printing")
    args = parser.parse_args(argv)
    try:
        args.period = Period.week_of(args.week) if args.week else parse_month(args.month)
    except ValueError as error:
        parser.error(f"--month: {error}")
    return args


async def make(args: argparse.Namespace) -> str:
    settings = ReportingSettings()
    timezone = ZoneInfo(settings.timezone)
    client = make_mongo_client(settings.platform)
    try:
        store = ReportingStore(
            client[settings.platform.database("reporting")], settings.fact_rules()
        )
        bulletins = Bulletins(
            store,
            BulletinSettings(),
            timezone=timezone,
            weights=settings.weights(),
            backlog_days=settings.backlog_min_age_days,
        )
        return await bulletins.render(args.period, args.region, args.format)
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    text = asyncio.run(make(args))
    if args.out:
        write_atomically(args.out, text)
        print(args.out)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
