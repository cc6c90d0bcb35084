"""The read-model sink's SQL alone: the bench's outputs written to SQLite in sink-sized batches.

Run: python -m tests.bench.sink_bench [--households N] [--profile]  (prints outputs/s and events/s).
The outputs are those of the bench's input (tests/bench/run_bench.py `history`) folded by the
household stage without Kafka; each batch is decoded as the sink does and written with
`ReadModel.write` in one transaction (the teams' cases are left out: their own writer).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from connectors.kafka.partitions import partition_of_household
from connectors.readmodel import ReadModel
from connectors.routing_files import default_routing
from schemas.internal_v1 import AcceptedEvent
from signals.intake import IntakeLimits, Origin, accept
from signals.policy import Policy
from streams.worker.household import HouseholdProcessor
from streams.worker.outputs import OUTPUT_MESSAGE, encode
from tests.bench.run_bench import history

PARTITIONS = 4


def outputs_of(households: int) -> tuple[int, list[bytes]]:
    """(events, encoded outputs) of the bench input, folded per partition in batches of 2,000."""
    routing, policy = default_routing(), Policy.default()
    per_partition: dict[int, list[AcceptedEvent]] = {}
    events = history(households, 3)
    for n, (source, raw) in enumerate(events):
        origin = Origin(
            source=source, topic="t", partition=0, offset=n, key=None, received_at=datetime.now(UTC)
        )
        accepted = accept(raw, origin=origin, stream_time=None, limits=IntakeLimits())
        assert isinstance(accepted, AcceptedEvent)
        per_partition.setdefault(partition_of_household(accepted.household_key, PARTITIONS), []).append(
            accepted
        )
    states: dict[str, bytes] = {}
    processor = HouseholdProcessor(
        states=states,
        policy=policy,
        route=routing.route,
        partition_of=lambda k: partition_of_household(k, PARTITIONS),
    )
    out: list[bytes] = []
    for partition, messages in per_partition.items():
        stream_time = None
        for start in range(0, len(messages), 2000):
            result = processor.process(partition, messages[start : start + 2000], stream_time)
            stream_time = result.stream_time
            states.update(result.states)
            out += [encode(o) for o in result.outputs]
    return len(events), out


async def write_all(outputs: list[bytes], database_url: str, batch: int = 2000) -> tuple[float, float]:
    """Seconds and CPU seconds (all threads) to decode and write every output, `batch` records per transaction."""
    read_model = await ReadModel.open(database_url)
    try:
        await read_model.migrate()
        started, cpu0 = time.perf_counter(), time.process_time()
        for start in range(0, len(outputs), batch):
            await read_model.write([OUTPUT_MESSAGE.validate_json(r) for r in outputs[start : start + batch]])
        return time.perf_counter() - started, time.process_time() - cpu0
    finally:
        await read_model.close()


def measure(households: int = 5_000, database_url: str | None = None) -> dict[str, float]:
    events, outputs = outputs_of(households)
    url = database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='vs-sink-bench-')) / 'rm.db'}"
    seconds, cpu_s = asyncio.run(write_all(outputs, url))
    return {
        "events": events,
        "outputs": len(outputs),
        "outputs_per_s": round(len(outputs) / seconds, 1),
        "events_per_s": round(events / seconds, 1),
        # CPU per event is what a busy machine does not distort (the others wait for a core).
        "cpu_us_per_event": round(cpu_s / events * 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=5_000)
    parser.add_argument("--database-url")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if not args.profile:
        print(measure(args.households, args.database_url))
        return
    events, outputs = outputs_of(args.households)
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='vs-sink-bench-')) / 'rm.db'}"
    profile = cProfile.Profile()
    profile.enable()
    seconds, _ = asyncio.run(write_all(outputs, url))
    profile.disable()
    print(f"{len(outputs)} outputs of {events} events in {seconds:.2f} s")
    pstats.Stats(profile).sort_stats("tottime").print_stats(35)


if __name__ == "__main__":
    main()
