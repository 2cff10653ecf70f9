"""The scheduled bulletins: at each due time (weekly `mon 08:00`, monthly `1 08:00`, local
time), the previous period's bulletin of each configured region is written into the
bulletin directory as Markdown and HTML.

Idempotent: a bulletin's file name is its kind, period and region
(`weekly-2026-W47-411900.md`); a file already there is left alone, so a restart, a second
instance or a second look at the same due time writes nothing twice. Each file is written
to a temporary name in the same directory and renamed into place, so a reader never sees
half a bulletin. When the service was down at a due time, the latest due bulletin is
written when it starts again (earlier missed ones are not).

`now` and the tick are injected: a test moves the clock instead of waiting a week.
"""

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

from services.reporting.bulletins.service import Bulletins
from services.reporting.domain.period import Due, Period
from services.runtime.logging import get_logger

log = get_logger(__name__)

NAMES = {"week": "weekly", "month": "monthly"}


def file_stem(period: Period, region_code: str | None) -> str:
    return f"{NAMES[period.kind]}-{period.label}-{region_code or 'all'}"


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same directory and a rename."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class BulletinSchedule:
    def __init__(self, bulletins: Bulletins, directory: Path, dues: list[Due]) -> None:
        self.bulletins = bulletins
        self.directory = directory
        self.dues = dues
        self.written: list[Path] = []
        self._task: asyncio.Task[None] | None = None

    @property
    def regions(self) -> list[str | None]:
        return self.bulletins.settings.region_codes()

    async def run_due(self) -> list[Path]:
        """Write every bulletin due by now that is not written yet; the paths written."""
        now, tz = self.bulletins.now(), self.bulletins.timezone
        written: list[Path] = []
        self.directory.mkdir(parents=True, exist_ok=True)
        for due in self.dues:
            period = due.period(due.latest(now, tz), tz)
            for region in self.regions:
                stem = file_stem(period, region)
                missing = [
                    fmt for fmt in ("md", "html") if not (self.directory / f"{stem}.{fmt}").exists()
                ]
                if not missing:
                    continue
                found = await self.bulletins.figures(period, region)
                for fmt in missing:
                    path = self.directory / f"{stem}.{fmt}"
                    text = self.bulletins.rendered(found, fmt)
                    await asyncio.to_thread(write_atomically, path, text)
                    written.append(path)
                    log.info("bulletin.written", path=str(path))
        self.written += written
        return written

    def seconds_to_next(self) -> float:
        now, tz = self.bulletins.now(), self.bulletins.timezone
        following = min(due.next(now, tz) for due in self.dues)
        return max((following - now).total_seconds(), 0.0)

    async def run(self) -> None:
        tick = self.bulletins.settings.tick_seconds
        while True:
            try:
                await self.run_due()
            except Exception as error:  # the store may be away: try again at the next tick
                log.warning("bulletin.failed", error=repr(error))
            await asyncio.sleep(min(tick, self.seconds_to_next() or tick))

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="bulletin-schedule")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
