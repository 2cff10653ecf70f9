"""Intake's side: report an issue, look one up, an office's inbox, act on an issue."""

from typing import Annotated, Any

import typer

from cli.app import app, config, guarded, out
from cli.render import fields_table, print_json, rows_table
from services.contracts.vocabulary import (
    Channel,
    IssueAction,
    Kind,
    ReporterType,
    Satisfaction,
)

Action = IssueAction
"""The actions' names come from the contracts (intake's routes carry the same words)."""

FIELDS: dict[Action, tuple[str, ...]] = {
    Action.ACCEPT: (),
    Action.RETURN: ("reason",),
    Action.PROGRESS: ("note",),
    Action.EXTENSION: ("working_days", "reason"),
    Action.RESOLVE: ("result",),
    Action.VERIFY: ("passed", "note"),
    Action.VISIT: ("satisfaction", "solved"),
    Action.CLOSE: (),
}
"""What each action's body carries (intake answers 422 naming a missing one)."""

Key = Annotated[
    str | None,
    typer.Option("--key", help="Idempotency-Key: the same command with the same key does it once"),
]


@app.command()
@guarded
def report(
    ctx: typer.Context,
    text: Annotated[str, typer.Option(help="what the reporter says")],
    channel: Channel = Channel.HOTLINE,
    kind: Kind = Kind.COMPLAINT,
    category: Annotated[str | None, typer.Option(help="a catalogue item; else inferred")] = None,
    region: Annotated[str | None, typer.Option(help="a region code of the city")] = None,
    address: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    phone: Annotated[str | None, typer.Option(help="the reporter's phone (kept sealed)")] = None,
    name: Annotated[str | None, typer.Option(help="the reporter's name (kept sealed)")] = None,
    reporter_type: ReporterType = ReporterType.CITIZEN,
    enterprise: str | None = None,
    direct_answer: Annotated[
        str | None, typer.Option(help="直办: answer it at once; it is never dispatched")
    ] = None,
    key: Key = None,
) -> None:
    """Report an issue (as an operator, grid worker or supervisor)."""
    location = {"region_code": region, "address": address, "latitude": lat, "longitude": lon}
    body: dict[str, Any] = {
        "channel": channel.value, "kind": kind.value, "text": text, "category": category,
        "location": {k: v for k, v in location.items() if v is not None},
        "reporter_phone": phone, "reporter_name": name, "reporter_type": reporter_type.value,
        "enterprise_id": enterprise, "direct_answer": direct_answer,
    }  # fmt: skip
    body = {k: v for k, v in body.items() if v is not None}
    created = config(ctx).intake.json("POST", "/issues", body=body, key=key)
    if config(ctx).json:
        return print_json(out(), created)
    out().print(fields_table("Reported", created.items()))


@app.command()
@guarded
def show(ctx: typer.Context, issue_id: str) -> None:
    """An issue's status view: state, office, deadlines, flags and history."""
    view = config(ctx).intake.json("GET", f"/issues/{issue_id}")
    if config(ctx).json:
        return print_json(out(), view)
    shown = ("issue_id", "state", "channel", "kind", "category", "tier", "region_code",
             "office_id", "co_office_ids", "level", "rung", "deadlines", "flags", "merged_into",
             "direct_handling", "description", "reported_at")  # fmt: skip
    console = out()
    console.print(fields_table(f"Issue {issue_id}", ((k, view.get(k)) for k in shown if k in view)))
    history = [{"at": h.get("at"), "type": h.get("type")} for h in view.get("history", [])]
    console.print(rows_table("History", history, ["at", "type"]))


@app.command()
@guarded
def inbox(ctx: typer.Context) -> None:
    """Your office's open issues, due soonest first (an office's token)."""
    items = config(ctx).intake.json("GET", "/inbox")
    if config(ctx).json:
        return print_json(out(), items)
    rows = [
        {**item, "flags": ", ".join(k for k, on in (item.get("flags") or {}).items() if on)}
        for item in items
    ]
    columns = ["issue_id", "state", "category", "region_code", "due_at", "overdue", "flags"]
    out().print(rows_table(f"Inbox: {len(rows)} open", rows, columns))


@app.command()
@guarded
def act(
    ctx: typer.Context,
    issue_id: str,
    action: Action,
    reason: Annotated[str | None, typer.Option(help="return, extension")] = None,
    note: Annotated[str | None, typer.Option(help="progress, verify")] = None,
    days: Annotated[int | None, typer.Option(help="extension: working days")] = None,
    result: Annotated[str | None, typer.Option(help="resolve")] = None,
    passed: Annotated[bool | None, typer.Option("--passed/--failed", help="verify")] = None,
    satisfaction: Annotated[Satisfaction | None, typer.Option(help="visit")] = None,
    solved: Annotated[bool | None, typer.Option("--solved/--not-solved", help="visit")] = None,
    receipt: Annotated[
        str | None, typer.Option(help="act as the reporter, with their receipt code")
    ] = None,
    key: Key = None,
) -> None:
    """Act on an issue: accept, return, progress, extension, resolve, verify, visit, close."""
    given = {
        "reason": reason, "note": note, "working_days": days, "result": result,
        "passed": passed, "satisfaction": satisfaction.value if satisfaction else None,
        "solved": solved,
    }  # fmt: skip
    stray = [k for k, v in given.items() if v is not None and k not in FIELDS[action]]
    if stray:
        wanted = ", ".join(FIELDS[action]) or "nothing"
        raise typer.BadParameter(f"{action.value} takes {wanted}, not {', '.join(stray)}")
    body = {k: v for k, v in given.items() if k in FIELDS[action] and v is not None}
    intake = config(ctx).intake
    if receipt:
        intake.token, intake.headers = None, {"X-Receipt-Code": receipt}
    done = intake.json("POST", f"/issues/{issue_id}/{action.value}", body=body, key=key)
    if config(ctx).json:
        return print_json(out(), done)
    out().print(f"{action.value}: issue {done['issue_id']} is now [bold]{done['state']}[/]")


@app.command()
@guarded
def decide(
    ctx: typer.Context,
    issue_id: str,
    grant: Annotated[bool, typer.Option("--grant/--refuse", help="the decision")],
    reason: Annotated[str, typer.Option(help="why")],
    days: Annotated[int | None, typer.Option(help="working days granted (default: asked)")] = None,
    request: Annotated[
        str | None, typer.Option(help="the request's event id (default: the latest waiting)")
    ] = None,
    key: Key = None,
) -> None:
    """A supervisor decides an extension request the rule left to them (延期审批)."""
    body = {"granted": grant, "reason": reason, "working_days": days, "request_id": request}
    body = {k: v for k, v in body.items() if v is not None}
    path = f"/issues/{issue_id}/extension-decision"
    done = config(ctx).intake.json("POST", path, body=body, key=key)
    if config(ctx).json:
        return print_json(out(), done)
    verdict = f"granted {done['working_days']} working days" if done["granted"] else "refused"
    out().print(f"extension request {done['request_id']} of issue {issue_id}: {verdict}")
