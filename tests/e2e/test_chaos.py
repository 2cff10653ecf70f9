"""`make chaos`, short: the platform under kills and outages agrees with what its clients saw."""

from pathlib import Path

import pytest

from devkit.chaos import ChaosSettings, run_chaos

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(900)
def test_what_clients_were_told_is_what_happened_under_faults(tmp_path: Path) -> None:
    settings = ChaosSettings(reports=30, seconds=50, kill_every=7, seed=11, settle=150)
    figures = run_chaos(settings, tmp_path)
    print(figures)
    assert figures["kills"] >= 3
    assert figures["kafka restarts"] == 1
    assert figures["ferretdb restarts"] == 1
    assert figures["reports answered"] == settings.reports
    assert figures["problems"] == []
    assert figures["lost"] == figures["doubled assignments"] == figures["dead letters"] == 0
