import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from devkit.infra import Endpoints
from devkit.processes import Platform

pytestmark = pytest.mark.e2e

T = TypeVar("T")


@pytest.fixture
def platform(servers: Endpoints, namespace: str, tmp_path: Path) -> Iterator[Platform]:
    """The four services as their own OS processes, on the real broker and database."""
    running = Platform(servers, namespace, tmp_path / "logs").start()
    try:
        yield running
    finally:
        running.stop()


def eventually(probe: Callable[[], T | None], timeout: float = 60.0, what: str = "") -> T:
    """Poll `probe` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"not reached within {timeout} s: {what} (last: {last!r})")


@pytest.fixture
def operator(platform: Platform) -> "Client":
    return Client(platform["intake"].url, platform.token("operator"))


class Client:
    """Intake as one principal sees it."""

    def __init__(self, intake: str, token: str) -> None:
        self.intake = intake
        self.headers = {"Authorization": f"Bearer {token}"}

    def report(self, text: str = "小区路灯不亮", **fields: Any) -> dict[str, Any]:
        body = {"channel": "hotline", "kind": "complaint", "text": text, **fields}
        response = httpx.post(f"{self.intake}/issues", json=body, headers=self.headers, timeout=10)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def issue(self, issue_id: str) -> dict[str, Any] | None:
        response = httpx.get(f"{self.intake}/issues/{issue_id}", headers=self.headers, timeout=10)
        return response.json() if response.status_code == 200 else None

    def assigned(self, issue_id: str) -> dict[str, Any] | None:
        view = self.issue(issue_id)
        return view if view and view.get("state") == "assigned" and view.get("deadlines") else None
