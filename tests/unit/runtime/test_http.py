"""Every service's HTTP app (runtime.create_app): metrics by route template, liveness apart
from readiness, and a 422 (never a 500) for numbers JSON has no words for."""

import math
from collections.abc import AsyncIterator

import httpx
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field

from services.runtime.http import UNMATCHED, json_safe
from services.runtime.service import Runtime, build_runtime, create_app
from services.runtime.settings import PlatformSettings


class Place(BaseModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class Body(BaseModel):
    location: Place


def tiny_app() -> tuple[Runtime, FastAPI]:
    router = APIRouter()

    @router.post("/issues")
    async def post_issue(body: Body) -> dict[str, float]:
        return {"latitude": body.location.latitude}

    @router.post("/echo")
    async def echo(value: float) -> dict[str, float]:
        return {"value": value}  # an unconstrained float: NaN passes validation

    @router.get("/issues/{issue_id}")
    async def get_issue(issue_id: str) -> dict[str, str]:
        return {"issue_id": issue_id}

    # nothing listens here: readiness fails fast, liveness must not care
    settings = PlatformSettings(
        kafka_bootstrap="127.0.0.1:1", mongo_url="mongodb://127.0.0.1:1/", log_json=False
    )
    runtime = build_runtime("tiny", settings)
    return runtime, create_app(runtime, [router])


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_nan_and_infinity_answer_422_naming_the_fields() -> None:
    _, app = tiny_app()
    raw = '{"location": {"latitude": NaN, "longitude": Infinity}}'
    async with client(app) as http:
        answer = await http.post(
            "/issues", content=raw, headers={"content-type": "application/json"}
        )
    assert answer.status_code == 422
    assert "NaN" not in answer.text.replace('"NaN"', "")  # strictly JSON
    detail = answer.json()["detail"]
    assert {tuple(e["loc"]) for e in detail} == {
        ("body", "location", "latitude"),
        ("body", "location", "longitude"),
    }
    assert all({"loc", "msg", "type"} <= set(e) for e in detail)
    assert {e["input"] for e in detail} == {"NaN", "Infinity"}


async def test_a_non_finite_number_in_a_response_is_written_as_null() -> None:
    _, app = tiny_app()
    async with client(app) as http:
        answer = await http.post("/echo", params={"value": "nan"})
    assert answer.status_code == 200
    assert answer.json() == {"value": None}


async def test_requests_are_counted_by_route_template_never_by_raw_path() -> None:
    runtime, app = tiny_app()
    async with client(app) as http:
        for n in range(3):
            assert (await http.get(f"/issues/i-{n}")).status_code == 200
        assert (await http.get("/wp-admin/setup.php")).status_code == 404
        assert (await http.get("/etc/passwd")).status_code == 404
    text = runtime.metrics.render().decode()
    assert (
        'huiyin_http_requests_total{method="GET",route="/issues/{issue_id}",status="200"} 3.0'
        in text
    )
    assert f'huiyin_http_requests_total{{method="GET",route="{UNMATCHED}",status="404"}} 2.0' in (
        text
    )
    assert "i-1" not in text and "passwd" not in text
    assert 'huiyin_http_request_seconds_count{method="GET",route="/issues/{issue_id}"' in text


async def test_alive_while_not_ready() -> None:
    _, app = tiny_app()
    async with client(app) as http:
        live = await http.get("/livez")
        ready = await http.get("/readyz")
        health = await http.get("/healthz")
    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["kafka"] is False and ready.json()["mongo"] is False
    assert health.status_code == 503


def test_json_safe_names_non_finite_numbers() -> None:
    given = {"a": [math.nan, math.inf, -math.inf, 1.5], "b": (math.nan,)}
    assert json_safe(given) == {"a": ["NaN", "Infinity", "-Infinity", 1.5], "b": ["NaN"]}
    assert json_safe(given, non_finite="null") == {"a": [None, None, None, 1.5], "b": [None]}


async def test_a_refused_input_is_repeated_shortened() -> None:
    _, app = tiny_app()
    long = "9" * 500_000
    raw = f'{{"location": {{"latitude": "{long}", "longitude": [{",".join(["1"] * 500)}]}}}}'
    async with client(app) as http:
        answer = await http.post(
            "/issues", content=raw, headers={"content-type": "application/json"}
        )
    assert answer.status_code == 422
    assert len(answer.content) < 5_000
    inputs = {tuple(e["loc"])[-1]: e["input"] for e in answer.json()["detail"]}
    assert inputs["latitude"] == "9" * 200 + "…"
    assert inputs["longitude"] == [1] * 20 + ["…"]


async def test_head_is_answered_on_every_get_route_without_a_body() -> None:
    _, app = tiny_app()
    async with client(app) as http:
        got = await http.get("/issues/i1")
        head = await http.head("/issues/i1")
        post_only = await http.head("/echo")
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.headers["content-type"] == got.headers["content-type"]
    assert post_only.status_code == 405


async def test_a_body_over_the_limit_is_a_413_declared_or_streamed() -> None:
    _, app = tiny_app()
    big = b'{"location": {"latitude": 1, "longitude": 2, "pad": "' + b"x" * (1 << 20) + b'"}}'

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    async with client(app) as http:
        declared = await http.post("/issues", content=big)
        streamed = await http.post("/issues", content=chunks())
        small = await http.post("/issues", json={"location": {"latitude": 1, "longitude": 2}})
    for refused in (declared, streamed):
        assert refused.status_code == 413
        assert "larger than 1048576 bytes" in refused.json()["detail"]
    assert small.status_code == 200
