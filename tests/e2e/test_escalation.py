"""Supervision and routing together: an issue its office ignores is reminded, flagged yellow
then red, and sent up the five-level ladder one rung at a time, never down.

Supervision runs twenty days ahead (HUIYIN_SUPERVISION_TIME_OFFSET_SECONDS), so every step
of a clock started now is already due: the whole chain plays out in seconds. Twenty days
ahead reaches 2027 from December 2026: supervision reads the test calendar supplement."""

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.infra import Endpoints
from devkit.processes import Platform
from services.contracts.vocabulary import Rung
from tests.conftest import throwaway
from tests.e2e.conftest import Client, eventually
from tests.fixtures.calendars import TEST_CALENDAR_ENV

AHEAD = str(20 * 24 * 3600)


@pytest.fixture(scope="module")
def ahead(servers: Endpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with throwaway(servers, "e") as namespace:
        running = Platform(
            servers, namespace, Path(tmp_path_factory.mktemp("logs")),
            extra_env={"HUIYIN_SUPERVISION_TIME_OFFSET_SECONDS": AHEAD, **TEST_CALENDAR_ENV},
        )  # fmt: skip
        running.start()
        try:
            yield running
        finally:
            running.stop()


def test_an_ignored_issue_is_reminded_flagged_and_escalated_up_the_ladder(ahead: Platform) -> None:
    operator = Client(ahead["intake"].url, ahead.token("operator"))
    issue_id = operator.report("路灯坏了没人管", category="street_lighting")["issue_id"]

    def at_the_top() -> dict[str, Any] | None:
        view = operator.issue(issue_id)
        rungs = [h["to_rung"] for h in (view or {}).get("history", [])
                 if h["type"] == "IssueEscalated"]  # fmt: skip
        return view if rungs and rungs[-1] == Rung.PRINCIPAL.value else None

    view = eventually(at_the_top, timeout=90, what="escalated to the principal leaders")
    history = view["history"]
    types = [h["type"] for h in history]
    for step in ("ReminderSent", "IssueFlagged", "SupervisionOrdered", "IssueEscalated"):
        assert step in types
    flags = [h["flag"] for h in history if h["type"] == "IssueFlagged"]
    assert flags.index("yellow") < flags.index("red")
    first_red = types.index("IssueFlagged") + flags.index("red")
    reminders = [h["threshold"] for h in history[:first_red] if h["type"] == "ReminderSent"]
    assert reminders[:2] == [0.5, 0.8]
    climbs = [(h["from_rung"], h["to_rung"]) for h in history if h["type"] == "IssueEscalated"]
    ladder = [r.value for r in Rung]
    assert climbs == list(itertools.pairwise(ladder)), "one rung at a time, never down"
    assert view["office_id"] == "411900-urban_management", "the lead office keeps the issue"
    assert view["flags"]["red"] is True and view["flags"]["supervised"] is True
