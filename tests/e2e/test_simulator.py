"""The demo city plays a short day on the real platform; the figures it prints at the end
are reporting's, and they count exactly what the simulated people did."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devkit.infra import REPO, Endpoints
from devkit.processes import Platform
from devkit.simulator.clock import supervision_offset
from devkit.simulator.mixes import City, Plan, plan_report
from devkit.simulator.play import COUNTS, EVERY, FINAL, RATES, parse_progress_line

REPORTS, SECONDS, LEAD, SEED = 40, 60, 12.0, 13


@pytest.fixture
def demo(servers: Endpoints, namespace: str, tmp_path: Path) -> Iterator[Platform]:
    """The platform as `make run` starts it: supervision's clock one working day ahead,
    less LEAD seconds, so an untouched issue is flagged within the short day."""
    shift = {"HUIYIN_SUPERVISION_TIME_OFFSET_SECONDS": f"{supervision_offset(LEAD):.0f}"}
    running = Platform(servers, namespace, tmp_path / "logs", extra_env=shift)
    try:
        yield running.start()
    finally:
        running.stop()


def test_a_short_day_prints_the_rates_reporting_serves_for_that_day(
    demo: Platform, tmp_path: Path
) -> None:
    summary_path = tmp_path / "summary.json"
    played = subprocess.run(
        [
            sys.executable, "-m", "devkit.simulator",
            "--intake", demo["intake"].url, "--reporting", demo["reporting"].url,
            "--reports", str(REPORTS),
            "--minutes", str(SECONDS / 60), "--seed", str(SEED), "--summary", str(summary_path),
        ],
        # the token by the environment, as a secret should travel (not in argv, where `ps`
        # shows it and a random one starting with "-" reads as an option)
        cwd=REPO, capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "160", "HUIYIN_INTAKE_ADMIN_TOKEN": demo.admin_token},
    )  # fmt: skip
    assert played.returncode == 0, played.stdout + played.stderr
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    day = {"start": summary["start"], "end": summary["end"]}
    api = httpx.get(f"{demo['reporting'].url}/rates", params=day, timeout=10).json()

    # what it printed is what reporting serves for the same day
    assert {k: summary["rates"][k] for k in COUNTS + RATES} == {k: api[k] for k in COUNTS + RATES}
    lines = played.stdout.splitlines()
    for name in COUNTS:
        row = next(line for line in lines if line.strip("│ ").startswith(f"{name} "))
        assert str(api[name]) in row, (name, row)
    for name in RATES:
        row = next(line for line in lines if line.strip("│ ").startswith(f"{name} "))
        shown = "—" if api[name] is None else f"{api[name] * 100:.1f}%"
        assert shown in row, (name, row)

    # and reporting counted exactly what the simulated people did (a namespace of its own)
    assert summary["own"] == {name: api[name] for name in summary["own"]}
    assert api["received"] == REPORTS
    tally = summary["tally"]
    assert summary["errors"] == []
    # the day's mix: answered directly and dispatched, accepted, resolved, visited, closed
    assert 0 < api["answered_directly"] < REPORTS
    assert api["assigned"] > 0 and api["resolved"] > 0 and api["visited"] > 0
    assert tally["accepted"] > 0 and tally["closed"] > 0
    # an office left an issue untouched all day: flagged by supervision, and reporting counts
    # that response as missed; extensions beyond the rule went to the supervisor
    plans: list[Plan] = []
    city = City.load()  # once: the sample city's regions take a second or two to read
    for n in range(REPORTS):
        plans.append(plan_report(SEED, n, city, plans))
    dispatched = [p for p in plans if not p.direct]
    abandoned = [p for p in dispatched if p.abandoned]
    assert abandoned and any(p.extension > 3 for p in dispatched)  # what this seed plays
    assert tally["flagged"] >= 1 and tally["abandoned"] == len(abandoned)
    assert api["response_rate"] < 1 and api["completion_rate"] < 1
    assert tally["decided"] >= 1
    assert "bulletins/weekly" in played.stdout and "Grafana" in played.stdout

    # in a log (stdout is no terminal here): a plain progress line every few seconds, and
    # the last one is the reading the table's right column shows
    progress = [parse_progress_line(line) for line in lines if " | received " in line]
    during = [figures for label, figures in progress if label != FINAL]
    assert len(during) >= SECONDS / EVERY - 2, played.stdout
    assert [f["received"] for f in during] == sorted(f["received"] for f in during)
    label, last = progress[-1]
    assert label == FINAL
    assert {name: last[name] for name in summary["own"]} == summary["own"]
    final = next(i for i, line in enumerate(lines) if line.startswith(FINAL))
    for name in COUNTS:
        at = next(i for i, line in enumerate(lines) if line.strip("│ ").startswith(f"{name} "))
        assert at > final and lines[at].split("│")[3].strip() == str(last[name]), lines[at]

    # offices of different diligence: the ranking has a spread, ranks as the API gives them
    scores = [row["score"] for row in summary["rankings"] if row["score"] is not None]
    assert len(set(scores)) > 1, summary["rankings"]
    assert f"{len(summary['rankings'])} offices ranked" in played.stdout
