"""`python -m services.reporting.rebuild`: rebuild reporting's projection from the start of
the log (handlers.rebuild) into a new generation, with a progress bar; the running service
keeps serving the old one until the switch."""

import asyncio

from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress, TimeElapsedColumn

from services.reporting.adapters.log import KafkaLog
from services.reporting.adapters.store import ReportingStore
from services.reporting.handlers import RebuildStatus, rebuild
from services.reporting.settings import ReportingSettings
from services.runtime.mongo import make_mongo_client


def main() -> None:
    settings = ReportingSettings()
    platform = settings.platform
    console = Console()

    async def run() -> RebuildStatus:
        mongo = make_mongo_client(platform)
        store = ReportingStore(mongo[platform.database("reporting")], settings.fact_rules())
        columns = (*Progress.get_default_columns()[:-1], MofNCompleteColumn(), TimeElapsedColumn())
        try:
            with Progress(*columns, console=console) as bar:
                task = bar.add_task(f"rebuilding from {platform.issues_topic}", total=None)

                def show(read: int, total: int) -> None:
                    bar.update(task, completed=read, total=total)

                log = KafkaLog(platform.kafka, platform.issues_topic)
                return await rebuild(log, store, progress=show)
        finally:
            await mongo.close()

    done = asyncio.run(run())
    console.print(
        f"rebuilt {platform.database('reporting')} as generation {done.generation}: "
        f"{done.applied} events applied ({done.issues} issues, "
        f"{done.events_per_second:.0f} events/s), "
        f"{done.skipped} skipped, {done.caught_up} caught up after"
    )


if __name__ == "__main__":
    main()
