"""The `kafka_security` settings: TLS and SASL for every Kafka client, checked when the settings load.

Environment: VROEGSIGNAAL_KAFKA_SECURITY__TLS=true, ..._CA_FILE=/etc/kafka/ca.pem and so on; in
the TOML file a `[kafka_security]` table. The files are read and the SSLContext is built once,
here; `client` hands it to every client (connectors/kafka/security.py).
"""

from __future__ import annotations

import ssl
from pathlib import Path

from pydantic import BaseModel, ConfigDict, FilePath, PrivateAttr, SecretStr, model_validator

from connectors.kafka.security import PLAINTEXT, KafkaSecurity, SaslMechanism, SecurityProtocol, tls_context

__all__ = ["ENV_PREFIX", "KafkaSecuritySettings"]

ENV_PREFIX = "VROEGSIGNAAL_KAFKA_SECURITY__"


class KafkaSecuritySettings(BaseModel):
    """TLS (CA, client certificate and key) and SASL (PLAIN, SCRAM-SHA-256/512); off by default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tls: bool = False
    ca_file: FilePath | None = None  # None: the system's trust store (a public CA)
    cert_file: FilePath | None = None  # client certificate (mTLS), PEM; may hold the key too
    key_file: FilePath | None = None
    key_password: SecretStr | None = None
    check_hostname: bool = True
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None

    _client: KafkaSecurity = PrivateAttr(default=PLAINTEXT)

    @model_validator(mode="after")
    def _consistent(self) -> KafkaSecuritySettings:
        files = {"ca_file": self.ca_file, "cert_file": self.cert_file, "key_file": self.key_file}
        if not self.tls:
            given = [name for name, path in files.items() if path is not None]
            if given or self.key_password is not None:
                raise ValueError(f"kafka_security.{(given or ['key_password'])[0]} is set but tls is false")
        if self.key_file is not None and self.cert_file is None:
            raise ValueError("kafka_security.key_file needs kafka_security.cert_file")
        if self.key_password is not None and self.cert_file is None:
            raise ValueError("kafka_security.key_password needs kafka_security.cert_file")
        if self.sasl_mechanism is None:
            if self.sasl_username is not None or self.sasl_password is not None:
                raise ValueError("kafka_security.sasl_username/sasl_password need sasl_mechanism")
        elif not self.sasl_username or self.sasl_password is None:
            raise ValueError(
                f"kafka_security.sasl_mechanism {self.sasl_mechanism} needs sasl_username and sasl_password"
            )
        elif self.sasl_mechanism == "PLAIN" and not self.tls:
            raise ValueError("kafka_security.sasl_mechanism PLAIN sends the password in clear: set tls=true")
        self._client = self._build()
        return self

    def _build(self) -> KafkaSecurity:
        context = None
        if self.tls:
            try:
                context = tls_context(
                    ca_file=self.ca_file,
                    cert_file=self.cert_file,
                    key_file=self.key_file,
                    key_password=self.key_password.get_secret_value() if self.key_password else None,
                    check_hostname=self.check_hostname,
                )
            except (ssl.SSLError, OSError) as exc:
                raise ValueError(f"kafka_security: the TLS files cannot be used: {_reason(exc)}") from None
        return KafkaSecurity(
            ssl_context=context,
            sasl_mechanism=self.sasl_mechanism,
            sasl_username=self.sasl_username,
            sasl_password=self.sasl_password.get_secret_value() if self.sasl_password else None,
        )

    @property
    def client(self) -> KafkaSecurity:
        """What the clients get: the SSLContext built once, the SASL credentials."""
        return self._client

    @property
    def protocol(self) -> SecurityProtocol:
        """PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."""
        return self._client.protocol

    def env(self) -> dict[str, str]:
        """These settings as environment variables, for a child process (the replay's worker)."""
        values = self.model_dump(exclude_none=True, exclude_defaults=True)
        env: dict[str, str] = {}
        for name, value in values.items():
            if isinstance(value, SecretStr):
                text = value.get_secret_value()
            elif isinstance(value, bool):
                text = str(value).lower()
            elif isinstance(value, Path):
                text = str(value.resolve())
            else:
                text = str(value)
            env[ENV_PREFIX + name.upper()] = text
        return env


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"{exc.library or 'ssl'}: {exc.reason or exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror} ({exc.filename or 'file'})"
    return str(exc) or type(exc).__name__
