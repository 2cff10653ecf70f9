"""What an office, a supervisor or an operator may do to an issue in its state now (intake
checks again: this only decides which forms the issue page shows)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.console.domain.users import Role


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text, textarea, number, select, checkbox
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActionForm:
    action: str
    fields: tuple[Field, ...] = ()


REASON = Field("reason", "textarea")
ACTIONS: dict[str, ActionForm] = {
    "accept": ActionForm("accept"),
    "return": ActionForm("return", (REASON,)),
    "progress": ActionForm("progress", (Field("note", "textarea"),)),
    "extension": ActionForm("extension", (Field("working_days", "number"), REASON)),
    "resolve": ActionForm("resolve", (Field("result", "textarea"),)),
    "verify": ActionForm("verify", (Field("passed", "checkbox"), Field("note", "textarea"))),
    "visit": ActionForm(
        "visit",
        (
            Field("satisfaction", "select", ("satisfied", "basically_satisfied", "dissatisfied")),
            Field("solved", "checkbox"),
        ),
    ),
    "close": ActionForm("close"),
    "extension-decision": ActionForm(
        "extension-decision",
        (Field("granted", "checkbox"), Field("working_days", "number"), REASON),
    ),
}

BY_ROLE_AND_STATE: dict[Role, dict[str, tuple[str, ...]]] = {
    Role.OFFICE: {
        "assigned": ("accept", "return"),
        "accepted": ("progress", "extension", "resolve", "return"),
    },
    Role.SUPERVISOR: {"resolved": ("verify",), "visited": ("close",)},
    Role.GRID_WORKER: {"resolved": ("verify",)},
    Role.OPERATOR: {
        "resolved": ("visit",),
        "verified": ("visit",),
        "answered": ("visit",),
        "visited": ("close",),
    },
}


def actions_now(
    role: Role, state: str, holds_it: bool = True, extension_awaits: bool = False
) -> list[ActionForm]:
    """The forms `role` sees on an issue in `state`; an office only on issues it holds now;
    a supervisor (or admin) decides an extension request that awaits a decision (延期审批)."""
    if role is Role.OFFICE and not holds_it:
        return []
    if role is Role.ADMIN:
        names = {n for states in BY_ROLE_AND_STATE.values() for n in states.get(state, ())}
        forms = [form for name, form in ACTIONS.items() if name in names]
    else:
        forms = [ACTIONS[name] for name in BY_ROLE_AND_STATE.get(role, {}).get(state, ())]
    if extension_awaits and role in (Role.SUPERVISOR, Role.ADMIN):
        forms.append(ACTIONS["extension-decision"])
    return forms


def extension_awaits(history: Sequence[Mapping[str, object]]) -> bool:
    """Whether the latest extension request (in log order) has no decision yet."""
    waiting = False
    for entry in history:
        if entry.get("type") == "ExtensionRequested":
            waiting = True
        elif entry.get("type") == "ExtensionDecided":
            waiting = False
    return waiting


def action_body(action: str, form: dict[str, str]) -> dict[str, object]:
    """The JSON body of an action from its submitted form (types as intake expects them;
    a bad number is passed on as given, so intake's 422 names the field)."""
    body: dict[str, object] = {}
    for field_ in ACTIONS[action].fields:
        value = form.get(field_.name)
        if field_.kind == "checkbox":
            body[field_.name] = value in ("on", "true", "1")
        elif field_.kind == "number":
            if value and value.strip():  # empty: left out (intake says when it is required)
                body[field_.name] = int(value) if value.strip().isdigit() else value
        elif value is not None:
            body[field_.name] = value
    return body
