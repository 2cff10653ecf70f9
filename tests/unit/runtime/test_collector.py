"""Every service's process tunes its garbage collector the same way at start
(`runtime.service.collect_less`, called by `serve`), from its own setting."""

import gc
from collections.abc import Iterator

import pytest

from services.intake.settings import IntakeSettings
from services.reporting.settings import ReportingSettings
from services.runtime.service import collect_less
from services.supervision.settings import SupervisionSettings


@pytest.fixture
def collector() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_each_service_reads_its_own_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUIYIN_INTAKE_GC_THRESHOLDS", "[20000,10,50]")
    assert IntakeSettings().gc_thresholds == (20_000, 10, 50)
    assert ReportingSettings().gc_thresholds == (50_000, 20, 100)
    monkeypatch.setenv("HUIYIN_SUPERVISION_GC_THRESHOLDS", "[1,2,3]")
    assert SupervisionSettings().gc_thresholds == (1, 2, 3)


def test_what_exists_at_start_is_frozen_and_young_objects_collected_less_often(
    collector: None,
) -> None:
    gc.unfreeze()
    started_with: list[int] = []  # alive from before the start: never traversed again after it
    collect_less((50_000, 20, 100))
    assert gc.get_threshold() == (50_000, 20, 100)
    assert gc.get_freeze_count() > 0
    assert not any(o is started_with for o in gc.get_objects())
