"""No scan in a write or request path (issue 17 item 2): a service's handlers and HTTP reads
run on the real database with the query log on (`runtime.query_log`, as
`HUIYIN_MONGO_EXPLAIN_LOG` turns it on in a process); then every query shape it asked is
explained by the engine, and the test fails on any plan that reads a whole collection,
except a read of a *bounded* collection (one that holds only what the read wants: a
partition's provisional clocks) and the scans listed in `KNOWN_SCANS`, each with
its reason. Reusable for another service: run its handlers with `mongo_explain_log` set in
its `PlatformSettings`, then `assert_no_scan(path, settings)`."""

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from services.runtime.query_log import Logged, explain_logged, read_log, sorts_in_memory
from services.runtime.settings import PlatformSettings
from tests.integration.test_supervision_harness import (
    T0,
    FakeClock,
    Issue,
    Log,
    absorbed,
    assign,
    http,
    owning,
    running,
)

BOUNDED = ("provisional_p",)
"""Collections read whole on purpose: each holds only what the read wants."""

KNOWN_SCANS: dict[tuple[str, str], str] = {
    # (collection, command) → why it still scans; the lead decides their fix
}


def allowed(one: Logged) -> bool:
    if one.collection.startswith(BOUNDED) and not one.query.get("filter"):
        return True
    return (one.collection, one.command) in KNOWN_SCANS and _is_view(one)


def _is_view(one: Logged) -> bool:
    shape = one.shape.get("filter", {})
    return isinstance(shape, dict) and "open" in shape


async def assert_no_scan(
    path: Path, settings: PlatformSettings, ordered: bool = False
) -> list[tuple[Logged, bool]]:
    """Explain every query noted in `path`; fail on a scan not allowed (and, `ordered`, on a
    sorted query that sorts every match in memory rather than reading them in order from an
    index). Each query noted, and whether it scans."""
    logged = read_log(path)
    assert logged, f"nothing noted in {path}"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url)
    try:
        explained = await explain_logged(client, logged)
    finally:
        await client.close()
    scanning = [
        f"{one.database}.{one.collection} {one.command} {json.dumps(one.shape)}"
        for one, scans, _ in explained
        if scans and not allowed(one)
    ]
    assert not scanning, "scans:\n" + "\n".join(scanning)
    sorting = [
        f"{one.database}.{one.collection} {one.command} {json.dumps(one.shape)}"
        for one, _, plan in explained
        if ordered and one.shape.get("sort") and sorts_in_memory(plan)
    ]
    assert not sorting, "sorts in memory:\n" + "\n".join(sorting)
    return [(one, scans) for one, scans, _ in explained]


async def test_supervision_asks_nothing_that_scans(
    settings: PlatformSettings, tmp_path: Path
) -> None:
    noted = tmp_path / "queries.jsonl"
    settings = settings.model_copy(update={"mongo_explain_log": noted})
    clock, issues = FakeClock(), [Issue(), Issue()]
    async with Log(settings) as log, running(settings, clock) as sup:
        await owning(sup, partitions=settings.partitions)
        await assign(log, sup, *issues)
        accepted = issues[0].accepted(T0 + timedelta(hours=1))
        await log.publish(accepted)
        await absorbed(sup, accepted)
        clock.set(T0 + timedelta(days=2))  # steps fall due and fire
        await log.count(issues[1], 1, "IssueFlagged")  # a flag fired
        async with http(sup) as client:
            for path in (
                f"/issues/{issues[0].id}/clocks",
                f"/issues/{issues[1].id}/clock-history",
                "/clocks/open?office_id=x",
                "/clocks/overdue",
                "/metrics",
            ):
                assert (await client.get(path)).status_code == 200, path
        await sup.reload_calendar()
    logged = await assert_no_scan(noted, settings)
    commands = {(one.collection.rstrip("0123456789"), one.command) for one, _ in logged}
    assert {("issues", "find"), ("issues", "update"), ("timers", "update")} <= commands
    # the views are led by `open: true` (and the office when given), each an indexed field;
    # every other read and write of the handlers is by `_id`, or by `issue_id` for a batch,
    # or (a partition's timers) by `partition`
    views = [one for one, _ in logged if _is_view(one)]
    assert {"open", "office_id"} <= {key for one in views for key in one.shape["filter"]}
    by_id = [one for one, scans in logged if not one.collection.startswith(BOUNDED)]
    keys = ("_id", "issue_id", "partition")
    assert all(
        any(key in one.shape.get("filter", {}) for key in keys)
        for one in by_id
        if not _is_view(one)
    )
