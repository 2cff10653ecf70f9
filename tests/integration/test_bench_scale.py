"""`make bench-scale` at a tiny size: it fills a projection, times every read and prints its
table (no time is asserted)."""

from typing import Any

import pytest

from bench import scale
from services.runtime.settings import PlatformSettings


async def test_the_scale_bench_prints_its_table(
    settings: PlatformSettings, capfd: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    monkeypatch.setenv("BENCH_SCALE_SIZES", "40")
    monkeypatch.setenv("BENCH_SCALE_REPEATS", "2")
    await scale.main(settings)
    out = capfd.readouterr().out
    assert "== 40 issues" in out
    assert "events/s" in out
    for label in scale.reads(scale.CITY):
        assert label in out
    assert "/metrics refresh" in out and "projection on disk:" in out
    assert "partition reads" in out  # the rebuild's
    assert "the process serving the reads" in out and "MB after them" in out  # a process apart
