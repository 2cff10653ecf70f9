"""Routing's read-only views over the sample city, and its domain errors as 404s."""

from typing import Any

import httpx
from fastapi import FastAPI

from services.routing.domain.jurisdiction import City
from services.routing.entrypoints.http import Histories, build_router, register_errors


class FakeHistories:
    async def history(self, issue_id: str) -> dict[str, Any] | None:
        return {"issue_id": issue_id, "decisions": []} if issue_id == "i-1" else None


def client(city: City) -> httpx.AsyncClient:
    store: Histories = FakeHistories()
    app = FastAPI()
    app.include_router(build_router(city, store))
    register_errors(app)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://routing")


async def test_the_views_and_what_they_do_not_know(city: City) -> None:
    async with client(city) as http:
        root = (await http.get("/tree")).json()
        assert (root["code"], root["level"]) == (city.root.code, "city") and root["children"]
        office = (await http.get("/offices/411905003-township_office")).json()
        assert office["name"] == "白阳乡人民政府"
        assert (await http.get("/issues/i-1/routing")).json()["issue_id"] == "i-1"
        for path, detail in [
            ("/tree/nowhere", "no region nowhere"),
            ("/offices/nobody", "no office nobody"),
            ("/issues/i-2/routing", "no routing for i-2"),
        ]:
            response = await http.get(path)
            assert (response.status_code, response.json()) == (404, {"detail": detail})
