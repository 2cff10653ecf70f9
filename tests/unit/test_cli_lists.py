"""`huiyin lists`: every page followed through `next` (or the first `--limit` rows), and the
CSV written as it streams (the service's HTTP answers faked at httpx)."""

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from cli.main import app

ROWS = [{"issue_id": f"i{n:02d}", "state": "assigned"} for n in range(7)]


def page(request: httpx.Request) -> httpx.Response:
    size = int(request.url.params["page_size"])
    start = int(request.url.params.get("cursor") or 0)
    rows = ROWS[start : start + size]
    following = str(start + size) if start + size < len(ROWS) else None
    return httpx.Response(200, json={"list": "tasks", "rows": rows, "next": following})


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    calls: list[dict[str, str]] = []

    def request(method: str, url: str, params: dict[str, str], **_: Any) -> httpx.Response:
        calls.append(params)
        got = page(httpx.Request(method, url, params=params))
        got.request = httpx.Request(method, url)
        return got

    @contextlib.contextmanager
    def stream(method: str, url: str, params: dict[str, str], **_: Any) -> Iterator[Any]:
        calls.append(params)
        text = "issue_id,state\r\n" + "".join(f"{r['issue_id']},assigned\r\n" for r in ROWS)
        yield httpx.Response(200, text=text, request=httpx.Request(method, url))

    monkeypatch.setattr("cli.http.httpx.request", request)
    monkeypatch.setattr("cli.http.httpx.stream", stream)
    monkeypatch.setattr("cli.figures.PAGE", 3)
    return calls


def test_every_page_is_followed(asked: list[dict[str, str]]) -> None:
    result = CliRunner().invoke(app, ["--json", "lists", "tasks"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert [r["issue_id"] for r in found["rows"]] == [r["issue_id"] for r in ROWS]
    assert found["next"] is None and len(asked) == 3  # pages of 3, 3 and 1


def test_a_limit_stops_early(asked: list[dict[str, str]]) -> None:
    result = CliRunner().invoke(app, ["--json", "lists", "tasks", "--limit", "4"])
    found = json.loads(result.output)
    assert [r["issue_id"] for r in found["rows"]] == ["i00", "i01", "i02", "i03"]
    assert found["next"] is not None and [a["page_size"] for a in asked] == ["3", "1"]


def test_csv_is_written_as_it_streams(asked: list[dict[str, str]], tmp_path: Path) -> None:
    target = tmp_path / "tasks.csv"
    result = CliRunner().invoke(app, ["lists", "tasks", "--csv", str(target), "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert target.read_text().splitlines() == ["issue_id,state"] + [
        f"i{n:02d},assigned" for n in range(5)
    ]
    assert asked[0]["format"] == "csv" and "wrote 5 rows" in result.output
