"""Routing's read-only views: the rules in force and an issue's routing history."""

from typing import Any

from fastapi import APIRouter, HTTPException, status

from services.routing.domain import DispatchRules
from services.routing.store import RoutingStore


def build_router(rules: DispatchRules, store: RoutingStore) -> APIRouter:
    router = APIRouter(tags=["routing"])

    @router.get("/rules")
    async def get_rules() -> DispatchRules:
        return rules

    @router.get("/issues/{issue_id}/routing")
    async def routing_history(issue_id: str) -> dict[str, Any]:
        doc = await store.history(issue_id)
        if doc is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, detail=f"no routing for issue {issue_id}"
            )
        doc["issue_id"] = doc.pop("_id")
        return doc

    return router
