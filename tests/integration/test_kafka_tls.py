"""Kafka over TLS for real: the embedded broker behind stunnel4, with a CA and certificates made here.

The broker advertises the terminator's port, so every client (also after the metadata
round trip) talks TLS; stunnel requires a client certificate signed by the CA (mTLS).
SASL is not tested: the embedded broker only authenticates users stored in its storage,
and its memory storage cannot hold a user before authentication is switched on (README).
"""

from __future__ import annotations

import asyncio
import os
import ssl
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from connectors.kafka.admin import ensure_topics
from connectors.kafka.archive import archive_topics
from connectors.kafka.broker import EmbeddedBroker, free_port
from connectors.kafka.security import KafkaSecurityError, explain
from schemas.contract_v1 import Address
from schemas.household import household_key
from streams.cli.ingest_file import IngestCounts, ingest
from streams.replay.run import ReplayOptions, replay
from streams.worker.settings import Settings, SettingsError, load_settings
from synthetic.generate import GenerateOptions, generate
from tests.integration.harness import PARTITIONS, Worker
from tests.integration.tls import Pki, Stunnel, TlsUnavailable, leaf_certificate, make_pki, stunnel_binary

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

KEY_PASSWORD = "client-key-passphrase"
HEADER = (
    "event_id,type,source,creditor_id,creditor_name,debt_ref,occurred_at,debtor_name,debtor_bsn,"
    "postcode,house_number,house_letter,amount_cents,due_date,monthly_amount_cents,reminder_kind,term_days"
)
ROW = "t1,debt.opened,housing,wr,Woonstad,H-9,2024-03-01T09:30:00+01:00,J. de Vries,,3011AB,12,A,95000,2024-02-01,95000,,"
HOUSEHOLD = household_key(Address(postcode="3011AB", house_number=12, house_letter="A"))


@dataclass(frozen=True)
class TlsBroker:
    """The embedded broker (plaintext, loopback) and stunnel in front of it; clients only see the TLS port."""

    broker: EmbeddedBroker
    stunnel: Stunnel
    pki: Pki

    @property
    def bootstrap(self) -> str:
        return self.stunnel.bootstrap

    @property
    def url(self) -> str:
        return f"kafka://{self.stunnel.bootstrap}"


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsBroker]:
    try:
        stunnel_binary()
    except TlsUnavailable as exc:
        if os.environ.get("CI"):  # .ci/run installs both: CI must run these
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    directory = Path(tmp_path_factory.mktemp("tls"))
    pki = make_pki(directory / "pki", client_key_password=KEY_PASSWORD)
    port = free_port()
    broker = EmbeddedBroker(advertised_port=port, log_path=directory / "broker.log")
    with broker, Stunnel(pki, target_port=broker.port, port=port, require_client_cert=True) as stunnel:
        yield TlsBroker(broker, stunnel, pki)


def security_of(pki: Pki, **changes: Any) -> dict[str, Any]:
    """The kafka_security settings of a worker with its client certificate (mTLS)."""
    return {
        "tls": True,
        "ca_file": str(pki.ca),
        "cert_file": str(pki.client_cert),
        "key_file": str(pki.client_key),
        "key_password": KEY_PASSWORD,
    } | changes


def settings_of(tls: TlsBroker, prefix: str = "tls.", **changes: Any) -> Settings:
    return load_settings(
        broker_url=tls.url,
        topic_prefix=prefix,
        partitions=PARTITIONS,
        kafka_security=security_of(tls.pki, **changes),
    )


def env_of(security: dict[str, Any]) -> dict[str, str]:
    return {
        f"VROEGSIGNAAL_KAFKA_SECURITY__{k.upper()}": str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in security.items()
    }


