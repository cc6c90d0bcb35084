"""Broker or database down or slow (issue 16 item 4): honest readiness, 503 with Retry-After, never a hang.

A real worker; the broker (an embedded Tansu of this test alone) or the database (a
PostgreSQL server of this test alone, or a table locked on the session's one) goes away
or stalls. `/readyz` must say so with the reason within a few probe intervals, a request
that needs the missing part must answer 503 with Retry-After within its timeout, and
`/healthz` and `/metrics` must keep answering at once, since they do no I/O.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from connectors.kafka.admin import ensure_topics
from connectors.kafka.broker import EmbeddedBroker, free_port
from connectors.kafka.probe import BrokerProbe
from connectors.team_access import sha256_hex
from tests.integration.harness import PARTITIONS, Worker, create_topics
from tests.integration.pg import PostgresServer, PostgresUnavailable
from tests.integration.team_client import DEMO_TOKENS, Answer, call
from tests.integration.test_ingest_http import HOUSING_TOKEN, housing_events

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

CHANGELOG_TABLES = ("state_by_household", "stream_time_by_partition", "clock_time_by_partition")
READ_TOKEN = "test-read-token"  # the harness's VROEGSIGNAAL_READ_TOKEN
MEMBER = DEMO_TOKENS["buurtteam-centrum"]
HOUSEHOLD = "3011AB-12"
# Generous: the worker is told 3 s; the bound only proves "an answer, not a hang".
ANSWER_WITHIN_S = 15.0
HEALTH_WITHIN_S = 2.0
FAST = {
    "VROEGSIGNAAL_PROBE_INTERVAL_S": "1",
    "VROEGSIGNAAL_READ_TIMEOUT_S": "3",
    "VROEGSIGNAAL_PUBLISH_TIMEOUT_S": "3",
}


def outage_worker(broker: EmbeddedBroker, data_dir: Path, database_url: str) -> Worker:
    unique = uuid.uuid4().hex[:8]
    tokens = {"woonstad": {"source": "housing", "token_sha256": sha256_hex(HOUSING_TOKEN)}}
    worker = Worker(
        broker=broker,
        prefix=f"o{unique}.",
        data_dir=data_dir,
        database_url=database_url,
        app_id=f"outage-{unique}",
        extra_env={**FAST, "VROEGSIGNAAL_CREDITOR_TOKENS": json.dumps(tokens)},
    )
    asyncio.run(create_topics(broker, worker.names))
    return worker


def timed(request: Callable[[], Answer]) -> tuple[Answer, float]:
    started = time.monotonic()
    answer = request()
    return answer, time.monotonic() - started


def readyz(worker: Worker) -> Answer:
    return call(worker, "GET", "/readyz")


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout_s}s: {what}"
        time.sleep(0.3)


def not_ready_because(worker: Worker, check: str, word: str) -> Callable[[], bool]:
    def holds() -> bool:
        answer = readyz(worker)
        return (
            answer.status == 503
            and answer.body["checks"][check] is False
            and any(word in reason for reason in answer.body["reasons"])
        )

    return holds


def assert_unavailable(answer: Answer, took_s: float, dependency: str) -> None:
    assert answer.status == 503, (answer.status, answer.body)
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.body["unavailable"] == dependency, answer.body
    assert took_s < ANSWER_WITHIN_S, took_s


def assert_healthy_at_once(worker: Worker) -> None:
    for path in ("/healthz", "/metrics"):
        answer, took = timed(lambda path=path: call(worker, "GET", path))  # type: ignore[misc]
        assert answer.status == 200, (path, answer.status)
        assert took < HEALTH_WITHIN_S, (path, took)


def creditor_retries(worker: Worker, event: dict[str, Any], attempts: int = 6) -> Answer:
    """POST the event as a creditor does: again after `Retry-After` while the answer is 503."""
    for _ in range(attempts - 1):
        answer = call(worker, "POST", "/v1/ingest/housing", token=HOUSING_TOKEN, json_body=event)
        if answer.status != 503:
            return answer
        time.sleep(int(answer.headers["Retry-After"]))
    return call(worker, "POST", "/v1/ingest/housing", token=HOUSING_TOKEN, json_body=event)


def metric_lines(worker: Worker, name: str) -> list[str]:
    text = call(worker, "GET", "/metrics").body
    return [line for line in text.splitlines() if line.startswith(name)]


# --- the broker probe ---------------------------------------------------------------------


async def test_the_broker_probe_answers_within_its_timeout_whatever_the_broker_does(
    broker: EmbeddedBroker,
) -> None:
    """Up: True. Nothing listening: False at once. A listener that never answers: False at the timeout."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections (the kernel does) and never says a word
    probes = {
        "up": BrokerProbe(broker.bootstrap),
        "refused": BrokerProbe(f"127.0.0.1:{free_port()}"),
        "silent": BrokerProbe(f"127.0.0.1:{silent.getsockname()[1]}"),
    }
    try:
        for name, probe in probes.items():
            started = time.monotonic()
            up = await probe.reachable(timeout_s=1.0)
            took = time.monotonic() - started
            assert up is (name == "up"), (name, probe.last_error)
            assert took < 3.0, (name, took)
            assert (probe.last_error == "") is up, (name, probe.last_error)
        assert await probes["up"].reachable(timeout_s=1.0)  # the second probe: a metadata request
    finally:
        for probe in probes.values():
            await probe.close()
        silent.close()


