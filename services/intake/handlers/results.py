"""What the use cases answer (the HTTP edge shows them as they are)."""

from pydantic import BaseModel, Field

from services.contracts.vocabulary import IssueState
from services.intake.domain.rules import Role


class ReportOut(BaseModel):
    issue_id: str
    receipt_code: str
    state: IssueState


class ActionOut(BaseModel):
    issue_id: str
    event_ids: list[str]
    state: IssueState


class PrincipalOut(BaseModel):
    id: str
    role: Role
    token: str = Field(description="shown once; stored only as a hash")
