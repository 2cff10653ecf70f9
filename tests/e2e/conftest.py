import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from devkit.infra import Endpoints
from devkit.processes import Platform
from tests.conftest import throwaway
from tests.fixtures.calendars import TEST_CALENDAR_ENV

pytestmark = pytest.mark.e2e

T = TypeVar("T")


@pytest.fixture
def platform(servers: Endpoints, namespace: str, tmp_path: Path) -> Iterator[Platform]:
    """The four services as their own OS processes, on the real broker and database
    (supervision with the test calendar supplement: the tests run on the real date)."""
    running = Platform(servers, namespace, tmp_path / "logs", TEST_CALENDAR_ENV).start()
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


@pytest.fixture(scope="module")
def city(servers: Endpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """One platform shared by a module's tests (each test works on its own issues)."""
    with throwaway(servers, "m") as namespace:
        logs = tmp_path_factory.mktemp("logs")
        running = Platform(servers, namespace, logs, TEST_CALENDAR_ENV)
        running.start()
        try:
            yield running
        finally:
            running.stop()


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

    def post(self, path: str, body: dict[str, Any], **headers: str) -> httpx.Response:
        return httpx.post(
            f"{self.intake}{path}", json=body, headers={**self.headers, **headers}, timeout=10
        )

    def act(self, issue_id: str, action: str, **body: Any) -> httpx.Response:
        return self.post(f"/issues/{issue_id}/{action}", body)

    def issue(self, issue_id: str) -> dict[str, Any] | None:
        response = httpx.get(f"{self.intake}/issues/{issue_id}", headers=self.headers, timeout=10)
        return response.json() if response.status_code == 200 else None

    def assigned(self, issue_id: str) -> dict[str, Any] | None:
        view = self.issue(issue_id)
        return view if view and view.get("state") == "assigned" and view.get("deadlines") else None

    def in_state(self, issue_id: str, state: str, *, assignments: int = 1) -> dict[str, Any]:
        """Wait until the issue is in `state` (with at least `assignments` IssueAssigned)."""

        def probe() -> dict[str, Any] | None:
            view = self.issue(issue_id)
            if view is None or view["state"] != state:
                return None
            done = [h for h in view["history"] if h["type"] == "IssueAssigned"]
            return view if len(done) >= assignments else None

        return eventually(probe, what=f"{issue_id} {state}")

    def settled(self, issue_id: str, *states: str) -> dict[str, Any]:
        """Wait until the issue is in one of `states`; its view."""

        def probe() -> dict[str, Any] | None:
            view = self.issue(issue_id)
            return view if view is not None and view["state"] in states else None

        return eventually(probe, what=f"{issue_id} in one of {states}")