# --- broker down --------------------------------------------------------------------------


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker of this test alone, so stopping it disturbs no other test."""
    broker = EmbeddedBroker(log_path=tmp_path / "broker.log").start()
    try:
        yield broker
    finally:
        broker.stop()


def test_broker_down_makes_the_worker_unready_and_reads_and_ingest_answer_503_then_ready_again(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    worker = outage_worker(own_broker, tmp_path / "worker", f"sqlite:///{tmp_path / 'read.db'}")
    # Tansu keeps no data: the broker that comes back is a new one on the same port.
    second = EmbeddedBroker(port=own_broker.port, log_path=tmp_path / "broker-2.log")
    worker.start()
    try:
        worker.wait_ready()
        assert readyz(worker).body["checks"]["broker_reachable"] is True
        own_broker.stop()
        # The probe runs every second with a 1 s timeout: a few intervals at most.
        wait_for(not_ready_because(worker, "broker_reachable", "broker"), 20, "/readyz 503 naming the broker")
        assert_healthy_at_once(worker)

        # The operator's read and a team member's read are audited on the broker: refused, not hung.
        answer, took = timed(lambda: call(worker, "GET", f"/households/{HOUSEHOLD}", token=READ_TOKEN))
        assert_unavailable(answer, took, "broker")
        answer, took = timed(lambda: call(worker, "GET", f"/v1/households/{HOUSEHOLD}", token=MEMBER))
        assert_unavailable(answer, took, "broker")
        event = housing_events(uuid.uuid4().hex[:8], 1)[0]
        answer, took = timed(
            lambda: call(worker, "POST", "/v1/ingest/housing", token=HOUSING_TOKEN, json_body=event)
        )
        assert_unavailable(answer, took, "broker")
        assert_healthy_at_once(worker)
        assert metric_lines(worker, 'vroegsignaal_http_unavailable_total{dependency="broker"} 3.0')
        durations = metric_lines(worker, "vroegsignaal_http_request_duration_seconds_count")
        assert any('route="/households/{key}"' in line and 'status_class="5xx"' in line for line in durations)
        assert not any(HOUSEHOLD in line for line in durations), "a household key in a metric label"
        # The timed-out publishes left Faust's own futures alone (no traceback from its callbacks).
        log = "".join(path.read_text(errors="replace") for path in worker.data_dir.glob("worker-*.log"))
        assert "Exception in callback" not in log

        second.start()
        # As a real Kafka would still have them: the pipeline's topics and the tables' changelogs (else
        # a late write auto-creates a changelog the worker's recovery then waits on).
        asyncio.run(create_topics(second, worker.names))
        changelogs = [f"{worker.app_id}-{table}-changelog" for table in CHANGELOG_TABLES]
        asyncio.run(ensure_topics(second.bootstrap, changelogs, partitions=PARTITIONS))
        wait_for(
            lambda: readyz(worker).body["checks"]["broker_reachable"] is True, 30, "broker reachable again"
        )
        assert worker.process is not None
        assert worker.process.poll() is None, worker.log_tail()
        # The worker recovers by itself: ready again, and the creditor's retry, after Retry-After, accepted.
        worker.wait_ready(timeout_s=60)
        assert creditor_retries(worker, event).status == 202
    finally:
        worker.stop(timeout_s=20)
        second.stop()


# --- database down or slow (PostgreSQL) ---------------------------------------------------


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test alone, so stopping it disturbs no other test."""
    try:
        server = PostgresServer().init()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.mark.postgres
