"""Supervision among the four services: an assignment starts the accept and the resolve
clock, and both deadlines reach intake's status view through the log."""

from typing import Any

import httpx

from devkit.processes import Platform
from tests.e2e.conftest import Client, eventually


def test_an_assignment_starts_both_clocks_and_intake_shows_both_deadlines(
    platform: Platform, operator: Client
) -> None:
    created = operator.report("小区门口的路灯坏了三天", channel="web", kind="help")
    issue_id = created["issue_id"]

    def both_deadlines() -> dict[str, Any] | None:
        view = operator.issue(issue_id)
        deadlines = (view or {}).get("deadlines") or {}
        return view if {"accept", "resolve"} <= set(deadlines) else None

    view = eventually(both_deadlines, what="accept and resolve deadlines in intake's view")
    assert view["reported_at"] < view["deadlines"]["accept"] < view["deadlines"]["resolve"]

    # Supervision publishes a clock's start before it stores it: its own view follows suit.
    supervision = platform["supervision"].url
    clocks = eventually(
        lambda: httpx.get(f"{supervision}/issues/{issue_id}/clocks").json(),
        what="supervision's view of the clocks",
    )
    assert [(c["clock"], c["office_id"], c["running"]) for c in clocks] == [
        ("accept", view["office_id"], True),
        ("resolve", view["office_id"], True),
    ]
    listed = httpx.get(f"{supervision}/clocks/open", params={"office_id": view["office_id"]})
    assert {(row["issue_id"], row["clock"]) for row in listed.json()["clocks"]} >= {
        (issue_id, "accept"),
        (issue_id, "resolve"),
    }
