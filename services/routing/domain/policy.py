"""Routing policy as configuration: tier rules (分类分级), return and reopening limits,
the five-level ladder (五级调度) and duplicate merging (重复件合并)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.contracts.vocabulary import Channel, Kind, Level, ReporterType, Tier

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.\-]*$", max_length=80)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=80)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TierCondition(Model):
    """All the given lists must match; a list matches when the report has any of its values."""

    categories: tuple[Id, ...] = ()
    groups: tuple[Id, ...] = ()
    kinds: tuple[Kind, ...] = ()
    channels: tuple[Channel, ...] = ()
    reporter_types: tuple[ReporterType, ...] = ()
    keywords: tuple[Name, ...] = ()

    @model_validator(mode="after")
    def _not_empty(self) -> TierCondition:
        if not any(getattr(self, name) for name in type(self).model_fields):
            raise ValueError("a condition needs at least one of its lists")
        return self


class TierRule(Model):
    name: Name
    tier: Tier
    when: TierCondition


class TierPolicy(Model):
    default: Tier = Tier.GENERAL
    structural_level: Level = Field(
        default=Level.COUNTY, description="where structural issues are coordinated"
    )
    rules: tuple[TierRule, ...] = Field(default=(), description="the first that matches wins")


class DispatchPolicy(Model):
    returns_to_climb: int = Field(default=2, ge=1, description="the n-th return climbs a level")
    reopens_to_climb: int = Field(default=2, ge=1, description="the n-th reopening climbs a level")


class Leader(Model):
    id: Id
    name: Name


class LadderPolicy(Model):
    """五级调度: office → center → deputy → executive deputy → principal."""

    center: Id = Field(description="the office kind of the daily desk, found at the city")
    deputies: dict[Id, Leader] = Field(default={}, description="category group → deputy")
    default_deputy: Leader
    executive_deputy: Leader
    principal: Leader


class DuplicatePolicy(Model):
    radius_m: float = Field(default=150, gt=0)
    window_hours: float = Field(default=72, gt=0)
    radius_by_category: dict[Id, Annotated[float, Field(gt=0)]] = {}
    kinds: tuple[Kind, ...] = (Kind.COMPLAINT, Kind.HELP, Kind.REPORT)
    tiers: tuple[Tier, ...] = (Tier.GENERAL, Tier.COMPLEX, Tier.STRUCTURAL)


class Policy(Model):
    tiers: TierPolicy = TierPolicy()
    dispatch: DispatchPolicy = DispatchPolicy()
    ladder: LadderPolicy
    duplicates: DuplicatePolicy = DuplicatePolicy()
