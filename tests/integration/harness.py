"""Real worker processes and plain Kafka clients for integration tests."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from connectors.kafka.admin import ensure_topics
from connectors.kafka.broker import EmbeddedBroker, die_with_parent, free_port
from connectors.team_access import sha256_hex
from streams.worker.topics import TopicNames

PARTITIONS = 4


@dataclass
class Worker:
    """`vroegsignaal worker` as a child process with its own app id, prefix and database."""

    broker: EmbeddedBroker
    prefix: str
    data_dir: Path
    database_url: str
    app_id: str
    extra_env: dict[str, str] = field(default_factory=dict)
    web_port: int = field(default_factory=free_port)
    # ("sink",) runs `vroegsignaal sink`, whose /metrics server answers every path (ready once it does)
    command: tuple[str, ...] = ("worker", "-l", "info")
    process: subprocess.Popen[bytes] | None = None

    @property
    def names(self) -> TopicNames:
        return TopicNames(self.prefix)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "VROEGSIGNAAL_BROKER_URL": self.broker.url,
            "VROEGSIGNAAL_TOPIC_PREFIX": self.prefix,
            "VROEGSIGNAAL_APP_ID": self.app_id,
            "VROEGSIGNAAL_DATA_DIR": str(self.data_dir),
            "VROEGSIGNAAL_DATABASE_URL": self.database_url,
            "VROEGSIGNAAL_READ_TOKEN": "test-read-token",
            # The sample teams and routing (tokens in the README) and a loopback public origin.
            "VROEGSIGNAAL_DEMO": "true",
            "VROEGSIGNAAL_SESSION_KEY": "test-session-key-of-at-least-32-characters",
            # Tests log the same demo member in many times from one address.
            "VROEGSIGNAAL_LOGIN_MAX_ATTEMPTS": "1000",
            "VROEGSIGNAAL_WEB_PORT": str(self.web_port),
            "VROEGSIGNAAL_PARTITIONS": str(PARTITIONS),
            "VROEGSIGNAAL_CLOCK": "off",
            "VROEGSIGNAAL_SESSION_TIMEOUT_S": "6",
            **self.extra_env,
        }

    def start(self) -> Worker:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.data_dir / f"worker-{self.web_port}.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", *self.command],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,  # never outlives an aborted test run
        )
        return self

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.web_port}{path}"

    def get(self, path: str, token: str | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(self.url(path))
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, _body(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, _body(exc.read())

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None, self.log_tail()
            assert self.process.poll() is None, self.log_tail()
            try:
                status, _ = self.get("/readyz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"worker not ready within {timeout_s}s\n{self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 40) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(10)

    def log_tail(self, lines: int = 40) -> str:
        logs = sorted(self.data_dir.glob("worker-*.log"))
        return "\n".join(
            line for p in logs[-1:] for line in p.read_text(errors="replace").splitlines()[-lines:]
        )


def isolated_worker(
    broker: EmbeddedBroker,
    directory: Path,
    name: str,
    *,
    creditor_tokens: Mapping[str, tuple[str, str]] | None = None,
) -> Worker:
    """A worker (not started yet) with a prefix and app id of its own and a SQLite read model in `directory`.

    `creditor_tokens`: creditor label -> (source, token) for HTTP ingest; the worker gets the hashes.
    """
    unique = f"{name}-{uuid.uuid4().hex[:10]}"
    hashes = {
        label: {"source": source, "token_sha256": sha256_hex(token)}
        for label, (source, token) in (creditor_tokens or {}).items()
    }
    return Worker(
        broker=broker,
        prefix=f"{unique}.",
        data_dir=directory / "worker",
        database_url=f"sqlite:///{directory / 'readmodel.db'}",
        app_id=unique,
        extra_env={"VROEGSIGNAAL_CREDITOR_TOKENS": json.dumps(hashes)} if hashes else {},
    )


@contextmanager
def running(worker: Worker, *, topics_first: bool = False) -> Iterator[Worker]:
    """The worker started and ready; stopped on leaving. `topics_first`: create its topics before it starts."""
    if topics_first:
        asyncio.run(create_topics(worker.broker, worker.names))
    worker.start()
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


def _body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


async def create_topics(broker: EmbeddedBroker, names: TopicNames) -> None:
    await ensure_topics(broker.bootstrap, names.everything, partitions=PARTITIONS)


async def publish(broker: EmbeddedBroker, items: Iterable[tuple[str, bytes | None, bytes]]) -> None:
    """Send (topic, key, value) in order and wait until the broker has them all."""
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=5, max_request_size=4 * 2**20)
    await producer.start()
    try:
        futures = [await producer.send(topic, key=key, value=value) for topic, key, value in items]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def collect(
    broker: EmbeddedBroker,
    topics: Iterable[str],
    until: Callable[[list[Any]], bool],
    timeout_s: float = 60,
) -> list[Any]:
    """Read the topics from the beginning until `until(records)` holds or the timeout passes."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=broker.bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100
    )
    await consumer.start()
    records: list[Any] = []
    try:
        consumer.assign([TopicPartition(t, p) for t in topics for p in range(PARTITIONS)])
        await consumer.seek_to_beginning()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not until(records):
            batches = await consumer.getmany(timeout_ms=200)
            records.extend(r for rs in batches.values() for r in rs)
    finally:
        await consumer.stop()
    return records


