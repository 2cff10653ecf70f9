"""What MongoDB does with reporting's updates, in memory: $set and $min on dotted paths,
then the view derived from the log (store.refresh). No tests here."""

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from services.contracts.events import Envelope
from services.reporting.domain.facts import FactRules, derive, fact_update

RULES = FactRules(ZoneInfo("Asia/Shanghai"))


def apply(doc: dict[str, Any], update: dict[str, Any]) -> None:
    for op, fields in update.items():
        for path, value in fields.items():
            *parents, leaf = path.split(".")
            target = doc
            for part in parents:
                target = target.setdefault(part, {})
            old = target.get(leaf)
            if op == "$set" or old is None:
                target[leaf] = value
            elif op == "$min":
                target[leaf] = min(old, value)
            else:
                raise AssertionError(f"reporting does not use {op}")


def fold(events: Iterable[Envelope]) -> dict[str, Any]:
    """The fact document (its log and its view) after these deliveries, in this order."""
    doc: dict[str, Any] = {}
    for event in events:
        apply(doc, fact_update(event))  # type: ignore[arg-type]
    return {"log": doc["log"], "view": derive(doc["log"], RULES)}


def view(events: Iterable[Envelope]) -> dict[str, Any]:
    derived: dict[str, Any] = fold(events)["view"]
    return derived
