"""How a client reaches the Kafka brokers: where they are and who it is.

Locally the broker listens on loopback without authentication (PLAINTEXT). In compose every
service signs in as its own principal with SASL/SCRAM, and the broker's ACLs let it write only
the topics it owns; with TLS in front (`SASL_SSL`) the broker's certificate is checked against
`ssl_cafile`. One object gives the same identity to every client a service makes: FastStream's
broker, the topic admin, the topic reader, the CLI.
"""

import ssl
from dataclasses import dataclass
from typing import Any, Literal

from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]

_SASL = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}


@dataclass(frozen=True)
class KafkaAccess:
    bootstrap: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    username: str = ""
    password: str = ""
    ssl_cafile: str = ""

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.uses_tls:
            return None
        return ssl.create_default_context(cafile=self.ssl_cafile or None)

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin client."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
        }
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        return options

    def broker_security(self) -> BaseSecurity | None:
        """FastStream's description of the same identity (None: plain, unauthenticated)."""
        if self.uses_sasl:
            return _SASL[self.sasl_mechanism](
                self.username, self.password, ssl_context=self.ssl_context(), use_ssl=self.uses_tls
            )
        if self.uses_tls:
            return BaseSecurity(ssl_context=self.ssl_context(), use_ssl=True)
        return None


def as_access(kafka: "str | KafkaAccess") -> KafkaAccess:
    """A bare bootstrap address is an unauthenticated, plain connection."""
    return kafka if isinstance(kafka, KafkaAccess) else KafkaAccess(kafka)
