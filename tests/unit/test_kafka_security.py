"""Secure Kafka: every client gets the configured TLS/SASL, Faust included; the settings refuse half a setup."""

from __future__ import annotations

import ast
import ssl
from pathlib import Path
from typing import Any

import pytest
from faust.auth import SASLCredentials, SSLCredentials
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from connectors.kafka.security import PLAINTEXT, KafkaSecurity
from streams.bootstrap import _faust_options, faust_credentials
from streams.worker.kafka_security import KafkaSecuritySettings
from streams.worker.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
KAFKA_CLIENTS = {
    "AIOKafkaProducer",
    "AIOKafkaConsumer",
    "AIOKafkaAdminClient",
    "AIOKafkaClient",
    "KafkaProducer",
    "KafkaConsumer",
    "KafkaAdminClient",
}
SASL = {"sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "worker", "sasl_password": "s3cr3t-sasl"}


def _sources() -> list[tuple[Path, ast.Module]]:
    files = sorted((ROOT / "streams").rglob("*.py")) + sorted((ROOT / "connectors").rglob("*.py"))
    return [(path, ast.parse(path.read_text(), str(path))) for path in files]


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _passes_client_kwargs(call: ast.Call) -> bool:
    """`**<something>.client_kwargs()` among the keyword arguments."""
    return any(
        kw.arg is None
        and isinstance(kw.value, ast.Call)
        and isinstance(kw.value.func, ast.Attribute)
        and kw.value.func.attr == "client_kwargs"
        for kw in call.keywords
    )


def test_every_kafka_client_of_streams_and_connectors_gets_the_security_kwargs() -> None:
    found, missing = 0, []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called_name(node) in KAFKA_CLIENTS:
                found += 1
                if not _passes_client_kwargs(node):
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {_called_name(node)}(...)")
    assert found >= 10, "the scan found too few clients: has the code moved?"
    assert not missing, "Kafka clients without **security.client_kwargs(): " + ", ".join(missing)


def _takes_security() -> dict[str, int]:
    """Module-level functions and classes of ours with a `security` parameter -> its positional index."""
    takes: dict[str, int] = {}
    for _, tree in _sources():
        for node in tree.body:
            target: ast.FunctionDef | ast.AsyncFunctionDef
            if isinstance(node, ast.ClassDef):
                inits = [n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
                if not inits:
                    continue
                target = inits[0]
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                target = node
            else:
                continue
            positional = [a.arg for a in target.args.posonlyargs + target.args.args if a.arg != "self"]
            if "security" in positional:
                takes[node.name] = positional.index("security")
            elif "security" in [a.arg for a in target.args.kwonlyargs]:
                takes[node.name] = 10_000
    return takes


def test_every_call_of_a_function_that_takes_security_passes_it() -> None:
    """A default of PLAINTEXT must never be what a production path silently gets."""
    takes = _takes_security()
    assert {"ensure_topics", "BatchConsumer", "read_topic", "true_ends", "wait_committed"} <= set(takes)
    missing = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in takes):
                continue
            passed = any(kw.arg == "security" for kw in node.keywords) or len(node.args) > takes[node.func.id]
            if not passed:
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.id}(...)")
    assert not missing, "calls without security=: " + ", ".join(missing)


