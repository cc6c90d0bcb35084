"""The read-model sink as a process of its own (`vroegsignaal sink`, workers with sink_in_worker=false)."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import uuid
from pathlib import Path

import orjson

from connectors.kafka.broker import EmbeddedBroker, free_port
from synthetic.demo_feed import history
from tests.integration.harness import Worker, collect, create_topics
from tests.integration.runs import _feed, _has_last_gate, read_all, wait_for_sink
from tests.integration.test_reliability import metric, wait_until


def test_a_sink_process_started_late_and_killed_once_writes_every_row(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    token = uuid.uuid4().hex[:8]
    url = f"sqlite:///{tmp_path / 'read.db'}"
    worker = Worker(
        broker=broker,
        prefix=f"s{token}.",
        data_dir=tmp_path / "worker",
        database_url=url,
        app_id=f"s{token}",
        extra_env={"VROEGSIGNAAL_SINK_IN_WORKER": "false"},
    )
    sink = dataclasses.replace(worker, data_dir=tmp_path / "sink", command=("sink",), web_port=free_port())
    asyncio.run(create_topics(broker, worker.names))
    worker.start()
    try:
        worker.wait_ready()
        asyncio.run(_feed(broker, worker, (), history()))
        records = asyncio.run(collect(broker, worker.names.all_outputs, until=_has_last_gate, timeout_s=60))
        # The worker wrote nothing itself: the outputs wait on their topics for the sink.
        assert read_all(url).get("signals", []) == []
        assert metric(worker, "vroegsignaal_sink_rows_written_total") == {}

        sink.start()
        sink.wait_ready()
        wait_until(lambda: sum(metric(sink, "vroegsignaal_sink_rows_written_total").values()) > 0, 60, "rows")
        sink.stop(signal.SIGKILL)
        sink.start()  # re-reads whatever its group had not committed
        signal_ids = {orjson.loads(r.value)["signal_id"] for r in records if b'"type":"signal"' in r.value}
        asyncio.run(wait_for_sink(url, expected=len(signal_ids), timeout_s=60))
    finally:
        sink.stop()
        worker.stop()
    rows = read_all(url)
    ids = lambda kind: {orjson.loads(r.value).get(kind) for r in records} - {None}  # noqa: E731
    assert {row[0] for row in rows["signals"]} == ids("signal_id")
    assert len(rows["reminders"]) == len(ids("reminder_id"))
    assert len(rows["cost_gate_decisions"]) == len(ids("decision_id"))
    households = {orjson.loads(r.value)["household_key"] for r in records}
    assert {row[0] for row in rows["households"]} == households
