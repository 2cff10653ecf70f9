"""Routing's read-only views: the jurisdiction tree, the offices, the rules in force, and
an issue's routing history (every decision with its reason)."""

from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request, status
from fastapi.responses import JSONResponse

from services.routing.domain.errors import NotFound
from services.routing.domain.jurisdiction import City


class Histories(Protocol):
    """Where an issue's routing history is read from (`adapters.store.RoutingStore`)."""

    async def history(self, issue_id: str) -> dict[str, Any] | None: ...


def build_router(city: City, store: Histories) -> APIRouter:
    router = APIRouter(tags=["routing"])

    @router.get("/tree/{region_code}", summary="A region, its ancestors and its children")
    async def region(region_code: str) -> dict[str, Any]:
        found = city.region(region_code)
        if found is None:
            raise NotFound(f"no region {region_code}")
        return {
            "code": found.code, "name": found.name, "level": found.level,
            "ancestors": [{"code": r.code, "name": r.name, "level": r.level}
                          for r in city.ancestors(region_code) if r.code != found.code],
            "children": [{"code": c.code, "name": c.name, "level": c.level}
                         for c in city.regions() if c.parent == found.code],
        }  # fmt: skip

    @router.get("/tree", summary="The root of the jurisdiction tree")
    async def root() -> dict[str, Any]:
        return await region(city.root.code)

    @router.get("/offices/{office_id}", summary="One office")
    async def office(office_id: str) -> dict[str, Any]:
        found = city.office(office_id)
        if found is None:
            raise NotFound(f"no office {office_id}")
        return {"id": found.id, "name": found.name, "kind": found.kind, "level": found.level,
                "region": found.region}  # fmt: skip

    @router.get("/rules", summary="Categories, the responsibility list and the routing policy")
    async def rules() -> dict[str, Any]:
        config = city.config
        return {
            "categories": config.categories.model_dump(mode="json"),
            "responsibility": config.responsibility.model_dump(mode="json"),
            "policy": config.policy.model_dump(mode="json"),
        }

    @router.get("/issues/{issue_id}/routing", summary="Why an issue went where it went")
    async def routing_history(issue_id: str) -> dict[str, Any]:
        doc = await store.history(issue_id)
        if doc is None:
            raise NotFound(f"no routing for {issue_id}")
        return doc

    return router


def register_errors(app: FastAPI) -> None:
    """Routing's domain errors as HTTP statuses, in this one place."""

    async def not_found(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=status.HTTP_404_NOT_FOUND)

    app.add_exception_handler(NotFound, not_found)
