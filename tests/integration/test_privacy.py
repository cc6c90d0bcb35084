"""The raw BSN never leaves ingest: after a whole run, no topic the pipeline writes, no table and no
file of the worker holds one of the BSNs the creditors sent."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from connectors.kafka.broker import EmbeddedBroker
from schemas.contract_v1 import bsn_is_valid
from synthetic.demo_feed import FeedEvent, history
from tests.integration.harness import collect
from tests.integration.runs import Run, run_demo_history
from tests.integration.team_client import DEMO_TOKENS, call

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def valid_bsns(count: int, seed: int = 9) -> list[str]:
    """Distinct nine-digit numbers that pass the elfproef."""
    rng = random.Random(seed)
    found: list[str] = []
    while len(found) < count:
        candidate = f"{rng.randrange(100_000_000, 999_999_999)}"
        if bsn_is_valid(candidate) and candidate not in found:
            found.append(candidate)
    return found


def history_with_bsns(bsns: list[str]) -> list[FeedEvent]:
    """The demo history with a BSN on every third event, plus one rejected event that carries a BSN."""
    events = history()
    out: list[FeedEvent] = []
    for i, event in enumerate(events):
        if i % 3 == 0:
            debtor = dict(event.payload["debtor"], bsn=bsns[i // 3 % (len(bsns) - 1)])
            event = replace(event, payload=dict(event.payload, debtor=debtor))
        out.append(event)
    bad = dict(
        events[0].payload,
        event_id="rejected-with-bsn",
        debtor={"name": "X. Rejected", "bsn": bsns[-1]},
        address={"postcode": "0000AA", "house_number": 1},  # not a Dutch postcode: dead-lettered
    )
    out.append(FeedEvent(events[0].occurred_at, events[0].source, bad))
    return sorted(out, key=lambda e: (e.occurred_at, e.payload["event_id"]))


@pytest.fixture(scope="module")
def bsns() -> list[str]:
    return valid_bsns(8)


@pytest.fixture(scope="module")
def run(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory, bsns: list[str]) -> Run:
    data_dir = Path(tmp_path_factory.mktemp("privacy"))
    done = run_demo_history(
        broker,
        data_dir,
        f"sqlite:///{data_dir / 'read.db'}",
        keep_running=True,
        events=history_with_bsns(bsns),
    )
    try:
        _work_a_case(done)
    finally:
        done.worker.stop()
    return done


def _work_a_case(run: Run) -> None:
    """Team activity too: a read (audited) and a contact attempt."""
    token = DEMO_TOKENS["buurtteam-centrum"]
    case = call(run.worker, "GET", "/api/teams/buurtteam-centrum/cases", token=token).body["cases"][0]
    assert call(run.worker, "GET", f"/api/cases/{case['case_id']}", token=token).status == 200
    attempt = {"soort": "Brief", "bereikt": False, "datum": datetime.now(UTC).date().isoformat()}
    assert (
        call(
            run.worker,
            "POST",
            f"/api/cases/{case['case_id']}/contact-attempts",
            token=token,
            json_body=attempt,
        ).status
        == 201
    )


async def _pipeline_partitions(run: Run) -> list[TopicPartition]:
    """Every topic the pipeline writes: its prefix (but not the creditors' inbound topics) and its changelogs."""
    consumer = AIOKafkaConsumer(bootstrap_servers=run.worker.broker.bootstrap)
    await consumer.start()
    try:
        prefix, inbound, app_id = run.worker.prefix, run.worker.names.inbound(""), run.worker.app_id
        topics = [
            t
            for t in await consumer.topics()
            if (t.startswith(prefix) and not t.startswith(inbound)) or t.startswith(f"{app_id}-")
        ]
        return [
            TopicPartition(t, p)
            for t in sorted(topics)
            for p in sorted(consumer.partitions_for_topic(t) or {0})
        ]
    finally:
        await consumer.stop()


def _found(blob: bytes, bsns: list[str]) -> list[str]:
    return [b for b in bsns if b.encode() in blob]


def test_the_creditors_did_send_bsns(run: Run, bsns: list[str]) -> None:
    records = asyncio.run(
        collect(run.worker.broker, run.worker.names.all_inbound, until=lambda r: False, timeout_s=3)
    )
    assert set(_found(b"".join(r.value for r in records), bsns)) == set(bsns)


def test_no_topic_the_pipeline_writes_holds_a_raw_bsn(run: Run, bsns: list[str]) -> None:
    parts = asyncio.run(_pipeline_partitions(run))
    topics = sorted({tp.topic for tp in parts})
    assert set(run.worker.names.all_dead_letters) & set(topics)
    assert run.worker.names.case_events in topics
    assert any(t.endswith("-changelog") for t in topics), topics
    records = asyncio.run(_collect_partitions(run, parts))
    assert any(r.topic in run.worker.names.all_dead_letters for r in records)
    for record in records:
        blob = (record.key or b"") + (record.value or b"") + b"".join(v for _, v in record.headers or ())
        assert not _found(blob, bsns), f"a raw BSN on topic {record.topic}"


async def _collect_partitions(run: Run, parts: list[TopicPartition]) -> list[Any]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=run.worker.broker.bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100
    )
    await consumer.start()
    records: list[Any] = []
    try:
        consumer.assign(parts)
        await consumer.seek_to_beginning()
        quiet = 0
        while quiet < 10:
            batches = await consumer.getmany(timeout_ms=200)
            got = [r for rs in batches.values() for r in rs]
            records.extend(got)
            quiet = 0 if got else quiet + 1
    finally:
        await consumer.stop()
    return records


def test_no_table_holds_a_raw_bsn(run: Run, bsns: list[str]) -> None:
    with sqlite3.connect(run.database_url.removeprefix("sqlite:///")) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {"signals", "cases", "audit_log", "contact_attempts"} <= set(tables)
        for table in tables:
            rows = db.execute(f'SELECT * FROM "{table}"').fetchall()
            assert not _found(repr(rows).encode(), bsns), f"a raw BSN in table {table}"


def test_no_file_of_the_worker_holds_a_raw_bsn(run: Run, bsns: list[str]) -> None:
    files = [p for p in run.worker.data_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".log" for p in files)
    assert any(p.name == "read.db" for p in files)
    for path in files:
        assert not _found(path.read_bytes(), bsns), f"a raw BSN in {path}"