async def test_a_producer_and_consumer_trusting_the_ca_round_trip_a_message_over_tls(
    tls_broker: TlsBroker,
) -> None:
    security = settings_of(tls_broker).kafka_security.client
    topic = f"tls-roundtrip-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=tls_broker.bootstrap, **security.client_kwargs())
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"over tls", key=b"k")
        # The broker the client was told about is the terminator, not the plaintext listener.
        assert {b.port for b in producer.client.cluster.brokers()} == {tls_broker.stunnel.port}
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=tls_broker.bootstrap,
        auto_offset_reset="earliest",
        **security.client_kwargs(),
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    assert (record.key, record.value) == (b"k", b"over tls")
    assert "Certificate accepted at depth=0: CN=vroegsignaal-worker" in tls_broker.stunnel.log_tail()


async def test_a_worker_ingest_sink_and_archive_run_over_mutual_tls(
    tls_broker: TlsBroker, tmp_path: Path
) -> None:
    """The project's own clients, built from the settings: Faust (consumers, producer, tables), the
    topic creation at start-up, the sink's consumer, file ingest and archive."""
    unique = uuid.uuid4().hex[:10]
    prefix = f"tls-{unique}."
    security = security_of(tls_broker.pki)
    worker = Worker(
        broker=tls_broker.broker,
        prefix=prefix,
        data_dir=tmp_path / "worker",
        database_url=f"sqlite:///{tmp_path / 'worker.db'}",
        app_id=f"tls-{unique}",
        extra_env={"VROEGSIGNAAL_BROKER_URL": tls_broker.url, **env_of(security)},
    ).start()
    try:
        worker.wait_ready(timeout_s=120)
        settings = settings_of(tls_broker, prefix)
        daily = tmp_path / "woonstad.csv"
        daily.write_text(f"{HEADER}\n{ROW}\n", encoding="utf-8")
        counts = IngestCounts()
        await ingest(settings, daily, "housing", counts=counts)
        assert (counts.read, counts.accepted, counts.rejected) == (1, 1, 0)
        # Through ingest, the household stage and the sink: the read model has the household.
        deadline, status, body = time.monotonic() + 60, 0, None
        while time.monotonic() < deadline and status != 200:
            status, body = worker.get(f"/households/{HOUSEHOLD}", token="test-read-token")
            await asyncio.sleep(0.5)
        assert status == 200, worker.log_tail()
        assert "H-9" in str(body)
        archived = await archive_topics(
            tls_broker.bootstrap,
            [settings.topic_prefix + "inbound.housing"],
            tmp_path / "archive",
            progress=None,
            security=settings.kafka_security.client,
        )
        assert list(archived.values()) == [1]
    finally:
        worker.stop()
    assert "SSL" not in worker.log_tail(200), worker.log_tail(200)


@pytest.mark.slow  # 45 s; the worker, ingest, sink and archive over mutual TLS stay in `make test`
async def test_a_replay_runs_its_worker_and_clients_over_mutual_tls(
    tls_broker: TlsBroker, tmp_path: Path
) -> None:
    """The replay's own producers, admin and readers, and its worker process (given kafka_security)."""
    source = tmp_path / "history"
    generate(GenerateOptions(households=20, months=2, seed=3), source, progress=None)
    settings = settings_of(tls_broker)
    options = ReplayOptions(source_dir=source, out=tmp_path / "out")
    summary = await replay(settings, options, broker_url=tls_broker.url)
    assert summary.plan.accepted > 0
    assert sum(summary.outputs.values()) > 0, summary.lines()
    # --embedded runs its own plaintext broker: the live cluster's TLS settings do not apply there.
    embedded = ReplayOptions(source_dir=source, out=tmp_path / "embedded", embedded=True)
    assert (await replay(settings, embedded)).outputs == summary.outputs


async def test_a_client_with_a_wrong_ca_fails_in_one_line_naming_the_setting(tls_broker: TlsBroker) -> None:
    wrong = settings_of(tls_broker, ca_file=str(tls_broker.pki.other_ca)).kafka_security.client
    with pytest.raises(KafkaSecurityError) as refused:
        await ensure_topics(tls_broker.bootstrap, ["tls-never"], partitions=1, security=wrong)
    message = str(refused.value)
    assert "\n" not in message
    assert "not trusted" in message
    assert "kafka_security.ca_file" in message
    # Still a connection error, so every command's "cannot reach the broker" handler reports it.
    assert isinstance(refused.value, KafkaConnectionError)


