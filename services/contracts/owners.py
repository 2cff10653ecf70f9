"""Which service produces which event type: a fact is written only by its owner.

Kafka's ACLs say who may write the facts topic at all (intake, routing, supervision); this
table says which of them may write which type. Every consumer drops (dead-letters, reason
`foreign_producer`) an event whose `producer` does not own its type, so a client that can
reach the topic cannot make routing's assignment or supervision's flag appear. Pure.
"""

from collections.abc import Mapping

INTAKE, ROUTING, SUPERVISION = "intake", "routing", "supervision"

OWNERS: Mapping[str, frozenset[str]] = {
    # the front door: every fact that enters from outside
    "IssueReported": frozenset({INTAKE}),
    "IssueAnswered": frozenset({INTAKE}),
    "IssueAccepted": frozenset({INTAKE}),
    "IssueReturned": frozenset({INTAKE}),
    "ProgressNoted": frozenset({INTAKE}),
    "ExtensionRequested": frozenset({INTAKE}),
    "IssueResolved": frozenset({INTAKE}),
    "IssueVerified": frozenset({INTAKE}),
    "IssueVisited": frozenset({INTAKE}),
    "IssueReopened": frozenset({INTAKE}),
    "IssueClosed": frozenset({INTAKE}),
    # a supervisor decides through intake; the rule decides in supervision
    "ExtensionDecided": frozenset({INTAKE, SUPERVISION}),
    # judging and dispatch
    "IssueTriaged": frozenset({ROUTING}),
    "IssueMerged": frozenset({ROUTING}),
    "IssueAssigned": frozenset({ROUTING}),
    "IssueEscalated": frozenset({ROUTING}),
    # the clocks
    "ClockStarted": frozenset({SUPERVISION}),
    "ClockRescheduled": frozenset({SUPERVISION}),
    "ReminderSent": frozenset({SUPERVISION}),
    "IssueFlagged": frozenset({SUPERVISION}),
    "SupervisionOrdered": frozenset({SUPERVISION}),
}

PRODUCERS: frozenset[str] = frozenset().union(*OWNERS.values())
"""The services that write facts (the ones Kafka's ACLs let write the facts topic)."""


def owns(producer: str, event_type: str) -> bool:
    """Whether `producer` may write events of `event_type`."""
    return producer in OWNERS.get(event_type, frozenset())
