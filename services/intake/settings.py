from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings

CONFIG = Path(__file__).resolve().parents[2] / "deploy/config"


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HUIYIN_INTAKE_", extra="ignore")

    port: int = 8101
    secret: str = Field(
        default="change-me-in-production",
        description="derives the reporter pseudonym key, the receipt key and the contact cipher",
    )
    admin_token: str | None = Field(
        default=None, description="a bootstrap admin token (stored hashed); admins add principals"
    )
    catalogue: Path = CONFIG / "city/categories.yaml"
    city: Path = Field(
        default=CONFIG / "city",
        description="the city's configuration folder: the offices and regions a principal or "
        "an assignment may name (offices.yaml, regions.yaml)",
    )
    public_rate_limit: str = Field(
        default="120/minute",
        description="per client, shared by every instance: receipt codes wherever checked, Open311",
    )
    notify_token: str = Field(
        default="",
        description="notify's bearer token at GET /internal/contacts/{issue_id} (empty: refused)",
    )
    fault: Literal["", "after_publish"] = Field(
        default="",
        description="TEST ONLY, never in production: 'after_publish' makes the process SIGKILL "
        "itself right after the broker acknowledged a publish, before the view and the "
        "idempotency record are written (the retry-after-crash test)",
    )
