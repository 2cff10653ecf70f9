"""The console's use cases against fakes of its ports (type-checked against the protocols)."""

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from services.console.adapters.passwords import Passwords
from services.console.adapters.services import ApiRefused, Platform
from services.console.adapters.store import UserStore
from services.console.domain.users import Invalid, Role, User
from services.console.handlers import Console


class FakeStore:
    def __init__(self) -> None:
        self.saved: dict[str, User] = {}
        self.sessions: dict[str, str] = {}

    async def user(self, name: str) -> User | None:
        return self.saved.get(name)

    async def users(self) -> list[User]:
        return sorted(self.saved.values(), key=lambda u: u.name)

    async def put_user(self, user: User) -> None:
        self.saved[user.name] = user

    async def open_session(self, name: str, lifetime: timedelta) -> str:
        session = f"s{len(self.sessions)}"
        self.sessions[session] = name
        return session

    async def session_user(self, session_id: str) -> User | None:
        name = self.sessions.get(session_id)
        return self.saved.get(name) if name else None

    async def close_session(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)


class FakePlatform:
    def __init__(self, answers: dict[tuple[str, str], Any] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.answers = answers or {}

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        receipt: str | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> Any:
        self.calls.append({"service": service, "method": method, "path": path, "token": token,
                           "receipt": receipt, "json": json, "key": key})  # fmt: skip
        answer = self.answers.get((method, path))
        if isinstance(answer, ApiRefused):
            raise answer
        return answer

    async def raw(
        self, service: str, path: str, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        return httpx.Response(200, text="")


def console(platform: FakePlatform | None = None) -> tuple[Console, FakeStore, FakePlatform]:
    store, services = FakeStore(), platform or FakePlatform()
    _store: UserStore = store
    _platform: Platform = services
    return Console(_store, _platform, Passwords(), 1.0), store, services


ADMIN = User("admin", Role.ADMIN, token="admin-token")


def test_sign_in_with_the_right_password_only() -> None:
    app, store, _ = console()
    asyncio.run(app.bootstrap_admin("admin", "the password", "admin-token"))
    assert store.saved["admin"].password_hash.startswith("$argon2id$")
    assert asyncio.run(app.sign_in("admin", "wrong")) is None
    assert asyncio.run(app.sign_in("nobody", "the password")) is None
    session = asyncio.run(app.sign_in(" admin ", "the password"))
    assert session is not None and store.sessions[session] == "admin"


def test_a_new_user_gets_an_intake_principal_made_with_the_admins_token() -> None:
    platform = FakePlatform({("POST", "/principals"): {"token": "office-token"}})
    app, store, _ = console(platform)
    form = {"name": "of1", "password": "long enough", "role": "office", "office_id": "o1"}
    asyncio.run(app.add_user(ADMIN, form, "k1"))
    (call,) = platform.calls
    assert call["token"] == "admin-token" and call["key"] == "k1"
    assert call["json"] == {"role": "office", "name": "of1", "office_id": "o1"}
    assert store.saved["of1"].token == "office-token"
    assert replace(store.saved["of1"], password_hash="") == User(
        "of1", Role.OFFICE, "of1", "office-token", "o1"
    )


def test_a_leader_needs_no_principal_and_a_bad_user_calls_nothing() -> None:
    app, store, platform = console()
    asyncio.run(
        app.add_user(ADMIN, {"name": "l1", "password": "long enough", "role": "leader"}, None)
    )
    assert store.saved["l1"].token is None and platform.calls == []
    with pytest.raises(Invalid):
        asyncio.run(app.add_user(ADMIN, {"name": "x", "password": "p", "role": "operator"}, None))
    assert platform.calls == []


def test_a_report_from_the_form() -> None:
    app, _, platform = console()
    operator = User("op", Role.OPERATOR, token="op-token")
    form = {
        "channel": "hotline", "kind": "complaint", "text": "路灯不亮",
        "category": "street_lighting 路灯照明", "region_code": "411901", "address": "",
        "reporter_phone": "13800138000", "reporter_name": "张三", "direct_answer": " ",
    }  # fmt: skip
    asyncio.run(app.file_report(operator, form, "k"))
    body = platform.calls[-1]["json"]
    assert body == {
        "channel": "hotline", "kind": "complaint", "text": "路灯不亮",
        "category": "street_lighting", "location": {"region_code": "411901"},
        "reporter_phone": "13800138000", "reporter_name": "张三",
    }  # fmt: skip
    asyncio.run(app.file_report(operator, {**form, "anonymous": "on", "direct_answer": "答"}, "k"))
    body = platform.calls[-1]["json"]
    assert "reporter_phone" not in body and "reporter_name" not in body
    assert body["direct_answer"] == "答"


def test_the_return_visit_is_answered_with_the_receipt_code() -> None:
    platform = FakePlatform({("GET", "/receipts/ABC123"): {"issue_id": "i1", "state": "resolved"}})
    app, _, _ = console(platform)
    asyncio.run(app.answer_visit(" abc123 ", {"satisfaction": "satisfied", "solved": "on"}, "k"))
    visit = platform.calls[-1]
    assert visit["path"] == "/issues/i1/visit" and visit["receipt"] == "ABC123"
    assert visit["token"] is None and visit["json"] == {"satisfaction": "satisfied", "solved": True}


def test_an_unknown_action_is_refused_before_any_call() -> None:
    app, _, platform = console()
    with pytest.raises(ApiRefused) as refused:
        asyncio.run(app.act(ADMIN, "i1", "explode", {}, None))
    assert refused.value.status == 404 and platform.calls == []


def test_the_issue_page_survives_a_missing_routing_or_clock_view() -> None:
    platform = FakePlatform({
        ("GET", "/issues/i1"): {"issue_id": "i1", "state": "received"},
        ("GET", "/issues/i1/routing"): ApiRefused(404, "no routing"),
        ("GET", "/rules"): ApiRefused(503, "routing: ConnectError"),
    })  # fmt: skip
    app, _, _ = console(platform)
    found = asyncio.run(app.issue(ADMIN, "i1"))
    assert found == {"view": {"issue_id": "i1", "state": "received"}, "why": None, "clocks": []}


def test_ids_are_shown_by_their_names_once_routing_told_them() -> None:
    rules = {
        "categories": {
            "groups": [
                {
                    "name": "城市管理",
                    "items": [
                        {"id": "street_lighting", "name": "路灯照明", "name_en": "Street lighting"}
                    ],
                }
            ]
        }
    }
    platform = FakePlatform({
        ("GET", "/rules"): rules,
        ("GET", "/issues/i1"): {"issue_id": "i1", "state": "assigned", "office_id": "o1",
                                "co_office_ids": ["o2"]},
        ("GET", "/offices/o1"): {"id": "o1", "name": "城管局"},
        ("GET", "/offices/o2"): ApiRefused(404, "no office o2"),
    })  # fmt: skip
    app, _, _ = console(platform)
    asyncio.run(app.issue(ADMIN, "i1"))
    assert app.names.office("o1") == "城管局" and app.names.office("o2") == "o2"
    assert app.names.category("street_lighting", "zh-CN") == "路灯照明"
    assert app.names.category("street_lighting", "en") == "Street lighting"
    assert app.names.category("unknown", "en") == "unknown" and app.names.office(None) == ""
    asyncio.run(app.issue(ADMIN, "i1"))
    assert [c["path"] for c in platform.calls].count("/offices/o1") == 1
    assert [c["path"] for c in platform.calls].count("/rules") == 1


async def test_an_issue_id_from_the_url_is_one_segment_of_each_services_path() -> None:
    """Console /issues/%3Fx called intake's /issues/?x (a redirect, read as no view: a 500),
    and /issues/%00 a URL httpx refuses (a 500); each is now that id's own answer."""
    sent = {"?x": "%3Fx", "\x00": "%00", "..": "%2E%2E"}
    views: dict[tuple[str, str], Any] = {
        ("GET", f"/issues/{s}"): {"_id": typed} for typed, s in sent.items()
    }
    views[("GET", "/rules")] = {"categories": {"groups": []}}
    app, _, platform = console(FakePlatform(views))
    operator = User("op", Role.OPERATOR, token="t")
    for typed, encoded in sent.items():
        found = await app.issue(operator, typed)
        assert found["view"] == {"_id": typed}
        assert [c["path"] for c in platform.calls if "issues" in c["path"]][-3:] == [
            f"/issues/{encoded}",
            f"/issues/{encoded}/routing",
            f"/issues/{encoded}/clocks",
        ]
    await app.lookup(" ab?c ")
    assert platform.calls[-1]["path"] == "/receipts/AB%3FC"
