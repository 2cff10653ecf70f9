"""Notify's settings (prefix HUIYIN_NOTIFY_); the shared ones are under `platform`.

What is sent to whom is the configuration file; the secrets and the servers are here.
"""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.notify.adapters.config_file import DEFAULT_CONFIG_PATH
from services.runtime.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HUIYIN_NOTIFY_", extra="ignore")

    port: int = 8105
    config: Path = Field(
        default=DEFAULT_CONFIG_PATH,
        description="what is sent to whom: messages, contacts, quiet hours, retries, gateway",
    )
    token: str = Field(default="", description="bearer token of GET /deliveries; empty: open")
    smtp_host: str = Field(default="", description="the SMTP server; empty: no e-mail channel")
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_tls: bool = Field(default=False, description="implicit TLS (port 465)")
    smtp_from: str = "12345@huiyin.local"
    sms_api_key: str = Field(default="", description="the SMS provider's key, as {api_key}")
    webhook_secret: str = Field(default="", description="HMAC key of the webhooks' signatures")
    intake_url: str = Field(default="", description="intake's base URL, for reporters' contacts")
    intake_token: str = Field(default="", description="notify's token at intake's internal API")
    http_timeout_seconds: float = Field(default=10.0, gt=0)
    tick_seconds: float = Field(default=1.0, gt=0, description="how often due messages are sent")
