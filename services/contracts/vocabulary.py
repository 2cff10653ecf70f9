"""The domain's words (see shared/domain.md), as the values events carry."""

from enum import StrEnum


class Channel(StrEnum):
    """How an issue arrived (渠道)."""

    HOTLINE = "hotline"
    WEB = "web"
    MINIAPP = "miniapp"
    MAILBOX = "mailbox"
    LETTER = "letter"
    VISIT = "visit"
    GRID = "grid"
    ENTERPRISE_VISIT = "enterprise_visit"
    MEETING = "meeting"
    INSPECTION = "inspection"
    OPEN311 = "open311"


class Kind(StrEnum):
    """What the reporter asks for (类型)."""

    CONSULTATION = "consultation"
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    HELP = "help"
    REPORT = "report"
    PRAISE = "praise"


class Tier(StrEnum):
    """分类分级: how an issue is handled."""

    GENERAL = "general"
    COMPLEX = "complex"
    STRUCTURAL = "structural"
    INDIVIDUAL = "individual"


class Level(StrEnum):
    """A level of the jurisdiction tree (市-县-乡-村-网格)."""

    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"
    GRID = "grid"


class Rung(StrEnum):
    """The five-level dispatch ladder (五级调度), lowest first."""

    OFFICE = "office"
    CENTER = "center"
    DEPUTY = "deputy"
    EXECUTIVE_DEPUTY = "executive_deputy"
    PRINCIPAL = "principal"


class ClockKind(StrEnum):
    """The 13710 clocks."""

    ACCEPT = "accept"
    RESOLVE = "resolve"
    RETURN_VISIT = "return_visit"


class Flag(StrEnum):
    """红黄旗: marks for late work."""

    YELLOW = "yellow"
    RED = "red"


class Satisfaction(StrEnum):
    """The reporter's answer at the return visit (回访)."""

    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"


class ReporterType(StrEnum):
    CITIZEN = "citizen"
    ENTERPRISE = "enterprise"
    GRID_WORKER = "grid_worker"
    CADRE = "cadre"


class IssueState(StrEnum):
    """Where an issue stands in the loop (domain.md, "The loop")."""

    RECEIVED = "received"
    ANSWERED = "answered"
    TRIAGED = "triaged"
    MERGED = "merged"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    RESOLVED = "resolved"
    VERIFIED = "verified"
    VISITED = "visited"
    REOPENED = "reopened"
    CLOSED = "closed"


class IssueAction(StrEnum):
    """What an office, an operator or a reporter does to an issue after its report, as the
    last segment of intake's `POST /issues/{issue_id}/{action}`."""

    ACCEPT = "accept"
    RETURN = "return"
    PROGRESS = "progress"
    EXTENSION = "extension"
    RESOLVE = "resolve"
    VERIFY = "verify"
    VISIT = "visit"
    CLOSE = "close"
