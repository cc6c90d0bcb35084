"""How every Kafka client of the project connects: TLS, SASL, both or neither, in one place.

`KafkaSecurity` is built once from the settings (streams/worker/settings.py,
`kafka_security`); every client constructor takes `**security.client_kwargs()`, and the
Faust app gets the same through `broker_credentials` (streams/bootstrap.py).
`tests/unit/test_kafka_security.py` fails when a client is created without it.

A TLS or SASL failure reaches aiokafka's callers as a bare "Unable to bootstrap"; `explain`
probes the first broker itself and names the setting to check, in one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiokafka.errors import KafkaConnectionError

from connectors.errors import ConnectorError

__all__ = [
    "PLAINTEXT",
    "KafkaSecurity",
    "KafkaSecurityError",
    "SaslMechanism",
    "SecurityProtocol",
    "explain",
    "start_client",
    "tls_context",
]

SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]

# The settings an explanation points at (streams/worker/settings.py, KafkaSecuritySettings).
_CA = "kafka_security.ca_file (VROEGSIGNAAL_KAFKA_SECURITY__CA_FILE)"
_CLIENT_CERT = "kafka_security.cert_file/key_file (VROEGSIGNAAL_KAFKA_SECURITY__CERT_FILE, __KEY_FILE)"
_TLS = "kafka_security.tls (VROEGSIGNAAL_KAFKA_SECURITY__TLS)"
_SASL = "kafka_security.sasl_username/sasl_password/sasl_mechanism"


class KafkaSecurityError(ConnectorError, KafkaConnectionError):
    """A Kafka connection failed for a security reason; the message names the setting to check.

    A KafkaConnectionError too, so the commands' "cannot reach the broker" handlers report it.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "Kafka security error"


@dataclass(frozen=True)
class KafkaSecurity:
    """TLS (an SSLContext built once) and SASL credentials; the default is plaintext, no authentication."""

    ssl_context: ssl.SSLContext | None = None
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        given = {self.sasl_mechanism is None, self.sasl_username is None, self.sasl_password is None}
        if len(given) > 1:
            raise ValueError("SASL needs a mechanism, a username and a password together")

    @property
    def protocol(self) -> SecurityProtocol:
        """Kafka's security.protocol for this combination."""
        if self.sasl_mechanism is None:
            return "PLAINTEXT" if self.ssl_context is None else "SSL"
        return "SASL_PLAINTEXT" if self.ssl_context is None else "SASL_SSL"

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient."""
        kwargs: dict[str, Any] = {"security_protocol": self.protocol}
        if self.ssl_context is not None:
            kwargs["ssl_context"] = self.ssl_context
        if self.sasl_mechanism is not None:
            kwargs |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.sasl_username,
                "sasl_plain_password": self.sasl_password,
            }
        return kwargs


PLAINTEXT = KafkaSecurity()


def tls_context(
    *,
    ca_file: Path | None = None,
    cert_file: Path | None = None,
    key_file: Path | None = None,
    key_password: str | None = None,
    check_hostname: bool = True,
) -> ssl.SSLContext:
    """A client context: the CA file (else the system's trust store), an optional client certificate.

    Raises ssl.SSLError or OSError when a file is unreadable or the key does not match.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = check_hostname
    context.verify_mode = ssl.CERT_REQUIRED  # even without hostname checks, the chain is verified
    if cert_file is not None:
        context.load_cert_chain(str(cert_file), str(key_file) if key_file else None, key_password)
    return context


async def explain(bootstrap: str, security: KafkaSecurity, *, timeout_s: float = 5.0) -> str | None:
    """Why a connection to the first broker fails for a security reason, in one line; None otherwise.

    Opens a TLS connection the way the clients do (same context) and waits briefly for an
    alert: a server that requires a client certificate refuses it only after the handshake.
    """
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    where = f"{host}:{port}"
    if security.ssl_context is None:
        return await _explain_plaintext(host, int(port), where, timeout_s)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, int(port), ssl=security.ssl_context), timeout_s
        )
    except ssl.SSLCertVerificationError as exc:
        reason = exc.verify_message or exc.reason or str(exc)
        if "hostname" in reason.lower() or "ip address mismatch" in reason.lower():
            return (
                f"TLS to {where}: the broker's certificate does not name {host} ({reason}); "
                "connect by a name the certificate holds, or set kafka_security.check_hostname=false"
            )
        return f"TLS to {where}: the broker's certificate is not trusted ({reason}); check setting {_CA}"
    except ssl.SSLError as exc:
        return _explain_ssl_error(exc, where)
    except TimeoutError:
        return f"TLS to {where}: no handshake within {timeout_s:.0f} s, the broker may not speak TLS there; check setting {_TLS}"
    except OSError:
        return None  # not reachable at all: the client's own error says so
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader.read(1), 0.5)
    except ssl.SSLError as exc:
        return _explain_ssl_error(exc, where)
    except OSError:
        return None
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    if security.sasl_mechanism is not None:
        return f"SASL {security.sasl_mechanism} at {where} failed; check setting {_SASL}"
    return None


def _explain_ssl_error(exc: ssl.SSLError, where: str) -> str:
    reason = exc.reason or str(exc)
    if reason in {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"}:
        return f"TLS to {where}: the broker does not speak TLS there ({reason}); check setting {_TLS}"
    if "CERTIFICATE" in reason.upper() or "HANDSHAKE_FAILURE" in reason.upper():
        return f"TLS to {where}: the broker refused our client certificate ({reason}); check setting {_CLIENT_CERT}"
    return f"TLS to {where} failed ({reason}); check settings {_CA} and {_CLIENT_CERT}"


async def _explain_plaintext(host: str, port: int, where: str, timeout_s: float) -> str | None:
    """A plaintext client at a TLS listener: the server answers garbage or hangs up at once."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except (OSError, TimeoutError):
        return None
    try:
        # A TLS server answers a ClientHello with a handshake (0x16) or alert (0x15) record.
        writer.write(_client_hello())
        await writer.drain()
        first = await asyncio.wait_for(reader.read(1), 1.0)
    except (OSError, TimeoutError):
        return None
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    if first in (b"\x16", b"\x15"):
        return f"{where} speaks TLS but the client does not; check setting {_TLS}"
    return None


def _client_hello() -> bytes:
    """The first TLS record of a real handshake (made by the ssl module, never sent elsewhere)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    tls = context.wrap_bio(incoming, outgoing, server_hostname="broker")
    with contextlib.suppress(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


async def start_client(client: Any, bootstrap: str, security: KafkaSecurity) -> None:
    """`await client.start()`; a failure for a security reason raises KafkaSecurityError naming the setting."""
    try:
        await client.start()
    except KafkaConnectionError as exc:
        reason = await explain(bootstrap, security)
        if reason is None:
            raise
        raise KafkaSecurityError(reason) from exc
