"""The supervision policy as configuration: the "13710" clocks, steps, escalation, extensions.

The defaults of these models are the 13710 reading of shared/domain.md, and the shipped
`deploy/config/policy.yaml` spells out the same numbers (a unit test keeps them equal):

- accept 1 working day, return visit 1 working day;
- resolve by tier: general 3, complex 7, structural 10, and individual 3: an individual
  issue (个性化问题, 针对办) is targeted handling by one office, with no co-offices and
  no higher-level coordination, so it gets the clock of ordinary single-office work;
- reminders (催办) at 50% and 80% of a clock, yellow at 100%, red at 150% or at 100%
  of a clock when the issue already had an overdue clock; red escalates one rung up
  the five-level ladder (五级调度);
- extensions: the rule grants a request of up to 3 working days once per clock, on a
  resolve clock not yet overdue; everything else is left to a supervisor.

Steps are whole percentages of a clock's length in working time (see `calendar`).
Overrides per channel and per category change any subset of the clock lengths and the
steps; a category override wins over a channel override, which wins over the defaults.
Every override, and every channel x category pair of them, is validated at load time.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from services.contracts.vocabulary import Channel, ClockKind, Tier

__all__ = [
    "ClockDays",
    "ClockTerms",
    "Escalation",
    "ExtensionRule",
    "Override",
    "Overrides",
    "Policy",
    "PolicyError",
    "ResolveDays",
    "Thresholds",
    "parse_policy",
]

Percent = Annotated[int, Field(gt=0, le=1000)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Model):
    """Where a clock's steps sit, in percent of its length (YAML key `steps`)."""

    reminders: tuple[Percent, ...] = (50, 80)
    yellow: Percent = 100
    red: Percent = 150
    red_on_second_overdue: bool = True
    escalate_on_red: bool = True

    @field_validator("reminders")
    @classmethod
    def _increasing(cls, reminders: tuple[int, ...]) -> tuple[int, ...]:
        if any(b <= a for a, b in pairwise(reminders)):
            raise ValueError(f"must be strictly increasing, got {list(reminders)}")
        return reminders

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.reminders and self.reminders[-1] >= self.yellow:
            raise _Problem(("reminders",), f"each must be below yellow ({self.yellow}%)")
        if self.red <= self.yellow:
            raise _Problem(("red",), f"must be above yellow ({self.yellow}%), got {self.red}%")
        return self


class ResolveDays(_Model):
    """Working days of the resolve clock, by tier."""

    general: PositiveInt = 3
    complex: PositiveInt = 7
    structural: PositiveInt = 10
    individual: PositiveInt = 3


class ClockDays(_Model):
    """Working days of each clock (YAML key `clocks`)."""

    accept: PositiveInt = 1
    resolve: ResolveDays = ResolveDays()
    return_visit: PositiveInt = 1


class Escalation(_Model):
    rungs: int = Field(default=1, ge=1, le=4, description="rungs up the ladder on red")


class ExtensionRule(_Model):
    """When the rule grants an extension by itself; any other request goes to a supervisor."""

    auto_grant_max_working_days: NonNegativeInt = 3
    auto_grant_times: NonNegativeInt = 1
    auto_grant_clocks: tuple[ClockKind, ...] = (ClockKind.RESOLVE,)
    auto_grant_when_overdue: bool = False


class ResolveDaysOverride(_Model):
    general: PositiveInt | None = None
    complex: PositiveInt | None = None
    structural: PositiveInt | None = None
    individual: PositiveInt | None = None


class ClockDaysOverride(_Model):
    accept: PositiveInt | None = None
    resolve: ResolveDaysOverride = ResolveDaysOverride()
    return_visit: PositiveInt | None = None


class ThresholdsOverride(_Model):
    reminders: tuple[Percent, ...] | None = None
    yellow: Percent | None = None
    red: Percent | None = None
    red_on_second_overdue: bool | None = None
    escalate_on_red: bool | None = None


class Override(_Model):
    """A partial policy for one channel or one category: what it leaves out is inherited."""

    clocks: ClockDaysOverride = ClockDaysOverride()
    steps: ThresholdsOverride = ThresholdsOverride()


class Overrides(_Model):
    channels: dict[Channel, Override] = {}
    categories: dict[str, Override] = {}


class ClockTerms(_Model):
    """What the policy sets for one clock of one issue."""

    kind: ClockKind
    working_days: PositiveInt
    thresholds: Thresholds
    escalation_rungs: int


