"""The console's settings (prefix HUIYIN_CONSOLE_): where it listens, the four services it
speaks to, and the bootstrap admin who adds the other users."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class ConsoleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HUIYIN_CONSOLE_", extra="ignore")

    port: int = 8100
    intake_url: str = "http://127.0.0.1:8101"
    routing_url: str = "http://127.0.0.1:8102"
    supervision_url: str = "http://127.0.0.1:8103"
    reporting_url: str = "http://127.0.0.1:8104"
    secret: str = Field(
        default="change-me-in-production",
        description="signs the forms' CSRF tokens, seals the intake tokens it keeps",
    )
    admin_user: str = Field(default="admin", description="the bootstrap admin's user name")
    admin_password: str | None = Field(
        default=None, description="the bootstrap admin's password (unset: no bootstrap admin)"
    )
    admin_token: str | None = Field(
        default=None, description="the intake admin token the bootstrap admin acts with"
    )
    secure_cookies: bool = Field(
        default=False, description="mark cookies Secure even when the request is plain http"
    )
    session_hours: float = Field(default=12.0, gt=0, description="a session's lifetime")
    public_rate_limit: str = Field(
        default="30/minute", description="per client: the public look-ups and answers, sign-ins"
    )
    refresh_ms: int = Field(default=1000, ge=200, description="the inbox's live refresh period")
    timezone: str = Field(default="Asia/Shanghai", description="the zone times are shown in")
    page_size: int = Field(default=50, ge=1, le=200, description="rows per page of the inbox")
    service_timeout_s: float = Field(
        default=30.0, gt=0, description="how long a page waits for a service's answer"
    )
