"""`python -m services.reporting.rebuild`: rebuild reporting's projection from the start of
the log (handlers.rebuild) into a new generation, with a progress bar; the running service
keeps serving the old one until the switch."""

import asyncio

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.reporting.adapters.log import KafkaLog
from services.reporting.adapters.spill import SpilledCells
from services.reporting.adapters.store import ReportingStore
from services.reporting.handlers import RebuildStatus, rebuild
from services.reporting.settings import ReportingSettings
from services.runtime.mongo import make_mongo_client
from services.runtime.service import collect_less


def main() -> None:
    settings = ReportingSettings()
    platform = settings.platform
    collect_less(settings.gc_thresholds)  # the fold holds many logs: as the service does
    console = Console()

    async def run() -> RebuildStatus:
        mongo = make_mongo_client(platform)
        store = ReportingStore(mongo[platform.database("reporting")], settings.fact_rules())
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[figures]}"),
            TimeElapsedColumn(),
        )
        try:
            with Progress(*columns, console=console) as bar:
                task = bar.add_task(platform.issues_topic, total=None, figures="")

                def show(status: RebuildStatus) -> None:
                    figures = (
                        f"{status.phase} · {status.events_per_second:,.0f} events/s · "
                        f"{status.issues:,} issues folded · {status.written:,} written · "
                        f"{status.cells:,} cells"
                    )
                    bar.update(task, completed=status.read, total=status.total, figures=figures)

                log = KafkaLog(platform.kafka, platform.issues_topic)
                with SpilledCells() as spill:
                    return await rebuild(log, store, spill, progress=show)
        finally:
            await mongo.close()

    done = asyncio.run(run())
    console.print(
        f"rebuilt {platform.database('reporting')} as generation {done.generation}: "
        f"{done.applied} events applied ({done.issues} issues, "
        f"{done.events_per_second:.0f} events/s), "
        f"{done.skipped} skipped, {done.cells} cells, {done.caught_up} caught up after"
    )


if __name__ == "__main__":
    main()
