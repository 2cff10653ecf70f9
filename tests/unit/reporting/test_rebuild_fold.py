"""The rebuild's in-memory fold gives the documents and the cells the live path gives."""

import random
from datetime import UTC, datetime
from pathlib import Path

from services.contracts.vocabulary import Flag, Satisfaction
from services.reporting.adapters.spill import SpilledCells
from services.reporting.domain import cells
from services.reporting.domain.facts import fact_update
from services.reporting.handlers import Fold
from tests.reporting_events import Story
from tests.unit.reporting.reporting_fold import RULES, apply, fold

T0 = datetime(2026, 10, 31, 15, 30, 0, 123000, tzinfo=UTC)  # as MongoDB keeps it (ms)


def test_the_fold_in_memory_equals_the_stored_updates_and_sums_the_cells() -> None:
    stories = [
        Story("a", T0).triage().assign("o1").accept(1).resolve(3)
        .visit(Satisfaction.SATISFIED, True, 1).close(1),
        Story("b", T0, region="411902001").triage().assign("o2").remind(2)
        .flag(Flag.YELLOW, 1).supervise_and_escalate("c", 1).accept(1),
        Story("c", T0, direct=True).answer(1),
    ]  # fmt: skip
    memory = Fold(RULES)
    for story in stories:
        for event in [*story.events, *reversed(story.events)]:
            memory.add(event)
    docs, totals = memory.documents()
    expected: cells.Cells = {}
    for story, doc in zip(stories, docs, strict=True):
        stored: dict[str, object] = {}
        for event in story.events:
            apply(stored, fact_update(event))
        assert doc["_id"] == story.id
        assert doc["view"] == fold(story.events)["view"] | {"_n": len(story.events)}
        assert cells.from_list(doc["posted"]["cells"]) == cells.contributions(doc["view"])
        for cell, counters in cells.contributions(doc["view"]).items():
            cells.add(expected.setdefault(cell, {}), counters)
    assert totals == expected


def test_sums_made_in_parts_and_spilled_come_back_merged_once_per_cell(tmp_path: Path) -> None:
    rng = random.Random(7)
    names = ("assigned", "solved", "overdue")
    parts = [
        {f"cell{rng.randrange(40):02}": {n: rng.randrange(1, 5) for n in rng.sample(names, 2)}
         for _ in range(30)}
        for _ in range(4)
    ]  # fmt: skip
    expected: cells.Cells = {}
    for part in parts:
        for cell, counters in part.items():
            cells.add(expected.setdefault(cell, {}), counters)
    with SpilledCells(tmp_path) as spill:
        for part in parts:
            spill.add(part)
        assert len(list(tmp_path.glob("*/part-*"))) == len(parts)
        merged = list(spill.merged())
    assert [cell for cell, _ in merged] == sorted(expected)  # each once, in key order
    assert dict(merged) == expected
    assert not any(tmp_path.iterdir())  # the files are gone after
