"""`python -m devkit.simulator`: play a compressed day against running services.

    HUIYIN_INTAKE_ADMIN_TOKEN=… python -m devkit.simulator --intake http://127.0.0.1:8101 \\
        --reporting http://127.0.0.1:8104 [--reports 300] [--minutes 4] [--seed 12345]

The admin token comes from the environment (`--admin-token=…` also works; the `=` keeps a
token that starts with "-" from reading as an option).

Deadlines are missed within minutes only when supervision runs with the clock offset of
`devkit.simulator.clock` (`make run` sets it); otherwise no flag is raised during the day.
"""

import argparse
import asyncio
import os
import signal
from pathlib import Path

from rich.console import Console

from devkit.simulator.day import DaySettings
from devkit.simulator.play import play, print_summary, write_summary


def settings_from_env(intake: str, reporting: str, admin_token: str) -> DaySettings:
    """The day `make run` plays: HUIYIN_DEMO_REPORTS, HUIYIN_DEMO_MINUTES, HUIYIN_DEMO_SEED."""
    return DaySettings(
        intake=intake,
        reporting=reporting,
        admin_token=admin_token,
        reports=int(os.environ.get("HUIYIN_DEMO_REPORTS", "300")),
        minutes=float(os.environ.get("HUIYIN_DEMO_MINUTES", "4")),
        seed=int(os.environ.get("HUIYIN_DEMO_SEED", "12345")),
        timezone=os.environ.get("HUIYIN_REPORTING_TIMEZONE", "Asia/Shanghai"),
    )


def simulate(settings: DaySettings, console: Console, summary_path: Path | None = None) -> bool:
    """Play the day; Ctrl-C (or SIGTERM) ends it early. Prints the day's figures either way;
    True when the day was stopped early."""

    async def main() -> bool:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            summary = await play(settings, console, stop)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        print_summary(summary, settings, console)
        if summary_path is not None:
            write_summary(summary, summary_path)
        return stop.is_set()

    console.print(
        f"[bold]A day of {settings.reports} reports in {settings.minutes:g} minutes[/] "
        f"(seed {settings.seed}); Ctrl-C ends the day early"
    )
    return asyncio.run(main())


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intake", required=True)
    parser.add_argument("--reporting", required=True)
    parser.add_argument("--admin-token", default=os.environ.get("HUIYIN_INTAKE_ADMIN_TOKEN"))
    parser.add_argument("--reports", type=int)
    parser.add_argument("--minutes", type=float)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--summary", type=Path, help="also write the figures here as JSON")
    args = parser.parse_args()
    if not args.admin_token:
        parser.error("--admin-token (or HUIYIN_INTAKE_ADMIN_TOKEN) is required")
    settings = settings_from_env(args.intake, args.reporting, args.admin_token)
    changes = {k: getattr(args, k) for k in ("reports", "minutes", "seed") if getattr(args, k)}
    settings = DaySettings(**{**settings.__dict__, **changes})
    simulate(settings, Console(soft_wrap=True), args.summary)


if __name__ == "__main__":
    cli()
