"""The household stage without Kafka: intake, decode and fold of 20k events over 5k households.

Run: python -m tests.bench.processor_bench  (prints events/s per step; `--profile` for cProfile;
`--repeat N`: the best of N runs, as the machine's other load only ever slows a run down).
"""

from __future__ import annotations

import cProfile
import pstats
import random
import sys
import time
from datetime import UTC, datetime, timedelta

import orjson

from connectors.kafka.partitions import partition_of_household
from connectors.routing_files import default_routing
from schemas.internal_v1 import HOUSEHOLD_MESSAGE, AcceptedEvent
from signals.intake import IntakeLimits, Origin, accept
from signals.policy import Policy
from streams.worker.household import HouseholdProcessor

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def raw_events(count: int = 20_000, households: int = 5_000, seed: int = 1) -> list[bytes]:
    """Creditor events of four kinds over 90 days, in event-time order."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        h = rng.randrange(households)
        source = rng.choice(["housing", "energy", "water", "health"])
        at = T0 + timedelta(days=i / count * 90)
        kind = rng.choice(["debt.opened", "debt.updated", "payment.received", "reminder.sent"])
        event = {
            "event_id": f"e{i}",
            "type": kind,
            "source": source,
            "creditor_id": "c" + source,
            "creditor_name": "C",
            "debt_ref": f"d{h}",
            "occurred_at": at.isoformat(),
            "debtor": {"name": "X", "bsn": "111222333"},
            "address": {"postcode": f"{1000 + h % 9000}AB", "house_number": h % 200 + 1},
            "amount_cents": rng.randrange(1000, 300000),
        }
        if kind in ("debt.opened", "debt.updated"):
            event["due_date"] = (at - timedelta(days=rng.randrange(1, 90))).date().isoformat()
            if source in ("housing", "health"):
                event["monthly_amount_cents"] = 50000
        if kind == "payment.received":
            event["paid_cents"] = 1000
        if kind == "reminder.sent":
            event |= {"reminder_kind": "free", "term_days": 14}
        out.append(orjson.dumps(event))
    return out


def measure(states: dict[str, bytes] | None = None) -> dict[str, float]:
    """Events/s of each step of the household stage, in this process, without Kafka.

    `states`: the table to fold into (the caller may look at it afterwards); a new one by default.
    """
    raws = raw_events()
    rates: dict[str, float] = {}
    started = time.perf_counter()
    accepted = []
    for raw in raws:
        origin = Origin(
            source=orjson.loads(raw)["source"], topic="t", partition=0, offset=0, key=None, received_at=T0
        )
        intake = accept(raw, origin=origin, stream_time=None, limits=IntakeLimits())
        if isinstance(intake, AcceptedEvent):
            accepted.append(intake.model_dump_json().encode())
    rates["intake"] = len(raws) / (time.perf_counter() - started)
    started = time.perf_counter()
    messages = [HOUSEHOLD_MESSAGE.validate_json(r) for r in accepted]
    rates["decode"] = len(accepted) / (time.perf_counter() - started)
    states = {} if states is None else states
    processor = HouseholdProcessor(
        states=states,
        policy=Policy.default(),
        route=default_routing().route,
        partition_of=lambda k: partition_of_household(k, 4),
    )
    started, cpu_started, stream_time, outputs = time.perf_counter(), time.process_time(), None, 0
    for i in range(0, len(messages), 2000):
        result = processor.process(0, messages[i : i + 2000], stream_time)
        stream_time = result.stream_time
        states.update(result.states)
        outputs += len(result.outputs)
    rates["process"] = len(messages) / (time.perf_counter() - started)
    # Per CPU second of this process: what the stage costs, whatever else the machine runs meanwhile.
    rates["process_cpu"] = len(messages) / (time.process_time() - cpu_started)
    rates["outputs_per_event"] = outputs / len(messages)
    return rates


def main() -> None:
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 1
    runs = [measure() for _ in range(repeat)]
    for step in runs[0]:
        rate = max(run[step] for run in runs)
        print(f"{step + ':':18} {rate:10.2f}" + ("" if step == "outputs_per_event" else " events/s"))


if __name__ == "__main__":
    if "--profile" in sys.argv:
        cProfile.run("main()", "/tmp/processor_bench.prof")
        pstats.Stats("/tmp/processor_bench.prof").sort_stats("tottime").print_stats(30)
    else:
        main()
