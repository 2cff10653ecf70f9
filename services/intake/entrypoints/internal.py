"""Intake's internal routes, for the platform's own services only (not in the OpenAPI
document): notify asks for a reporter's contact at the moment it sends."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from services.intake.handlers.contacts import ReporterContacts
from services.runtime.auth import bearer_token


def build_router(contacts: ReporterContacts) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/internal/contacts/{issue_id}")
    async def contact(
        issue_id: str, token: Annotated[str | None, Depends(bearer_token)]
    ) -> dict[str, Any]:
        """401 without notify's token; 404 when the issue has no reporter's contact."""
        return await contacts.of(token, issue_id)

    return router