async def test_the_ingest_command_with_a_wrong_ca_exits_2_with_that_line(
    tls_broker: TlsBroker, tmp_path: Path
) -> None:
    daily = tmp_path / "woonstad.csv"
    daily.write_text(f"{HEADER}\n{ROW}\n", encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VROEGSIGNAAL_")},
        "VROEGSIGNAAL_BROKER_URL": tls_broker.url,
        "VROEGSIGNAAL_DATA_DIR": str(tmp_path),
        **env_of(security_of(tls_broker.pki, ca_file=str(tls_broker.pki.other_ca))),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "streams.cli", "ingest", str(daily), "--source", "housing",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 120)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2, stderr.decode()
    assert "kafka_security.ca_file" in lines[-1], stderr.decode()
    assert lines[-1].startswith(f"vroegsignaal: cannot reach the broker at {tls_broker.url}: TLS to ")


async def test_the_worker_with_a_wrong_ca_stops_and_logs_which_setting(
    tls_broker: TlsBroker, tmp_path: Path
) -> None:
    unique = uuid.uuid4().hex[:10]
    worker = Worker(
        broker=tls_broker.broker,
        prefix=f"tls-{unique}.",
        data_dir=tmp_path / "worker",
        database_url=f"sqlite:///{tmp_path / 'worker.db'}",
        app_id=f"tls-{unique}",
        extra_env={
            "VROEGSIGNAAL_BROKER_URL": tls_broker.url,
            **env_of(security_of(tls_broker.pki, ca_file=str(tls_broker.pki.other_ca))),
        },
    ).start()
    assert worker.process is not None
    try:
        code = worker.process.wait(90)
    finally:
        worker.stop()
    log = worker.log_tail(200)
    assert code != 0, log
    assert "not trusted" in log, log
    assert "kafka_security.ca_file" in log, log


async def test_without_the_client_certificate_the_broker_refuses_and_the_error_says_so(
    tls_broker: TlsBroker,
) -> None:
    no_cert = load_settings(
        kafka_security={"tls": True, "ca_file": str(tls_broker.pki.ca)}
    ).kafka_security.client
    with pytest.raises(
        KafkaSecurityError, match=r"refused our client certificate.*kafka_security\.cert_file"
    ):
        await ensure_topics(tls_broker.bootstrap, ["tls-never"], partitions=1, security=no_cert)


async def test_a_plaintext_client_at_the_tls_listener_is_told_to_set_tls(tls_broker: TlsBroker) -> None:
    plaintext = load_settings().kafka_security.client
    with pytest.raises(KafkaSecurityError, match=r"speaks TLS but the client does not.*kafka_security\.tls"):
        await ensure_topics(tls_broker.bootstrap, ["tls-never"], partitions=1, security=plaintext)


async def test_a_broker_certificate_for_another_host_is_named_as_such(tls_broker: TlsBroker) -> None:
    directory = tls_broker.pki.directory
    leaf_certificate(directory, "elsewhere", "elsewhere", "subjectAltName=DNS:elsewhere.example")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "elsewhere.pem", directory / "elsewhere.key")
    server = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        checked = load_settings(kafka_security={"tls": True, "ca_file": str(tls_broker.pki.ca)})
        reason = await explain(f"127.0.0.1:{port}", checked.kafka_security.client)
        assert reason is not None
        assert "does not name 127.0.0.1" in reason
        assert "kafka_security.check_hostname" in reason
        unchecked = load_settings(
            kafka_security={"tls": True, "ca_file": str(tls_broker.pki.ca), "check_hostname": False}
        )
        assert await explain(f"127.0.0.1:{port}", unchecked.kafka_security.client) is None
    finally:
        server.close()


def test_a_key_password_that_does_not_open_the_key_is_refused_when_the_settings_load(
    tls_broker: TlsBroker,
) -> None:
    with pytest.raises(SettingsError) as refused:
        settings_of(tls_broker, key_password="not-the-passphrase")
    message = str(refused.value)
    assert "kafka_security" in message
    assert "not-the-passphrase" not in message
    assert KEY_PASSWORD not in message