def test_plaintext_by_default_and_the_protocol_follows_the_settings() -> None:
    assert KafkaSecuritySettings().protocol == "PLAINTEXT"
    assert KafkaSecuritySettings().client.client_kwargs() == {"security_protocol": "PLAINTEXT"}
    scram = KafkaSecuritySettings(**SASL)
    assert scram.protocol == "SASL_PLAINTEXT"
    assert scram.client.client_kwargs() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "worker",
        "sasl_plain_password": "s3cr3t-sasl",
    }
    # With the system trust store (a broker with a public CA): no file needed.
    tls = KafkaSecuritySettings(tls=True, **SASL)
    assert tls.protocol == "SASL_SSL"
    context = tls.client.ssl_context
    assert context is not None
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VROEGSIGNAAL_KAFKA_SECURITY__TLS", "true")
    monkeypatch.setenv("VROEGSIGNAAL_KAFKA_SECURITY__SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("VROEGSIGNAAL_KAFKA_SECURITY__SASL_USERNAME", "worker")
    monkeypatch.setenv("VROEGSIGNAAL_KAFKA_SECURITY__SASL_PASSWORD", "s3cr3t-sasl")
    settings = load_settings()
    assert settings.kafka_security.protocol == "SASL_SSL"
    assert settings.kafka_security.client.sasl_mechanism == "SCRAM-SHA-256"
    assert "s3cr3t-sasl" not in repr(settings)
    # What a child process (the replay's worker) needs to connect the same way.
    assert settings.kafka_security.env() == {
        "VROEGSIGNAAL_KAFKA_SECURITY__TLS": "true",
        "VROEGSIGNAAL_KAFKA_SECURITY__SASL_MECHANISM": "SCRAM-SHA-256",
        "VROEGSIGNAAL_KAFKA_SECURITY__SASL_USERNAME": "worker",
        "VROEGSIGNAAL_KAFKA_SECURITY__SASL_PASSWORD": "s3cr3t-sasl",
    }


@pytest.mark.parametrize(
    ("given", "says"),
    [
        (
            {"sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "worker"},
            "needs sasl_username and sasl_password",
        ),
        ({"sasl_username": "worker", "sasl_password": "s3cr3t-sasl"}, "need sasl_mechanism"),
        ({"sasl_mechanism": "PLAIN", "sasl_username": "w", "sasl_password": "s3cr3t-sasl"}, "set tls=true"),
        (
            {"sasl_mechanism": "GSSAPI", "sasl_username": "w", "sasl_password": "s3cr3t-sasl"},
            "sasl_mechanism",
        ),
        ({"tls": True, "ca_file": "/nonexistent/ca.pem"}, "kafka_security.ca_file"),
        ({"tls": True, "key_password": "s3cr3t-key"}, "key_password needs kafka_security.cert_file"),
    ],
)
def test_half_a_setup_is_refused_in_one_line_that_never_shows_a_password(
    given: dict[str, object], says: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(kafka_security=given)
    message = str(refused.value)
    assert says in message
    assert "\n" not in message
    assert "s3cr3t" not in message


def test_faust_gets_the_same_context_and_credentials_as_every_other_client() -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for security in (
        KafkaSecurity(ssl_context=context),
        KafkaSecurity(
            ssl_context=context, sasl_mechanism="SCRAM-SHA-256", sasl_username="w", sasl_password="p"
        ),
        KafkaSecurity(sasl_mechanism="SCRAM-SHA-512", sasl_username="w", sasl_password="p"),
    ):
        credentials = faust_credentials(security)
        assert isinstance(credentials, SSLCredentials | SASLCredentials)
        # What Faust's aiokafka driver hands its producer (which also creates topics) and consumers.
        faust_kwargs = credentials_to_aiokafka_auth(credentials)
        assert {k: v for k, v in faust_kwargs.items() if v is not None} == security.client_kwargs()
    assert faust_credentials(PLAINTEXT) is None


def test_the_worker_app_is_configured_with_the_credentials() -> None:
    settings = load_settings(kafka_security={"tls": True, **SASL})
    credentials = _faust_options(settings)["broker_credentials"]
    assert isinstance(credentials, SASLCredentials)
    assert credentials.ssl_context is settings.kafka_security.client.ssl_context
    assert _faust_options(load_settings())["broker_credentials"] is None


@pytest.mark.parametrize(
    ("given", "secret"),
    [
        ({"session_key": ["x" * 40]}, "x" * 40),
        ({"read_token": ["tok3n-value"]}, "tok3n-value"),
        ({"database_url": ["postgresql://vs:s3cr3t@db/vs"]}, "s3cr3t"),
    ],
)
def test_a_settings_error_never_echoes_a_secret_or_a_database_password(
    given: dict[str, Any], secret: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(**given)
    assert secret not in str(refused.value)
