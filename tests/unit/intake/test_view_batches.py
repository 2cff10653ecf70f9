"""A batch folded into a history in memory (`fold_entry`, what the consumer's `apply_all`
does) gives the history and the derived fields that recording each event gives, in any
order and with copies republished later."""

import random
from datetime import timedelta
from typing import Any

from services.contracts.events import Event
from services.intake.domain.view import derive, fold_entry
from tests.unit.intake.test_view_fold import EXPECTED, IN_ORDER


def folded(deliveries: list[tuple[Event, int]]) -> dict[str, Any]:
    history: dict[str, Any] = {}
    for event, offset in deliveries:
        fold_entry(history, event, offset)
    return history


def test_a_folded_batch_derives_what_recording_each_event_derives() -> None:
    for seed in range(20):
        rng = random.Random(seed)
        mine = list(IN_ORDER)
        rng.shuffle(mine)
        for event, offset in rng.sample(IN_ORDER, 3):  # later copies, stamped later
            later = event.model_copy(update={"occurred_at": event.occurred_at + timedelta(hours=1)})
            mine.insert(rng.randrange(len(mine) + 1), (later, offset + 100))
        history = folded(mine)
        assert history.keys() == EXPECTED["history"].keys()
        derived = derive(history)
        assert {k: EXPECTED[k] for k in derived} == derived, seed
