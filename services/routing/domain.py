"""Routing's rules: judge a report and pick the office that handles it. Pure."""

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from services.contracts.events import IssueReportedPayload
from services.contracts.vocabulary import Level, Tier


class Office(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    level: Level


class DispatchRules(BaseModel):
    """Which office handles which category; validated so a typo fails at start, not at 3 a.m."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_office: str
    offices: dict[str, Office]
    categories: dict[str, str]
    keywords: dict[str, str] = {}

    @model_validator(mode="after")
    def _references_exist(self) -> "DispatchRules":
        if self.default_office not in self.offices:
            raise ValueError(f"default_office: unknown office {self.default_office!r}")
        for category, office in self.categories.items():
            if office not in self.offices:
                raise ValueError(f"categories.{category}: unknown office {office!r}")
        for keyword, category in self.keywords.items():
            if category not in self.categories:
                raise ValueError(f"keywords.{keyword}: unknown category {category!r}")
        return self

    @classmethod
    def load(cls, path: Path) -> "DispatchRules":
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Decision:
    category: str
    tier: Tier
    region_code: str
    office_id: str
    level: Level
    reason: str


UNCATEGORISED = "uncategorised"


def judge(report: IssueReportedPayload, rules: DispatchRules) -> Decision:
    """Category (given or inferred from the text), then its responsible office."""
    category, why = _category(report, rules)
    office_id = rules.categories.get(category, rules.default_office)
    if category in rules.categories:
        reason = f"{why}; {category} is handled by {office_id}"
    else:
        reason = (
            f"{why}; no office is responsible for it, so the default office {office_id} takes it"
        )
    return Decision(
        category=category,
        tier=Tier.GENERAL,
        region_code=report.location.region_code or "unknown",
        office_id=office_id,
        level=rules.offices[office_id].level,
        reason=reason,
    )


def _category(report: IssueReportedPayload, rules: DispatchRules) -> tuple[str, str]:
    if report.category:
        return report.category, f"category {report.category} given by the report"
    for keyword, category in rules.keywords.items():
        if keyword in report.text:
            return category, f"category {category} inferred from the keyword {keyword!r}"
    return UNCATEGORISED, "no category given and no keyword matched"


def redispatch_after_return(office_id: str, reason: str, rules: DispatchRules) -> tuple[str, str]:
    """退单: the skeleton's next candidate is the default office (the hotline center), which
    coordinates; a return by the default office itself stays there for an operator to judge."""
    if office_id != rules.default_office:
        return (
            rules.default_office,
            f"returned by {office_id} ({reason}): to {rules.default_office}",
        )
    return office_id, f"returned by the default office ({reason}): it stays for an operator"
