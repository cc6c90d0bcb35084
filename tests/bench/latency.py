"""Event-in -> effect-out latency at a constant 500 events/s through a live worker.

Each event opens a debt already overdue, so the household stage issues the free reminder at
once (signals/reminders.py); the latency is from publishing the event to reading that reminder
on its topic. (It read signals until a rule change made a signal wait for the reminder's term:
no event signalled at once any more and the step timed out.)
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from connectors.kafka.broker import EmbeddedBroker
from tests.integration.harness import PARTITIONS, Worker, create_topics

RATE_PER_S = 500


def _signalling_event(n: int, at: datetime) -> bytes:
    """Rent arrears of two months, 45 days overdue: each one has its free reminder issued at once."""
    return orjson.dumps(
        {
            "event_id": f"lat-{n}",
            "type": "debt.opened",
            "source": "housing",
            "creditor_id": "lat",
            "creditor_name": "Latency Woningen",
            "debt_ref": f"L{n}",
            "occurred_at": at.isoformat(),
            "debtor": {"name": "Latency"},
            "address": {"postcode": f"{2000 + n // 90 % 7000}EF", "house_number": n % 90 + 1},
            "amount_cents": 120_000,
            "due_date": (at - timedelta(days=45)).date().isoformat(),
            "monthly_amount_cents": 60_000,
        }
    )


def measure_latency(broker: EmbeddedBroker, workdir: Path, *, seconds: float) -> dict[str, Any]:
    """p50/p99 seconds from publishing an event to reading its reminder, at RATE_PER_S."""
    token = uuid.uuid4().hex[:8]
    data_dir = workdir / f"lat-{token}"
    worker = Worker(
        broker=broker,
        prefix=f"l{token}.",
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'read.db'}",
        app_id=f"l{token}",
        extra_env={"VROEGSIGNAAL_LOG_LEVEL": "warning"},
    )
    asyncio.run(create_topics(broker, worker.names))
    worker.start()
    try:
        worker.wait_ready(120)
        latencies = asyncio.run(_run(broker, worker, seconds))
    finally:
        worker.stop()
    latencies.sort()
    return {
        "rate_per_s": RATE_PER_S,
        "reminders": len(latencies),
        "p50_s": round(statistics.median(latencies), 3),
        "p99_s": round(latencies[int(len(latencies) * 0.99) - 1], 3),
    }


async def _run(broker: EmbeddedBroker, worker: Worker, seconds: float) -> list[float]:
    sent: dict[str, float] = {}
    received: dict[str, float] = {}
    total = int(RATE_PER_S * seconds)
    reader = asyncio.create_task(_read_reminders(broker, worker, received, total))
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=0)
    await producer.start()
    try:
        start, at = time.perf_counter(), datetime(2026, 6, 1, tzinfo=UTC)
        for n in range(total):
            # Constant rate: sleep until this event's slot, never burst to catch up.
            delay = start + n / RATE_PER_S - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            raw = _signalling_event(n, at + timedelta(seconds=n))
            sent[orjson.loads(raw)["debt_ref"]] = time.perf_counter()
            await producer.send(worker.names.inbound("housing"), value=raw)
        await asyncio.wait_for(reader, timeout=120)
    finally:
        await producer.stop()
    return [received[ref] - sent[ref] for ref in received if ref in sent]


async def _read_reminders(
    broker: EmbeddedBroker, worker: Worker, received: dict[str, float], total: int
) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=broker.bootstrap, enable_auto_commit=False, fetch_max_wait_ms=10
    )
    await consumer.start()
    try:
        topic = f"{worker.names.prefix}reminders.housing"  # a creditor's reminders are on its own topic
        consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        await consumer.seek_to_beginning()
        while len(received) < total:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                now = time.perf_counter()
                for record in records:
                    received.setdefault(orjson.loads(record.value)["debt"]["debt_ref"], now)
    finally:
        await consumer.stop()
