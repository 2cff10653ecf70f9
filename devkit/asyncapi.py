"""The AsyncAPI 3.0 document of the event log, generated from `services/contracts`.

`make asyncapi` writes it to docs/asyncapi.json; a unit test keeps that file in step.
"""

import json
from typing import Any

from services.contracts.dead_letter import DeadLetter
from services.contracts.events import EVENT_ADAPTER, EVENT_TYPES
from services.contracts.topics import (
    DEAD_LETTER_TOPIC,
    DEFAULT_PARTITIONS,
    ISSUES_TOPIC,
    SCHEMA_VERSION,
)

PRODUCERS = {
    "intake": [
        "IssueReported", "IssueAnswered", "IssueAccepted", "IssueReturned", "ProgressNoted",
        "ExtensionRequested", "IssueResolved", "IssueVerified", "IssueVisited", "IssueReopened",
        "IssueClosed",
    ],
    "routing": ["IssueTriaged", "IssueMerged", "IssueAssigned", "IssueEscalated"],
    "supervision": [
        "ClockStarted", "ClockRescheduled", "ReminderSent", "IssueFlagged", "SupervisionOrdered",
        "ExtensionDecided",
    ],
}  # fmt: skip


def document() -> dict[str, Any]:
    schema = EVENT_ADAPTER.json_schema(ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = dict(schema.pop("$defs"))
    schemas["DeadLetter"] = DeadLetter.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    messages = {
        name: {
            "name": name,
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "headers": {"type": "object", "properties": {"type": {"const": name}}},
        }
        for name in sorted(EVENT_TYPES)
    }
    messages["DeadLetter"] = {
        "name": "DeadLetter",
        "contentType": "application/json",
        "payload": {"$ref": "#/components/schemas/DeadLetter"},
    }
    issue_refs = {name: {"$ref": f"#/components/messages/{name}"} for name in sorted(EVENT_TYPES)}
    operations: dict[str, Any] = {
        f"{service}.publish": {
            "action": "send",
            "channel": {"$ref": "#/channels/issues"},
            "messages": [{"$ref": f"#/channels/issues/messages/{name}"} for name in names],
        }
        for service, names in PRODUCERS.items()
    }
    for service in ("intake", "routing", "supervision", "reporting"):
        operations[f"{service}.consume"] = {
            "action": "receive",
            "channel": {"$ref": "#/channels/issues"},
            "summary": f"consumer group huiyin-{service}, at least once, commit after the effect",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Huiyin issue event log",
            "version": str(SCHEMA_VERSION),
            "description": "Every fact about an issue, keyed by issue_id (one partition per "
            "issue, in order). Consumers tolerate unknown fields and skip unknown types.",
        },
        "channels": {
            "issues": {
                "address": ISSUES_TOPIC,
                "description": f"{DEFAULT_PARTITIONS} partitions, key = issue_id",
                "messages": issue_refs,
            },
            "deadLetters": {
                "address": DEAD_LETTER_TOPIC,
                "description": "events a service could not apply, with the reason",
                "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
            },
        },
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


if __name__ == "__main__":
    print(json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=True))
