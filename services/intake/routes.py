"""Intake's native routes. Every creating request honours `Idempotency-Key`."""

import json
import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.intake.actions import BODIES, ActionIn
from services.intake.api import (
    ActionOut,
    IdempotencyKey,
    IntakeApi,
    PrincipalIn,
    PrincipalOut,
    ReportIn,
    ReportOut,
    present,
    refused,
)
from services.intake.domain import Action, Principal, Refused, Role, binding_problem, check
from services.intake.extension_decisions import ExtensionDecisionIn, ExtensionDecisionOut
from services.intake.idempotency import Work, fingerprint
from services.intake.privacy import new_token

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no or unknown credentials"},
    403: {"description": "not allowed for this principal"},
    404: {"description": "no such issue (or not one you may see)"},
    409: {"description": "not allowed in the issue's current state"},
    422: {"description": "invalid request: the field and the reason"},
}


async def once(
    api: IntakeApi, request: Request, who: Principal, key: str | None, body: BaseModel, work: Work
) -> JSONResponse:
    """Run a creating request at most once per Idempotency-Key; a retry gets the first answer."""
    print_ = fingerprint(request.method, request.url.path, body.model_dump(mode="json"))
    code, answer, replayed = await api.idempotency.run(who.id, key, print_, work)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return JSONResponse(answer, status_code=code, headers=headers)


def build_router(api: IntakeApi) -> APIRouter:
    router = APIRouter(responses=ERRORS)
    auth = Depends(api.authenticate)

    @router.post(
        "/principals", tags=["admin"], status_code=201, response_model=PrincipalOut,
        summary="Create a principal (admin); its token is shown once",
    )  # fmt: skip
    async def add_principal(
        body: PrincipalIn, request: Request, key: IdempotencyKey = None, who: Principal = auth
    ) -> JSONResponse:
        if who.role is not Role.ADMIN:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only an admin adds principals")
        if body.role is Role.OFFICE and not body.office_id:
            raise HTTPException(422, detail="office_id: an office principal is bound to one office")
        if (problem := binding_problem(body.role, body.region_code)) is not None:
            raise HTTPException(422, detail=f"region_code: {problem}")

        async def work(_: object) -> tuple[int, Any]:
            token = new_token()
            principal = Principal(
                id=f"{body.role.value}:{uuid.uuid4().hex[:12]}",
                role=body.role, office_id=body.office_id, region_code=body.region_code,
                level=body.level,
            )  # fmt: skip
            await api.store.add_principal(token, principal)
            return 201, PrincipalOut(id=principal.id, role=body.role, token=token).model_dump()

        return await once(api, request, who, key, body, work)

    @router.post(
        "/issues", tags=["issues"], status_code=201, response_model=ReportOut,
        summary="Report an issue from any channel (or answer it at once: 直办)",
    )  # fmt: skip
    async def report(
        body: ReportIn, request: Request, key: IdempotencyKey = None, who: Principal = auth
    ) -> JSONResponse:
        try:
            check(Action.REPORT, who, None, None, "")
            if body.direct_answer is not None:
                check(Action.ANSWER, who, None, None, "")
        except Refused as error:
            raise refused(error) from error
        response = await once(api, request, who, key, body, partial(api.create_report, body, who))
        response.headers["Location"] = f"/issues/{json.loads(bytes(response.body))['issue_id']}"
        return response

    @router.get("/issues/{issue_id}", tags=["issues"], summary="An issue's status view")
    async def get_issue(issue_id: str, who: Principal = auth) -> dict[str, Any]:
        return present(await api.visible(who, issue_id))

    @router.get(
        "/receipts/{receipt_code}", tags=["issues"],
        dependencies=[Depends(api.limits.dependency("receipts"))],
        summary="A reporter looks up their own issue by its receipt code (rate limited)",
    )  # fmt: skip
    async def by_receipt(receipt_code: str) -> dict[str, Any]:
        reporter = await api.authenticate.receipt(receipt_code)
        if reporter is None or reporter.issue_id is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="unknown receipt code")
        return present(await api.visible(reporter, reporter.issue_id))

    @router.get(
        "/inbox", tags=["offices"], summary="Open issues my office holds, due soonest first"
    )
    async def inbox(who: Principal = auth) -> list[dict[str, Any]]:
        if who.role is not Role.OFFICE or who.office_id is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="the inbox is an office's")
        now = datetime.now(UTC)
        items = []
        for view in await api.store.inbox(who.office_id):
            deadlines = view.get("deadlines") or {}
            due = deadlines.get("resolve") or deadlines.get("accept")
            items.append({**present(view), "due_at": due, "overdue": bool(due and due < now)})
        far = datetime.max.replace(tzinfo=UTC)
        return sorted(items, key=lambda item: item["due_at"] or far)

    @router.post(
        "/issues/{issue_id}/extension-decision", tags=["actions"],
        response_model=ExtensionDecisionOut,
        summary="A supervisor decides an extension request the rule left to them (延期审批)",
    )  # fmt: skip
    async def decide_extension(
        issue_id: str,
        body: ExtensionDecisionIn,
        request: Request,
        key: IdempotencyKey = None,
        who: Principal = auth,
    ) -> JSONResponse:
        """Grant or refuse the named extension request, else the latest one awaiting a
        decision; the decision is published as `ExtensionDecided` (decided by the caller)
        and supervision moves the clock when it reads it."""
        work = partial(api.decide_extension, issue_id, body, who)
        return await once(api, request, who, key, body, work)

    for action, model in BODIES.items():
        router.add_api_route(
            f"/issues/{{issue_id}}/{action.value}",
            _action_route(api, action, model),
            methods=["POST"],
            tags=["actions"],
            response_model=ActionOut,
            summary=f"{action.value.capitalize()} an issue",
        )
    return router


def _action_route(api: IntakeApi, action: Action, model: type) -> Any:
    async def route(
        issue_id: str,
        body: model,  # type: ignore[valid-type]
        request: Request,
        who: Annotated[Principal, Depends(api.authenticate)],
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        payload: ActionIn = body
        work = partial(api.act, action, issue_id, payload, who)
        return await once(api, request, who, key, payload, work)

    route.__name__ = f"{action.value}_issue"
    return route
