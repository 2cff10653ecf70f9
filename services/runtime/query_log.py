"""Which queries a service asks its database, and whether the engine answers them from an
index: the no-scan check (issue 17 item 2).

`QueryLog` is a pymongo `CommandListener`. With `HUIYIN_MONGO_EXPLAIN_LOG=<path>` set (off by
default), `make_mongo_client` registers one, and every find, update, delete, count, distinct,
findAndModify and aggregate the service sends is noted once per *shape* (its filter with the
values taken out: `{"_id": "?", "_applied": {"$ne": "?"}}`), as one JSON line in the file:
the database, the collection, the command and one real example of the query (to explain).

`explain_logged` reads such a file back and asks the engine to explain each query as a find
(an update's or a delete's statements by their filter, an aggregation by its pipeline);
`scans` tells a plan that reads the whole collection (MongoDB: COLLSCAN; FerretDB on SQLite
passes SQLite's plan on: `SCAN <table>` rather than `SEARCH … USING INDEX`) from an index
lookup. `tests/integration/test_no_scan.py` runs a service's handlers and HTTP reads with the
log on and fails on a scan; any service's log (a platform run with the setting in its
environment) can be checked the same way.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bson import json_util
from pymongo import monitoring
from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["Logged", "QueryLog", "explain_logged", "read_log", "scans", "shape"]

COMMANDS = frozenset(
    {"find", "update", "delete", "count", "distinct", "findAndModify", "aggregate"}
)


def shape(value: Any) -> Any:
    """A filter's shape: operators and field names kept, values replaced by "?"."""
    if isinstance(value, Mapping):
        return {str(k): shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        shapes = [shape(v) for v in value]
        return shapes if any(isinstance(v, dict | list) for v in shapes) else "?"
    return "?"


@dataclass(frozen=True)
class Logged:
    """One query shape a service asked: where, which command, and an example to explain."""

    database: str
    collection: str
    command: str
    shape: Any
    query: dict[str, Any]
    """`filter` (and `sort`) for a find-like query, or `pipeline` for an aggregation."""


def _queries(name: str, command: Mapping[str, Any]) -> list[dict[str, Any]]:
    if name == "find":
        return [{"filter": command.get("filter", {}), "sort": command.get("sort")}]
    if name in ("count", "distinct"):
        return [{"filter": command.get("query", {})}]
    if name == "findAndModify":
        return [{"filter": command.get("query", {}), "sort": command.get("sort")}]
    if name == "update":
        return [{"filter": s.get("q", {})} for s in command.get("updates", ())]
    if name == "delete":
        return [{"filter": s.get("q", {})} for s in command.get("deletes", ())]
    if name == "aggregate":
        return [{"pipeline": list(command.get("pipeline", ()))}]
    return []


class QueryLog(monitoring.CommandListener):
    """Notes each query shape once, as a JSON line appended to `path`."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        if name not in COMMANDS:
            return
        collection = event.command.get(name)
        if not isinstance(collection, str):
            return  # aggregate: 1 (a database-wide pipeline)
        for query in _queries(name, event.command):
            query = {k: v for k, v in query.items() if v is not None}
            key = json.dumps([event.database_name, collection, name, shape(query)])
            with self._lock:
                if key in self._seen:
                    continue
                self._seen.add(key)
                line = json_util.dumps(
                    {
                        "database": event.database_name,
                        "collection": collection,
                        "command": name,
                        "shape": shape(query),
                        "query": query,
                    }
                )
                with self._path.open("a") as out:
                    out.write(line + "\n")

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def read_log(path: Path) -> list[Logged]:
    """The shapes noted in `path` (by every process that appended to it), each once."""
    found: dict[str, Logged] = {}
    if not path.exists():
        return []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        row = json_util.loads(line)
        # a shape's `{"$regex": "?"}` comes back from json_util as a Regex: keyed by its text
        key = json.dumps(
            [row["database"], row["collection"], row["command"], row["shape"]], default=str
        )
        found.setdefault(key, Logged(**row))
    return list(found.values())


def sorts_in_memory(explained: Mapping[str, Any]) -> bool:
    """Whether a sorted query's plan reads every match to sort them, rather than reading them
    in order from an index (so that a limit stops the reading): MongoDB has a SORT stage,
    FerretDB says `sortPushdown: false`."""
    if "sortPushdown" in explained:
        return not explained["sortPushdown"]
    return "'stage': 'SORT'" in str(explained.get("queryPlanner", explained))


def scans(explained: Mapping[str, Any]) -> bool:
    """Whether a query plan reads the whole collection: MongoDB says COLLSCAN, FerretDB on
    SQLite passes SQLite's plan on (`SCAN <table>` rather than `SEARCH … USING INDEX`)."""
    plan = str(explained.get("queryPlanner", explained.get("stages", explained)))
    return "COLLSCAN" in plan or "detail=SCAN " in plan


async def explain(db: AsyncDatabase[Any], logged: Logged) -> dict[str, Any]:
    """The engine's plan for a noted query."""
    query = logged.query
    if "pipeline" in query:
        command: dict[str, Any] = {
            "aggregate": logged.collection,
            "pipeline": query["pipeline"],
            "cursor": {},
        }
    else:
        command = {"find": logged.collection, "filter": query.get("filter", {})}
        if query.get("sort"):
            command["sort"] = query["sort"]
    explained: dict[str, Any] = await db.command("explain", command)
    return explained


async def explain_logged(
    client: Any, logged: Iterable[Logged]
) -> list[tuple[Logged, bool, dict[str, Any]]]:
    """Each noted query with whether the engine scans for it, and its plan."""
    found = []
    for one in logged:
        plan = await explain(client[one.database], one)
        found.append((one, scans(plan), plan))
    return found