class Policy(_Model):
    """The whole supervision policy; `Policy()` is the 13710 default."""

    timezone: str = "Asia/Shanghai"
    clocks: ClockDays = ClockDays()
    steps: Thresholds = Thresholds()
    escalation: Escalation = Escalation()
    extensions: ExtensionRule = ExtensionRule()
    overrides: Overrides = Overrides()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as unknown:
            raise ValueError(f"unknown time zone {name!r}") from unknown
        return name

    @model_validator(mode="after")
    def _overrides_merge_cleanly(self) -> Self:
        channels = {f"overrides.channels.{k.value}": v for k, v in self.overrides.channels.items()}
        categories = {f"overrides.categories.{k}": v for k, v in self.overrides.categories.items()}
        layers = [[(name, o)] for name, o in (channels | categories).items()]
        layers += [[c, k] for c in channels.items() for k in categories.items()]
        for stack in layers:
            try:
                self._thresholds([o for _, o in stack])
            except ValidationError as invalid:
                field, msg = _problems(invalid)[0]
                where = " + ".join(name for name, _ in stack)
                raise _Problem(
                    (f"{where}.steps.{field}",), f"{msg} (merged with the defaults)"
                ) from None
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def terms(
        self,
        kind: ClockKind,
        *,
        tier: Tier | None = None,
        category: str | None = None,
        channel: Channel | None = None,
    ) -> ClockTerms:
        """The clock length and steps for one clock (the resolve clock needs the tier)."""
        kind = ClockKind(kind)
        tier = Tier(tier) if tier is not None else None
        channel = Channel(channel) if channel is not None else None
        days = _days_in(self.clocks, kind, tier)
        if days is None:
            raise ValueError("the resolve clock's length depends on the tier: pass tier=")
        layers = self._layers(category, channel)
        for layer in layers:
            days = _days_in(layer.clocks, kind, tier) or days
        return ClockTerms(
            kind=kind,
            working_days=days,
            thresholds=self._thresholds(layers),
            escalation_rungs=self.escalation.rungs,
        )

    def _layers(self, category: str | None, channel: Channel | None) -> list[Override]:
        by_channel = self.overrides.channels.get(channel) if channel is not None else None
        by_category = self.overrides.categories.get(category) if category is not None else None
        return [layer for layer in (by_channel, by_category) if layer is not None]

    def _thresholds(self, layers: list[Override]) -> Thresholds:
        merged: dict[str, Any] = self.steps.model_dump()
        for layer in layers:
            merged |= layer.steps.model_dump(exclude_none=True)
        return Thresholds.model_validate(merged)


def _days_in(
    clocks: ClockDays | ClockDaysOverride, kind: ClockKind, tier: Tier | None
) -> int | None:
    """The working days `clocks` sets for a clock of `kind` (None: left to a lower layer)."""
    if kind is ClockKind.ACCEPT:
        return clocks.accept
    if kind is ClockKind.RETURN_VISIT:
        return clocks.return_visit
    days: int | None = getattr(clocks.resolve, tier.value) if tier is not None else None
    return days


class PolicyError(ValueError):
    """The policy file is invalid; `problems` pairs each dotted field with what is wrong."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  {field}: {msg}" for field, msg in self.problems)
        super().__init__(f"invalid supervision policy {source}:\n{lines}")

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(field for field, _ in self.problems)


def parse_policy(data: object, source: str = "<policy>") -> Policy:
    """Validate an already parsed document (a mapping) into a `Policy`."""
    if not isinstance(data, dict):
        raise PolicyError(source, [("(document)", "must be a mapping of policy fields")])
    try:
        return Policy.model_validate(data)
    except ValidationError as invalid:
        raise PolicyError(source, _problems(invalid)) from None


class _Problem(ValueError):
    """A model-level check that knows which field (below the model) is wrong."""

    def __init__(self, loc: tuple[str, ...], detail: str) -> None:
        super().__init__(detail)
        self.loc = loc
        self.detail = detail


def _problems(invalid: ValidationError) -> list[tuple[str, str]]:
    """Dotted field paths and messages, one pair per error."""
    problems = []
    for error in invalid.errors():
        loc = [str(part) for part in error["loc"]]
        msg = error["msg"].removeprefix("Value error, ")
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, _Problem):
            loc += cause.loc
            msg = cause.detail
        problems.append((".".join(loc) or "(document)", msg))
    return problems
