import json
from pathlib import Path

from devkit.asyncapi import PRODUCERS, document
from services.contracts.events import EVENT_TYPES

COMMITTED = Path(__file__).resolve().parents[2] / "docs/asyncapi.json"


def test_the_committed_asyncapi_document_is_what_the_code_generates() -> None:
    generated = json.loads(json.dumps(document()))
    assert json.loads(COMMITTED.read_text(encoding="utf-8")) == generated, "run `make asyncapi`"


def test_every_event_type_has_a_message_a_schema_and_exactly_one_producer() -> None:
    doc = document()
    assert set(doc["channels"]["issues"]["messages"]) == EVENT_TYPES
    assert set(doc["components"]["schemas"]) >= EVENT_TYPES
    produced = [name for names in PRODUCERS.values() for name in names]
    assert sorted(produced) == sorted(EVENT_TYPES)
