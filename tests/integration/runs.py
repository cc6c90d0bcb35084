"""A worker processing the demo history in event-time order; optionally killed and restarted."""

from __future__ import annotations

import asyncio
import signal
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from connectors.kafka.broker import EmbeddedBroker
from connectors.readmodel import ReadModel
from connectors.readmodel.tables import Base
from streams.worker.outputs import OUTPUT_MESSAGE
from synthetic.demo_feed import FeedEvent, days, history
from tests.integration.harness import OrderedFeeder, Worker, collect, create_topics

TAIL_DAYS = 20


@dataclass
class Run:
    worker: Worker
    outputs: list[Any]
    database_url: str


def run_demo_history(
    broker: EmbeddedBroker,
    data_dir: Path,
    database_url: str,
    *,
    kill_after_days: tuple[int, ...] = (),
    keep_running: bool = False,
    events: list[FeedEvent] | None = None,
    extra_env: dict[str, str] | None = None,
) -> Run:
    """Start a worker, feed the history day by day with ticks, kill -9 + restart after the given days.

    With keep_running the caller stops `run.worker` (to query its web server first); `events`
    replaces the demo history (a variant of it: the last deadline must stay the same)."""
    token = uuid.uuid4().hex[:8]
    worker = Worker(
        broker=broker,
        prefix=f"r{token}.",
        data_dir=data_dir,
        database_url=database_url,
        app_id=f"r{token}",
        extra_env=extra_env or {},
    )
    asyncio.run(create_topics(broker, worker.names))
    worker.start()
    ok = False
    try:
        worker.wait_ready()
        asyncio.run(_feed(broker, worker, kill_after_days, history() if events is None else events))
        records = asyncio.run(collect(broker, worker.names.all_outputs, until=_has_last_gate, timeout_s=60))
        # Overviews and resolutions of the last tick may still be on their way to the sink.
        asyncio.run(wait_for_sink(database_url, expected=_expected_ids(records)))
        ok = True
        return Run(worker, [OUTPUT_MESSAGE.validate_json(r.value) for r in records], database_url)
    finally:
        if not (ok and keep_running):
            worker.stop()


async def _feed(
    broker: EmbeddedBroker, worker: Worker, kill_after_days: tuple[int, ...], events: list[FeedEvent]
) -> None:
    async with OrderedFeeder(broker, worker.names) as feeder:
        per_day = dict(days(events))
        first = day = min(per_day)
        last = max(per_day) + timedelta(days=TAIL_DAYS)
        while day <= last:
            for event in per_day.get(day, []):
                await feeder.event(event.source, orjson.dumps(event.payload))
            await feeder.tick(datetime.combine(day, time(23, 59), tzinfo=UTC))
            if (day - first).days in kill_after_days:
                worker.stop(signal.SIGKILL)
                worker.start()
                worker.wait_ready()
                await feeder.resync()
            day += timedelta(days=1)


def _has_last_gate(records: list[Any]) -> bool:
    # The last deadline of the history: the water debt charged too early gets its gate on 2026-09-22.
    return any(b'"costs_permitted"' in r.value and b"W-3301" in r.value for r in records)


def _expected_ids(records: list[Any]) -> int:
    return len({orjson.loads(r.value).get("signal_id") for r in records if b'"type":"signal"' in r.value})


async def wait_for_sink(database_url: str, *, expected: int, timeout_s: float = 30) -> None:
    """Until the read model holds `expected` signals (the sink writes asynchronously)."""
    read_model = await ReadModel.open(database_url)
    try:
        for _ in range(int(timeout_s / 0.2)):
            rows = await table_rows(read_model)
            if len(rows.get("signals", [])) >= expected:
                await asyncio.sleep(2)  # and the rest of its last batches
                return
            await asyncio.sleep(0.2)
    finally:
        await read_model.close()


async def table_rows(read_model: ReadModel) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read-model table, normalised (UTC ISO times, no updated_at), sorted."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    async with read_model.engine.connect() as conn:
        for name, table in Base.metadata.tables.items():
            columns = [c for c in table.columns if c.name != "updated_at"]
            rows = (await conn.execute(select(*columns))).all()
            result[name] = sorted((tuple(_norm(v) for v in row) for row in rows), key=repr)
    return result


def _norm(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, (dict, list)):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return value


def read_all(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """table_rows for a URL, synchronously."""

    async def read() -> dict[str, list[tuple[Any, ...]]]:
        read_model = await ReadModel.open(database_url)
        try:
            return await table_rows(read_model)
        finally:
            await read_model.close()

    return asyncio.run(read())
