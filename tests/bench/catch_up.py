"""Does a worker answer /healthz while it catches up on deadlines? One worker, one big tick, polled.

One worker (its sink in a process of its own) folds one debt.opened per household; then one
clock tick far ahead goes into every partition, so every pending deadline fires in one batch
per partition, while /healthz is polled every 100 ms as a liveness probe would (with a 60-s
client timeout, so a stall is measured, not cut off). Prints the catch-up time and the
/healthz answer times during it (README "Performance", the fold off the event loop).

Run: python -m tests.bench.catch_up [--households 30000] [--store rocksdb://] [--days-ahead 150]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from connectors.kafka.broker import EmbeddedBroker
from schemas.internal_v1 import ClockTick
from streams.worker.ingest import CLOCK_KEY
from tests.bench.memory_curve import one_per_household
from tests.bench.run_bench import T0, _gauge, _wait_committed, started_stage_worker
from tests.integration.harness import PARTITIONS

POLL_EVERY_S = 0.1


def _poll(url: str, stop: threading.Event, samples: list[tuple[float, bool]]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=60) as answer:
                answer.read()
            ok = True
        except OSError:
            ok = False
        samples.append((time.perf_counter() - started, ok))
        time.sleep(POLL_EVERY_S)


async def _tick_every_partition(broker: EmbeddedBroker, topic: str, tick: ClockTick) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    try:
        value = tick.model_dump_json().encode()
        for partition in range(PARTITIONS):
            await producer.send_and_wait(topic, key=CLOCK_KEY, value=value, partition=partition)
    finally:
        await producer.stop()


def measure(households: int, store: str, days_ahead: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="vs-catch-up-"))
    with EmbeddedBroker(log_path=workdir / "broker.log") as broker:
        worker = started_stage_worker(broker, workdir, one_per_household(households), store, name="catch")
        try:
            worker.wait_ready(300)
            internal = [worker.names.events_by_household]
            asyncio.run(_wait_committed(broker, worker.app_id, internal, 3600))
            _, body = worker.get("/metrics")
            pending = _gauge(body, "vroegsignaal_pending_deadlines")
            samples: list[tuple[float, bool]] = []
            stop = threading.Event()
            poller = threading.Thread(target=_poll, args=(worker.url("/healthz"), stop, samples))
            poller.start()
            time.sleep(1)  # a few idle answers first, left out below
            idle = len(samples)
            started = time.monotonic()
            tick = ClockTick(at=T0 + timedelta(days=days_ahead))
            asyncio.run(_tick_every_partition(broker, worker.names.clock, tick))
            asyncio.run(_wait_committed(broker, worker.app_id, [worker.names.clock, *internal], 3600))
            catch_up_s = time.monotonic() - started
            stop.set()
            poller.join()
            _, body = worker.get("/metrics")
            answers = [seconds for seconds, _ in samples[idle:]]
            return {
                "households": households,
                "store": store,
                "deadlines_pending_before": pending,
                "deadlines_pending_after": _gauge(body, "vroegsignaal_pending_deadlines"),
                "catch_up_s": round(catch_up_s, 2),
                "polls": len(answers),
                "failed": sum(not ok for _, ok in samples[idle:]),
                "healthz_median_s": round(statistics.median(answers), 4),
                "healthz_max_s": round(max(answers), 3),
                "over_1_s": sum(seconds > 1 for seconds in answers),
            }
        finally:
            worker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=30_000)
    parser.add_argument("--store", default="memory://")
    parser.add_argument("--days-ahead", type=int, default=150)
    args = parser.parse_args()
    print(json.dumps(measure(args.households, args.store, args.days_ahead)), flush=True)


if __name__ == "__main__":
    main()
