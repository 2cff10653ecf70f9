from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from services.reporting.domain.facts import FactRules
from services.reporting.domain.rankings import Weights
from services.runtime.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HUIYIN_REPORTING_", extra="ignore")

    port: int = 8104
    timezone: str = "Asia/Shanghai"
    ranking_weights: dict[str, float] = Field(
        default={"response": 1.0, "resolution": 1.0, "satisfaction": 1.0},
        description='JSON, e.g. {"response": 0.4, "resolution": 0.3, "satisfaction": 0.3}',
    )
    duration_buckets_hours: tuple[float, ...] = Field(
        default=(1, 2, 4, 8, 24, 48, 72, 120, 168, 240),
        description="upper bounds of the time-to-accept and time-to-resolve buckets (hours)",
    )
    backlog_min_age_days: float = Field(default=30, ge=0, description="积案: unsolved this long")
    backlog_age_buckets_days: tuple[float, ...] = (1, 3, 7, 10, 30, 90)
    admin_token: SecretStr | None = Field(
        default=None, description="bearer token of POST /admin/rebuild; unset: rebuild refused"
    )

    @field_validator("ranking_weights")
    @classmethod
    def _three_rates(cls, weights: dict[str, float]) -> dict[str, float]:
        expected = {"response", "resolution", "satisfaction"}
        if set(weights) != expected or any(w < 0 for w in weights.values()):
            raise ValueError(f"weights of exactly {sorted(expected)}, none negative")
        if sum(weights.values()) <= 0:
            raise ValueError("the weights must not all be zero")
        return weights

    @field_validator("duration_buckets_hours", "backlog_age_buckets_days")
    @classmethod
    def _increasing(cls, bounds: tuple[float, ...]) -> tuple[float, ...]:
        if not bounds or list(bounds) != sorted(set(bounds)) or bounds[0] <= 0:
            raise ValueError("bucket bounds must be positive and strictly increasing")
        return bounds

    def fact_rules(self) -> FactRules:
        """What the facts' view depends on besides the log."""
        return FactRules(ZoneInfo(self.timezone), self.duration_buckets_hours)

    def weights(self) -> Weights:
        return Weights(**self.ranking_weights)
