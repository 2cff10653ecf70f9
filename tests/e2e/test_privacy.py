"""Personal data stays in intake: never in clear on the topic, in any log, or at rest."""

import asyncio
from typing import Any

import httpx
from pymongo import MongoClient

from devkit.processes import Platform
from services.runtime.topic_reader import read_topic
from tests.e2e.conftest import Client

PHONE, NAME = "13987654321", "欧阳小明"
SPELLINGS = [PHONE, "139-8765-4321", "139 8765 4321", NAME, "欧阳 小明"]


def test_no_phone_number_or_name_in_clear_on_the_topic_in_logs_or_at_rest(city: Platform) -> None:
    operator = Client(city["intake"].url, city.token("operator"))
    created = operator.report(
        "门口下水道堵了", category="drainage", reporter_phone="139-8765-4321", reporter_name=NAME
    )
    answered = operator.report(
        "咨询公积金提取", kind="consultation", direct_answer="可在线办理", reporter_phone=PHONE
    )
    form = {"api_key": city.token("operator"), "service_code": "noise", "lat": "34.7",
            "long": "113.6", "first_name": "欧阳", "last_name": "小明", "phone": PHONE,
            "description": "夜间噪音"}  # fmt: skip
    assert httpx.post(f"{city['intake'].url}/open311/v2/requests.json", data=form).is_success
    reporter = Client(city["intake"].url, "unused")
    reporter.headers = {"X-Receipt-Code": answered["receipt_code"]}
    assert reporter.act(answered["issue_id"], "visit", satisfaction="satisfied", solved=True)
    view = operator.in_state(created["issue_id"], "assigned")
    said = f"请回电{PHONE}，路灯不亮"  # a number the caller said, typed into the text
    typed = operator.report(said, category="drainage", reporter_name=NAME)
    assert operator.in_state(typed["issue_id"], "assigned")["description"] == said  # staff

    topic = f"{city.namespace}.huiyin.issues.v1"
    records = asyncio.run(read_topic(city.endpoints.kafka_bootstrap, topic))
    on_log = b"\n".join(r.value for r in records).decode()
    assert "IssueVisited" in on_log and "IssueReported" in on_log
    reporter_ids = {line for line in on_log.split('"') if len(line) == 24 and line.isalnum()}
    assert reporter_ids, "events carry a pseudonymous reporter id instead"

    logs = "\n".join(p.read_text(errors="replace") for p in city.log_dir.glob("*.log"))
    assert "service.started" in logs
    client: MongoClient[dict[str, Any]] = MongoClient(city.endpoints.mongo_url)
    with client as mongo:
        stored = "\n".join(
            str(doc)
            for name in mongo[f"{city.namespace}_intake"].list_collection_names()
            for doc in mongo[f"{city.namespace}_intake"][name].find()
        )
    assert created["issue_id"] in stored
    for spelling in SPELLINGS:
        assert spelling not in on_log, f"{spelling} on the topic"
        assert spelling not in logs, f"{spelling} in a log"
        assert spelling not in stored, f"{spelling} stored in clear"
        assert spelling not in str(view)


def test_only_notify_gets_a_reporters_contact_and_only_while_it_sends(city: Platform) -> None:
    intake = city["intake"].url
    operator = Client(intake, city.token("operator"))
    created = operator.report("楼道灯坏了", category="street_lighting", reporter_phone=PHONE)
    anonymous = operator.report("路面塌陷", category="road_maintenance")
    url = f"{intake}/internal/contacts/{created['issue_id']}"
    notify = {"Authorization": f"Bearer {city.notify_token}"}

    answer = httpx.get(url, headers=notify, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"phone": PHONE, "email": "", "receipt_code": created["receipt_code"]}
    for headers in ({}, {"Authorization": f"Bearer {city.admin_token}"},
                    {"Authorization": "Bearer wrong"}):  # fmt: skip
        assert httpx.get(url, headers=headers, timeout=10).status_code == 401
    missing = f"{intake}/internal/contacts/{anonymous['issue_id']}"
    assert httpx.get(missing, headers=notify, timeout=10).status_code == 404
    assert "/internal/" not in httpx.get(f"{intake}/openapi.json", timeout=10).text
    logs = "\n".join(p.read_text(errors="replace") for p in city.log_dir.glob("*.log"))
    assert PHONE not in logs
