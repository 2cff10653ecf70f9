from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HUIYIN_REPORTING_", extra="ignore")

    port: int = 8104
    timezone: str = "Asia/Shanghai"