def test_database_down_makes_the_worker_unready_and_reads_answer_503_then_ready_again(
    broker: EmbeddedBroker, tmp_path: Path, own_postgres: PostgresServer
) -> None:
    worker = outage_worker(broker, tmp_path / "worker", own_postgres.create_database("outage"))
    worker.start()
    try:
        worker.wait_ready()
        own_postgres.stop()
        wait_for(
            not_ready_because(worker, "database_reachable", "database"), 20, "/readyz 503 naming the database"
        )
        assert_healthy_at_once(worker)
        answer, took = timed(lambda: call(worker, "GET", f"/households/{HOUSEHOLD}", token=READ_TOKEN))
        assert_unavailable(answer, took, "database")
        answer, took = timed(lambda: call(worker, "GET", "/v1/teams/buurtteam-centrum/cases", token=MEMBER))
        assert_unavailable(answer, took, "database")
        page, took = timed(
            lambda: call(
                worker, "GET", "/team/buurtteam-centrum/zaken", token=MEMBER, headers={"Accept": "text/html"}
            )
        )
        assert page.status == 503, page
        assert "Retry-After" in page.headers
        assert took < ANSWER_WITHIN_S, took
        assert_healthy_at_once(worker)

        own_postgres.start()
        worker.wait_ready(timeout_s=30)
        answer = call(worker, "GET", f"/households/{HOUSEHOLD}", token=READ_TOKEN)
        assert answer.status == 404, answer.body  # unknown, and answered again
    finally:
        worker.stop(timeout_s=20)


class Poller:
    """Polls /healthz in a thread while the test waits on a slow page; keeps the slowest answer."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.slowest_s = 0.0
        self.answers = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            answer, took = timed(lambda: call(self.worker, "GET", "/healthz"))
            assert answer.status == 200
            self.answers += 1
            self.slowest_s = max(self.slowest_s, took)
            time.sleep(0.1)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


async def hold_lock(url: str, table: str, locked: threading.Event, release: threading.Event) -> None:
    """Lock the table against every read until `release` is set (a database that stalls)."""
    conn: Any = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        async with conn.transaction():
            await conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            locked.set()
            await asyncio.to_thread(release.wait)
    finally:
        await conn.close()


@pytest.mark.postgres
def test_a_stalled_database_gives_a_503_within_the_read_timeout_while_healthz_answers_at_once(
    broker: EmbeddedBroker, tmp_path: Path, postgres_db_url: str
) -> None:
    worker = outage_worker(broker, tmp_path / "worker", postgres_db_url)
    worker.start()
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(
        target=lambda: asyncio.run(hold_lock(postgres_db_url, "households", locked, release))
    )
    try:
        worker.wait_ready()
        holder.start()
        assert locked.wait(10)
        with Poller(worker) as poller:
            answer, took = timed(lambda: call(worker, "GET", f"/households/{HOUSEHOLD}", token=READ_TOKEN))
        assert_unavailable(answer, took, "database")
        assert took >= 2.5, f"answered in {took:.1f}s: did the read wait for the lock at all?"
        assert poller.answers >= 5, poller.answers
        assert poller.slowest_s < HEALTH_WITHIN_S, poller.slowest_s
        release.set()
        holder.join(10)
        assert call(worker, "GET", f"/households/{HOUSEHOLD}", token=READ_TOKEN).status == 404
    finally:
        release.set()
        worker.stop(timeout_s=20)
