"""bench/console.py at a tiny size: it files, waits, signs in and times every page."""

from pathlib import Path

from bench.console import measure
from devkit.infra import Endpoints
from devkit.processes import Platform
from tests.fixtures.calendars import TEST_CALENDAR_ENV


def test_the_console_benchmark_runs(servers: Endpoints, namespace: str, tmp_path: Path) -> None:
    platform = Platform(servers, namespace, tmp_path / "logs", TEST_CALENDAR_ENV, console=True)
    platform.start()
    try:
        timings = measure(platform, 5)
    finally:
        platform.stop()
    assert timings.issues == 5
    assert set(timings.pages_ms) == {"/office", "/dashboard"}
    if Path("/usr/bin/chromium").exists():
        assert set(timings.paint_ms) == {"/office", "/dashboard"}
    assert all(took > 0 for took in timings.pages_ms.values())
    assert "open issues" in timings.lines()[0]
