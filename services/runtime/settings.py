"""Settings every service shares (prefix HUIYIN_), and the base for a service's own."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.contracts.topics import (
    DEFAULT_PARTITIONS,
    dead_letter_topic,
    issues_topic,
    retry_topic,
)
from services.runtime.kafka_access import KafkaAccess, SaslMechanism, SecurityProtocol


class PlatformSettings(BaseSettings):
    """Where the platform's shared parts are. Read from HUIYIN_* variables."""

    model_config = SettingsConfigDict(env_prefix="HUIYIN_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT", description="SASL_PLAINTEXT or SASL_SSL where the broker signs in"
    )
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_username: str = Field(default="", description="this service's Kafka principal")
    kafka_password: SecretStr = SecretStr("")
    kafka_ssl_cafile: str = Field(default="", description="CA of the brokers' TLS certificates")
    mongo_url: str = "mongodb://127.0.0.1:27018/"
    mongo_explain_log: Path | None = Field(
        default=None,
        description="note every query shape in this file, to explain (runtime.query_log)",
    )
    topic_prefix: str = Field(default="", description="namespace for the topics (tests, demos)")
    database_prefix: str = Field(default="huiyin_", description="prefix of each service's database")
    partitions: int = Field(default=DEFAULT_PARTITIONS, ge=1)
    replication_factor: int = Field(
        default=1, ge=1, description="copies of each topic the services create (3 in production)"
    )
    min_insync_replicas: int = Field(
        default=1, ge=1, description="copies a write needs before acks=all answers (2 in prod.)"
    )
    log_level: str = "INFO"
    log_json: bool = True
    handler_attempts: int = Field(default=3, ge=1, description="tries before dead-lettering")
    retry_pause: float = Field(default=0.2, gt=0, description="seconds before the first retry")

    @property
    def kafka(self) -> KafkaAccess:
        """Where the brokers are and who this service is to them."""
        return KafkaAccess(
            self.kafka_bootstrap,
            self.kafka_security_protocol,
            self.kafka_sasl_mechanism,
            self.kafka_username,
            self.kafka_password.get_secret_value(),
            self.kafka_ssl_cafile,
        )

    @property
    def issues_topic(self) -> str:
        return issues_topic(self.topic_prefix)

    @property
    def dead_letter_topic(self) -> str:
        return dead_letter_topic(self.topic_prefix)

    def retry_topic(self, service: str) -> str:
        return retry_topic(service, self.topic_prefix)

    def database(self, service: str) -> str:
        return f"{self.database_prefix}{service}"


class ServiceSettings(BaseSettings):
    """A service's own settings; subclasses set env_prefix HUIYIN_<SERVICE>_."""

    model_config = SettingsConfigDict(extra="ignore")

    host: str = "127.0.0.1"
    port: int
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
    gc_thresholds: tuple[int, int, int] = Field(
        default=(50_000, 20, 100),
        description=(
            "the process's garbage collector thresholds (`gc.set_threshold`); what exists "
            "after start is frozen (runtime.service.collect_less)"
        ),
    )
