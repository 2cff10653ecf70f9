from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HUIYIN_INTAKE_", extra="ignore")

    port: int = 8101

    pseudonym_key: str = "change-me-in-production"
