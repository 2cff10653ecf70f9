"""Intake's native routes: thin. Every creating request honours `Idempotency-Key`; refusals are
domain errors that `errors.py` answers with their status."""

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.intake.domain.actions import BODIES, ActionIn
from services.intake.domain.extension_decisions import ExtensionDecisionIn, ExtensionDecisionOut
from services.intake.domain.fingerprint import fingerprint
from services.intake.domain.reports import PrincipalIn, ReportIn
from services.intake.domain.rules import Action, Principal
from services.intake.entrypoints.auth import IdempotencyKey, authenticated, client_of
from services.intake.handlers.idempotency import Recall, Work
from services.intake.handlers.inbox import MAX_LIMIT, InboxPages
from services.intake.handlers.issues import IntakeHandlers
from services.intake.handlers.results import ActionOut, PrincipalOut, ReportOut

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no or unknown credentials"},
    403: {"description": "not allowed for this principal"},
    404: {"description": "no such issue (or not one you may see)"},
    409: {"description": "not allowed in the issue's current state"},
    422: {"description": "invalid request: the field and the reason"},
    429: {"description": "too many attempts (receipt codes): wait Retry-After seconds"},
}


async def once(
    intake: IntakeHandlers,
    request: Request,
    who: Principal,
    key: str | None,
    body: BaseModel,
    work: Work,
    recall: Recall | None = None,
) -> JSONResponse:
    """Run a creating request at most once per Idempotency-Key; a retry gets the first answer."""
    code, answer, replayed = await once_answer(intake, request, who, key, body, work, recall)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return JSONResponse(answer, status_code=code, headers=headers)


async def once_answer(
    intake: IntakeHandlers,
    request: Request,
    who: Principal,
    key: str | None,
    body: BaseModel,
    work: Work,
    recall: Recall | None = None,
) -> tuple[int, Any, bool]:
    """`once`'s answer before it is rendered: (status, body, replayed). The request is
    fingerprinted only when a key is given (what the key is bound to)."""
    print_ = "" if key is None else fingerprint(
        request.method, request.url.path, body.model_dump(mode="json")
    )  # fmt: skip
    return await intake.idempotency.run(who.id, key, print_, work, recall)


def build_router(intake: IntakeHandlers, pages: InboxPages) -> APIRouter:
    router = APIRouter(responses=ERRORS)
    auth = Depends(authenticated(intake))

    @router.post(
        "/principals", tags=["admin"], status_code=201, response_model=PrincipalOut,
        summary="Create a principal (admin); its token is shown once",
    )  # fmt: skip
    async def add_principal(
        body: PrincipalIn, request: Request, key: IdempotencyKey = None, who: Principal = auth
    ) -> JSONResponse:
        intake.check_principal(body, who)
        return await once(intake, request, who, key, body, partial(intake.add_principal, body, who))

    @router.post(
        "/issues", tags=["issues"], status_code=201, response_model=ReportOut,
        summary="Report an issue from any channel (or answer it at once: 直办)",
    )  # fmt: skip
    async def report(
        body: ReportIn, request: Request, key: IdempotencyKey = None, who: Principal = auth
    ) -> JSONResponse:
        intake.check_report(body, who)
        work = partial(intake.create_report, body, who)
        recall = partial(intake.recall_report, body)
        code, answer, replayed = await once_answer(intake, request, who, key, body, work, recall)
        headers = {"Location": f"/issues/{answer['issue_id']}"}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return JSONResponse(answer, status_code=code, headers=headers)

    @router.get("/issues/{issue_id}", tags=["issues"], summary="An issue's status view")
    async def get_issue(issue_id: str, who: Principal = auth) -> dict[str, Any]:
        return await intake.issue(who, issue_id)

    @router.get(
        "/receipts/{receipt_code}", tags=["issues"],
        summary="A reporter looks up their own issue by its receipt code (rate limited)",
    )  # fmt: skip
    async def by_receipt(receipt_code: str, request: Request) -> dict[str, Any]:
        return await intake.by_receipt(receipt_code, client_of(request))

    @router.get(
        "/inbox", tags=["offices"], summary="Open issues my office holds, due soonest first"
    )
    async def inbox(who: Principal = auth) -> list[dict[str, Any]]:
        return await intake.inbox(who)

    @router.get(
        "/inbox/page", tags=["offices"],
        summary="A page of my office's open issues (slim items, due soonest first)",
    )  # fmt: skip
    async def inbox_page(
        cursor: Annotated[str | None, Query(description="`next` of the page before")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
        total: Annotated[bool, Query(description="count on the first page")] = True,
        who: Principal = auth,
    ) -> dict[str, Any]:
        """Items without history (id, category, title, state, due time, the clock shown and
        its colour, reminded, co-handled), `next` (None on the last page), and on the first
        page `total` (up to a cap; `total_capped` when there are more; None on later pages
        or with `total=false`)."""
        return await pages.page(who, cursor, limit, counted=total)

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
        work = partial(intake.decide_extension, issue_id, body, who)
        recall = partial(intake.recall_decision, issue_id)
        return await once(intake, request, who, key, body, work, recall)

    for action, model in BODIES.items():
        router.add_api_route(
            f"/issues/{{issue_id}}/{action.value}",
            _action_route(intake, action, model),
            methods=["POST"],
            tags=["actions"],
            response_model=ActionOut,
            summary=f"{action.value.capitalize()} an issue",
        )
    return router


def _action_route(intake: IntakeHandlers, action: Action, model: type) -> Any:
    async def route(
        issue_id: str,
        body: model,  # type: ignore[valid-type]
        request: Request,
        who: Annotated[Principal, Depends(authenticated(intake))],
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        payload: ActionIn = body
        work = partial(intake.act, action, issue_id, payload, who)
        recall = partial(intake.recall_action, action, issue_id, payload, who)
        return await once(intake, request, who, key, payload, work, recall)

    route.__name__ = f"{action.value}_issue"
    return route
