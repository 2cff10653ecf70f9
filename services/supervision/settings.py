from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class SupervisionSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HUIYIN_SUPERVISION_", extra="ignore")

    port: int = 8103
    accept_working_days: int = 1
    timezone: str = "Asia/Shanghai"
