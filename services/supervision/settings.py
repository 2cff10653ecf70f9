"""Supervision's settings (prefix HUIYIN_SUPERVISION_); the shared ones are under `platform`."""

from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings
from services.supervision.adapters.files import (
    DEFAULT_CALENDAR_PATH,
    DEFAULT_OFFICES_PATH,
    DEFAULT_POLICY_PATH,
)


class SupervisionSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HUIYIN_SUPERVISION_", extra="ignore")

    port: int = 8103
    policy: Path = Field(
        default=DEFAULT_POLICY_PATH,
        description="the policy file: clock lengths, steps, escalation, extension rule, zone",
    )
    calendar: Path = Field(
        default=DEFAULT_CALENDAR_PATH,
        description=(
            "the calendar supplement: public holidays and swapped working days of the years "
            "the installed chinesecalendar does not know yet"
        ),
    )
    offices: str = Field(
        default=str(DEFAULT_OFFICES_PATH),
        description=(
            "the offices the city has (routing's offices.yaml): clocks are never started for "
            "an assignment naming another, which is dead-lettered (unknown_office); empty: "
            "not checked"
        ),
    )
    time_offset_seconds: float = Field(
        default=0.0,
        description=(
            "shift the service's clock by this many seconds (0 in production). For demos and "
            "process-level tests that run supervision in a simulated week: the shifted clock "
            "still runs at real speed, and events keep their own timestamps"
        ),
    )
    fire_tick_seconds: float = Field(
        default=0.25, gt=0, le=1, description="the firing loop looks at the clock this often"
    )
    fire_concurrency: int = Field(
        default=1000, ge=1, description="issues fired at the same time (in batches)"
    )
    load_batch: int = Field(default=20000, ge=1, description="timers read per batch on assignment")
    batch_max: int = Field(
        default=1000,
        ge=1,
        description=(
            "events of the log handled as one batch at most (one read of the records, then "
            "its issues in parts of `commit_issues`)"
        ),
    )
    commit_issues: int = Field(
        default=100,
        ge=1,
        description=(
            "a batch's issues are computed this many at a time; each part is published, then "
            "stored (one produce batch, one bulk write per collection), while the next is "
            "computed"
        ),
    )

    @property
    def time_offset(self) -> timedelta:
        return timedelta(seconds=self.time_offset_seconds)