class OrderedFeeder:
    """Publishes creditor events and clock ticks one at a time, each only after the previous
    one came out of ingest, so the internal topic holds them in exactly this order (a replay)."""

    def __init__(self, broker: EmbeddedBroker, names: TopicNames) -> None:
        self.broker, self.names = broker, names
        self.producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=0)
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=broker.bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50
        )
        self.seen = 0

    async def __aenter__(self) -> OrderedFeeder:
        await self.producer.start()
        await self.consumer.start()
        topics = [self.names.events_by_household, *self.names.all_dead_letters]
        self.consumer.assign([TopicPartition(t, p) for t in topics for p in range(PARTITIONS)])
        await self.consumer.seek_to_beginning()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()
        await self.producer.stop()

    async def event(self, source: str, value: bytes, *, expect_out: int = 1, timeout_s: float = 30) -> None:
        """One inbound message; waits for `expect_out` records on internal/dead-letter (0 for a duplicate)."""
        await self.producer.send_and_wait(self.names.inbound(source), value=value)
        await self._wait(expect_out, timeout_s)

    async def tick(self, at: Any, timeout_s: float = 30) -> None:
        """A clock tick into every partition; waits until ingest forwarded all of them."""
        from schemas.internal_v1 import ClockTick

        value = ClockTick(at=at).model_dump_json().encode()
        for partition in range(PARTITIONS):
            await self.producer.send_and_wait(
                self.names.clock, key=b"__clock__", value=value, partition=partition
            )
        await self._wait(PARTITIONS, timeout_s)

    async def burst(self, messages: Sequence[tuple[str, bytes]], timeout_s: float = 60) -> None:
        """Many (source, value) messages at once, as load arrives; waits until ingest wrote each one.

        Their order through ingest is not fixed, so a burst must not depend on it."""
        await self.send_all(messages)
        await self.wait_for(len(messages), timeout_s)

    async def send_all(self, messages: Sequence[tuple[str, bytes]]) -> None:
        """Publish without waiting for ingest (the caller waits with `wait_for`)."""
        futures = [await self.producer.send(self.names.inbound(s), value=v) for s, v in messages]
        await asyncio.gather(*futures)

    async def wait_for(self, more: int, timeout_s: float = 60) -> None:
        """Until ingest wrote `more` records beyond those counted so far."""
        await self._wait(more, timeout_s)

    async def resync(self, quiet_s: float = 2.0) -> None:
        """After a restart the worker re-reads uncommitted input: count until the topics are quiet."""
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < quiet_s:
            batches = await self.consumer.getmany(timeout_ms=100)
            got = sum(len(rs) for rs in batches.values())
            if got:
                self.seen += got
                quiet_since = time.monotonic()

    async def _wait(self, more: int, timeout_s: float) -> None:
        target = self.seen + more
        deadline = time.monotonic() + timeout_s
        while self.seen < target:
            if time.monotonic() > deadline:
                raise AssertionError(f"ingest produced {self.seen} of {target} records within {timeout_s}s")
            batches = await self.consumer.getmany(timeout_ms=100)
            self.seen += sum(len(rs) for rs in batches.values())
        if more == 0:
            # A dropped duplicate produces nothing; give ingest a moment to prove it.
            await asyncio.sleep(0.3)
            batches = await self.consumer.getmany(timeout_ms=100)
            self.seen += sum(len(rs) for rs in batches.values())


SOURCES = ("housing", "energy", "water", "health", "cjib")


def assert_conservation(worker: Worker, published: int, timeout_s: float = 30) -> None:
    """consumed = accepted + duplicates + dead-lettered, per source (waits for the household stage)."""
    deadline = time.monotonic() + timeout_s
    while True:
        counts = metric_sums(worker.get("/metrics")[1])
        per_source = {
            source: (
                counts.get(("vroegsignaal_events_consumed_total", source), 0),
                counts.get(("vroegsignaal_events_accepted_total", source), 0)
                + counts.get(("vroegsignaal_events_duplicate_total", source), 0)
                + counts.get(("vroegsignaal_events_dead_lettered_total", source), 0),
            )
            for source in SOURCES
        }
        balanced = all(c == rest for c, rest in per_source.values())
        if balanced and sum(c for c, _ in per_source.values()) == published:
            return
        assert time.monotonic() < deadline, per_source
        time.sleep(0.5)


def metric_sums(text: str) -> dict[tuple[str, str], float]:
    """vroegsignaal_events_* counters summed per (metric, source) from a /metrics page."""
    sums: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        if line.startswith("vroegsignaal_events_") and "{" in line:
            name, rest = line.split("{", 1)
            source = rest.split('source="', 1)[1].split('"', 1)[0]
            sums[(name, source)] = sums.get((name, source), 0) + float(line.rsplit(" ", 1)[1])
    return sums
