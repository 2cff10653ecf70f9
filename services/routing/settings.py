from pathlib import Path

from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HUIYIN_ROUTING_", extra="ignore")

    port: int = 8102
    city: Path = Path(__file__).resolve().parents[2] / "deploy/config/city"
