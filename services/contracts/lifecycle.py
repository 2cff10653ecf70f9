"""Which events move an issue to which state. The others ride along (clocks, flags, notes)."""

from services.contracts.vocabulary import IssueState

STATE_AFTER: dict[str, IssueState] = {
    "IssueReported": IssueState.RECEIVED,
    "IssueAnswered": IssueState.ANSWERED,
    "IssueTriaged": IssueState.TRIAGED,
    "IssueMerged": IssueState.MERGED,
    "IssueAssigned": IssueState.ASSIGNED,
    "IssueAccepted": IssueState.ACCEPTED,
    "IssueReturned": IssueState.RETURNED,
    "IssueResolved": IssueState.RESOLVED,
    "IssueVerified": IssueState.VERIFIED,
    "IssueVisited": IssueState.VISITED,
    "IssueReopened": IssueState.REOPENED,
    "IssueClosed": IssueState.CLOSED,
}

FINAL_STATES = frozenset({IssueState.MERGED, IssueState.CLOSED})


def state_after(event_type: str) -> IssueState | None:
    return STATE_AFTER.get(event_type)
