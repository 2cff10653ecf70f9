"""The console's users: a name, a password (stored as a hash), a role, and the intake
principal (bearer token) the console acts with on their behalf."""

import re
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    OFFICE = "office"
    SUPERVISOR = "supervisor"
    GRID_WORKER = "grid_worker"
    LEADER = "leader"
    ADMIN = "admin"


HOME: dict[Role, str] = {
    Role.OPERATOR: "/desk",
    Role.OFFICE: "/office",
    Role.SUPERVISOR: "/board",
    Role.GRID_WORKER: "/board",
    Role.LEADER: "/dashboard",
    Role.ADMIN: "/admin/users",
}
"""Where each role lands after signing in."""

SCREENS: dict[str, frozenset[Role]] = {
    "desk": frozenset({Role.OPERATOR, Role.ADMIN}),
    "office": frozenset({Role.OFFICE}),
    "issue": frozenset({Role.OPERATOR, Role.OFFICE, Role.SUPERVISOR, Role.GRID_WORKER, Role.ADMIN}),
    "board": frozenset({Role.SUPERVISOR, Role.GRID_WORKER, Role.ADMIN}),
    "dashboard": frozenset({Role.LEADER, Role.SUPERVISOR, Role.ADMIN}),
    "admin": frozenset({Role.ADMIN}),
}
"""Which roles may open which screen (the services check every action again)."""

INTAKE_ROLE: dict[Role, str | None] = {
    Role.OPERATOR: "operator",
    Role.OFFICE: "office",
    Role.SUPERVISOR: "supervisor",
    Role.GRID_WORKER: "grid_worker",
    Role.LEADER: None,  # reads reporting only: no intake principal
    Role.ADMIN: "admin",
}

NAME = re.compile(r"^[A-Za-z0-9_.\-]{2,40}$")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    display_name: str = ""
    token: str | None = None  # the intake bearer token it acts with
    office_id: str | None = None
    region_code: str | None = None
    level: str | None = None
    password_hash: str = field(default="", repr=False)

    def may_open(self, screen: str) -> bool:
        return self.role in SCREENS[screen]

    @property
    def home(self) -> str:
        return HOME[self.role]


class Invalid(Exception):
    """A new user that cannot be: `field` names what is wrong."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


def check_new_user(name: str, password: str, role: Role, office_id: str | None) -> None:
    """Raise `Invalid` unless a user of this name, password and role may be added."""
    if not NAME.match(name):
        raise Invalid("name", "2–40 letters, digits, '.', '_' or '-'")
    if len(password) < MIN_PASSWORD:
        raise Invalid("password", f"at least {MIN_PASSWORD} characters")
    if role is Role.OFFICE and not office_id:
        raise Invalid("office_id", "an office user is bound to one office")
