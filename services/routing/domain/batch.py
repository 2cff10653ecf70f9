"""What routing keeps of an issue as one read returns it, and the effects a consumer batch
decided, gathered per document so the store writes them as one bulk write per collection.
Pure values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from services.contracts.events import IssueMergedPayload
from services.routing.domain.duplicates import Claim
from services.routing.domain.state import RoutingState


@dataclass(frozen=True)
class Stored:
    """An issue's routing as stored: its dispatch, or the problem it was merged into, and the
    key of the cell it claimed."""

    state: RoutingState | None = None
    merge: IssueMergedPayload | None = None
    claim: str | None = None
    merged_claim: str | None = None
    """The key of the claim of the problem it was merged into (its window was extended)."""

    @property
    def decided(self) -> bool:
        return self.state is not None or self.merge is not None


@dataclass
class IssueEffects:
    """What a batch writes to one issue's document, in one update."""

    stored: bool
    """Read in this batch and found: the update is guarded by its causes (skipped when one of
    them is in the document already, i.e. another instance got there first)."""
    new: bool = False
    """Read in this batch and not found: inserted (updated instead if it exists by then)."""
    causes: list[str] = field(default_factory=list)
    state: RoutingState | None = None
    claim: str | None = None
    merge: IssueMergedPayload | None = None
    merged_claim: str | None = None
    reporters: dict[str, datetime] = field(default_factory=dict)

    def caused(self, cause: str) -> None:
        if cause not in self.causes:
            self.causes.append(cause)


ClaimOp = tuple[Literal["confirm", "extend", "release"], str, str, datetime | None]
"""(what, cell key, issue id that must hold it, the report time for `extend`)."""


@dataclass
class Effects:
    """A batch's effects, in the order the store writes them: the claims of new problems
    (taken before anything else, each by one insert), then one write per issue document,
    then every other write on the claims in event order."""

    fresh: dict[str, Claim] = field(default_factory=dict)
    """Claims taken by this batch's new problems, by cell key."""
    outlived: list[Claim] = field(default_factory=list)
    """Claims given up before the new ones are taken: of problems whose window closed (to a
    new problem of this batch), and those a crashed run of this batch left."""
    claims: list[ClaimOp] = field(default_factory=list)
    issues: dict[str, IssueEffects] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.fresh or self.outlived or self.claims or self.issues)
