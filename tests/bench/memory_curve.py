"""RSS of one worker as the households it tracks grow: is memory flat after the first 100k?

Run: python -m tests.bench.memory_curve [--households 1000000] [--store rocksdb://]

Publishes one debt.opened per household (unique addresses, up to millions), starts one worker
(sink in its own process, so only the household stage's memory is measured), and scrapes its
/metrics every 15 s as Prometheus does, recording households tracked and the worker's RSS.
Prints the curve and the RSS added per household over the whole run and after the first 100k;
writes `bench-results/memory_curve.json`. Slow (one event per household through the whole
pipeline): not part of `make bench`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from connectors.kafka.broker import EmbeddedBroker
from tests.bench.run_bench import (
    SCRAPE_INTERVAL_S,
    SOURCES,
    T0,
    ProcStats,
    _event,
    _gauge,
    _wait_committed,
    started_stage_worker,
)

_LETTERS = [a + b for a in "ABCDEFGHJKLMNPRSTVWXZ" for b in "ABCDEFGHJKLMNPRSTVWXZ"]


def one_per_household(households: int, seed: int = 13) -> list[tuple[str, bytes]]:
    """One debt.opened per household, each at its own address (unique up to ~4 million)."""
    rng = random.Random(seed)
    items = []
    for h in range(households):
        source = SOURCES[h % len(SOURCES)]
        address = {"postcode": f"{1000 + h % 9000}{_LETTERS[h // 9000 % len(_LETTERS)]}", "house_number": 1}
        at = T0 + timedelta(seconds=h * 60 * 60 * 24 * 60 / max(households, 1))  # over 60 days, in order
        items.append((source, orjson.dumps(_event(source, h, 0, at, address, rng))))
    return items


async def _curve(broker: EmbeddedBroker, worker: Any, stats: ProcStats, topic: str) -> list[dict[str, float]]:
    points: list[dict[str, float]] = []
    started = time.monotonic()
    waiting = asyncio.create_task(_wait_committed(broker, worker.app_id, [topic], timeout_s=4 * 3600))
    while True:
        try:
            status, body = await asyncio.to_thread(worker.get, "/metrics")
        except TimeoutError:
            status, body = 0, ""  # a slow answer is a finding (printed), not the end of the curve
            print({"seconds": round(time.monotonic() - started, 1), "metrics": "timed out"}, flush=True)
        if status == 200:
            point = {
                "seconds": round(time.monotonic() - started, 1),
                "tracked": _gauge(body, "vroegsignaal_households_tracked"),
                "rss_mib": round(stats.rss_kib() / 1024, 1),
            }
            points.append(point)
            print(point, flush=True)
        if waiting.done():
            break
        await asyncio.wait([waiting], timeout=SCRAPE_INTERVAL_S)
    await waiting
    return points


def measure(households: int, store: str) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="vs-memcurve-"))
    items = one_per_household(households)
    with EmbeddedBroker(log_path=workdir / "broker.log") as broker:
        worker = started_stage_worker(broker, workdir, items, store, name="curve")
        names = worker.names
        print(f"published {len(items)} events", flush=True)
        assert worker.process is not None
        stats = ProcStats(worker.process.pid)
        try:
            worker.wait_ready(300)
            ready_mib = stats.rss_kib() / 1024
            points = asyncio.run(_curve(broker, worker, stats, names.events_by_household))
        finally:
            worker.stop()
    return {"store": store, "households": households, "rss_ready_mib": round(ready_mib, 1), "points": points}


def summary(result: dict[str, Any]) -> dict[str, float]:
    """KiB of RSS per tracked household: over the whole run, and for those after the first 100k."""
    points = [p for p in result["points"] if p["tracked"] > 0]
    last = points[-1]
    at_100k = min(points, key=lambda p: abs(p["tracked"] - 100_000))
    per_household = (last["rss_mib"] - result["rss_ready_mib"]) * 1024 / last["tracked"]
    beyond = last["tracked"] - at_100k["tracked"]
    after_100k = (last["rss_mib"] - at_100k["rss_mib"]) * 1024 / beyond if beyond > 0 else float("nan")
    return {
        "tracked": last["tracked"],
        "kib_per_household": round(per_household, 2),
        "kib_per_household_after_100k": round(after_100k, 2),
        "rss_at_100k_mib": at_100k["rss_mib"],
        "rss_last_mib": last["rss_mib"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--store", default="rocksdb://")
    parser.add_argument("--out", type=Path, default=Path("bench-results/memory_curve.json"))
    args = parser.parse_args()
    # Stopped early (a long run): SIGTERM unwinds like Ctrl-C, so the worker and the broker stop too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result = measure(args.households, args.store)
    result["summary"] = summary(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["summary"]))


if __name__ == "__main__":
    main()
