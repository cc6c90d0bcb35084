"""`make bench`: throughput, latency and memory of the pipeline on the embedded broker, in one run.

Never a timed test: figures are printed as a table and written as JSON, with the
pipeline quoted as a ratio against a baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from connectors.kafka.broker import EmbeddedBroker
from schemas.contract_v1 import CREDITOR_EVENT
from tests.integration.harness import PARTITIONS, Worker, create_topics

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SOURCES = ("housing", "energy", "water", "health", "cjib")
# (store, workers, sink in a process of its own)
VARIANTS = (
    ("memory://", 1, False),
    ("memory://", 1, True),
    ("memory://", 2, True),
    ("rocksdb://", 1, False),
)


def history(households: int, events_per_household: int, seed: int = 7) -> list[tuple[str, bytes]]:
    """(source, raw) creditor events, a few per household over 90 days, in event-time order."""
    rng = random.Random(seed)
    events: list[tuple[datetime, str, bytes]] = []
    for h in range(households):
        source = SOURCES[h % len(SOURCES)]
        address = {
            "postcode": f"{1000 + h // 100 % 9000}{'AB' if h % 2 else 'CD'}",
            "house_number": h % 100 + 1,
        }
        start = T0 + timedelta(days=rng.uniform(0, 60))
        for n in range(events_per_household):
            at = start + timedelta(days=n * rng.uniform(1, 10))
            events.append((at, source, orjson.dumps(_event(source, h, n, at, address, rng))))
    events.sort(key=lambda e: e[0])
    return [(source, raw) for _, source, raw in events]


def _event(
    source: str, h: int, n: int, at: datetime, address: dict[str, Any], rng: random.Random
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": f"b{h}-{n}",
        "source": source,
        "creditor_id": f"c-{source}",
        "creditor_name": f"Creditor {source}",
        "debt_ref": f"d{h}",
        "occurred_at": at.isoformat(),
        "debtor": {"name": "Bench Household"},
        "address": address,
        "amount_cents": rng.randrange(5_000, 300_000),
    }
    if n == 0 or rng.random() < 0.4:
        base |= {
            "type": "debt.opened" if n == 0 else "debt.updated",
            "due_date": (at - timedelta(days=rng.randrange(5, 70))).date().isoformat(),
        }
        if source in ("housing", "health"):
            base["monthly_amount_cents"] = 60_000
        if source == "cjib" and n == 0:
            base["fine_kind"] = "wahv"
        return base
    if rng.random() < 0.5:
        return base | {"type": "payment.received", "paid_cents": 1_000}
    return base | {"type": "reminder.sent", "reminder_kind": "free", "term_days": 14}


async def publish_all(broker: EmbeddedBroker, items: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    try:
        futures = [await producer.send(topic, value=value) for topic, value in items]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def publish_with_source(broker: EmbeddedBroker, topic: str, items: list[tuple[str, bytes]]) -> None:
    """The input on one topic, each record's source in a header (the worker has a topic per source)."""
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value=raw, headers=[("source", source.encode())])
            for source, raw in items
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def quix_anchor(broker: EmbeddedBroker, items: list[tuple[str, bytes]]) -> dict[str, Any]:
    """The anchor row: the same fold in a Quix Streams application (tests/bench/quix_anchor.py)."""
    from tests.bench.quix_anchor import run_anchor

    topic = f"bench-anchor-{uuid.uuid4().hex[:6]}"
    asyncio.run(_create_topic(broker, topic))
    asyncio.run(publish_with_source(broker, topic, items))
    return run_anchor(broker.bootstrap, topic, len(items))


async def _create_topic(broker: EmbeddedBroker, topic: str) -> None:
    from aiokafka.admin import NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()


async def baseline(broker: EmbeddedBroker, items: list[tuple[str, bytes]]) -> float:
    """Plain aiokafka consumer + pydantic validation of the same input: the Python ceiling here."""
    topic = f"bench-baseline-{uuid.uuid4().hex[:6]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    from aiokafka.admin import NewTopic

    await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    await admin.close()
    await publish_all(broker, [(topic, raw) for _, raw in items])
    consumer = AIOKafkaConsumer(
        bootstrap_servers=broker.bootstrap,
        enable_auto_commit=False,
        max_poll_records=5000,
        fetch_max_wait_ms=100,
    )
    await consumer.start()
    consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
    await consumer.seek_to_beginning()
    seen, started = 0, time.perf_counter()
    try:
        while seen < len(items):
            for records in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                for record in records:
                    CREDITOR_EVENT.validate_json(record.value)
                seen += len(records)
    finally:
        await consumer.stop()
    return len(items) / (time.perf_counter() - started)


class ProcStats:
    """CPU seconds and peak RSS of a process, from /proc."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self, key: str = "VmRSS") -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return 0


async def committed_through(broker: EmbeddedBroker, group: str, ends: dict[TopicPartition, int]) -> bool:
    """Has the group committed every partition up to its end offset?"""
    # The admin API's OffsetFetch closes the connection on Tansu; a consumer of
    # the group that never joins it can ask for the committed offsets instead.
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        for tp, end in ends.items():
            if end == 0:
                continue  # nothing was ever written there, so nothing to commit
            committed = await consumer.committed(tp)
            if committed is None or committed < end:
                return False
        return True
    finally:
        await consumer.stop()


async def end_offsets(broker: EmbeddedBroker, topics: list[str]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t in topics for p in range(PARTITIONS)]
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


def run_pipeline(
    broker: EmbeddedBroker,
    items: list[tuple[str, bytes]],
    store: str,
    workdir: Path,
    workers: int = 1,
    sink_process: bool = False,
) -> dict[str, Any]:
    """Everything pre-published, then N workers of one group: events/s from ready to all committed.

    With `sink_process` the workers run without the read-model sink and one
    `vroegsignaal sink` process writes SQL beside them.
    """
    token = uuid.uuid4().hex[:8]
    env = {"VROEGSIGNAAL_STORE": store, "VROEGSIGNAAL_LOG_LEVEL": "warning"}
    if sink_process:
        env["VROEGSIGNAAL_SINK_IN_WORKER"] = "false"
    group = [_worker(broker, workdir, f"b{token}", env, data_dir=f"pipe-{token}-{n}") for n in range(workers)]
    if sink_process:
        first = group[0]
        group.append(
            Worker(
                broker=broker,
                prefix=first.prefix,
                data_dir=workdir / f"pipe-{token}-sink",
                database_url=first.database_url,
                app_id=first.app_id,
                extra_env=env,
                command=("sink",),
            )
        )
    names = group[0].names
    asyncio.run(create_topics(broker, names))
    asyncio.run(publish_all(broker, [(names.inbound(s), raw) for s, raw in items]))
    for worker in group:
        worker.start()
    stats = [ProcStats(w.process.pid) for w in group if w.process is not None]
    try:
        for worker in group:
            worker.wait_ready(120)
        broker_stats = ProcStats(broker.pid) if broker.pid else None
        broker_cpu0 = broker_stats.cpu_s() if broker_stats else 0.0
        started, cpus0 = time.perf_counter(), [p.cpu_s() for p in stats]
        # Memory per household is what the state adds on top of the idle worker.
        rss_ready_kib = sum(p.rss_kib() for p in stats)
        asyncio.run(_wait_committed(broker, group[0].app_id, list(names.all_inbound), timeout_s=1800))
        # The internal topic is complete once ingest is; then wait for the household stage and the sink.
        asyncio.run(_wait_committed(broker, group[0].app_id, [names.events_by_household], timeout_s=1800))
        sink_group = f"{group[0].app_id}-sink"  # Settings.sink_group
        asyncio.run(_wait_committed(broker, sink_group, list(names.all_outputs), timeout_s=1800))
        elapsed = time.perf_counter() - started
        return {
            "store": store,
            "workers": workers,
            "sink": "process" if sink_process else "in worker",
            "events": len(items),
            "seconds": round(elapsed, 2),
            "events_per_s": round(len(items) / elapsed, 1),
            "cpu_s": round(sum(p.cpu_s() for p in stats) - sum(cpus0), 2),
            "cpu_s_per_process": [round(p.cpu_s() - c0, 2) for p, c0 in zip(stats, cpus0, strict=True)],
            # The broker shares the two cores: its CPU is part of what the machine spends.
            "broker_cpu_s": round(broker_stats.cpu_s() - broker_cpu0, 2) if broker_stats else None,
            "peak_rss_mib": round(sum(p.rss_kib("VmHWM") for p in stats) / 1024, 1),
            "rss_ready_mib": round(rss_ready_kib / 1024, 1),
            "rss_after_mib": round(sum(p.rss_kib() for p in stats) / 1024, 1),
        }
    finally:
        for worker in group:
            worker.stop()


def _worker(
    broker: EmbeddedBroker, workdir: Path, app_id: str, env: dict[str, str], *, data_dir: str
) -> Worker:
    """A bench worker: its app id is also its topic prefix and names its SQLite file."""
    return Worker(
        broker=broker,
        prefix=f"{app_id}.",
        data_dir=workdir / data_dir,
        database_url=f"sqlite:///{workdir / f'{app_id}.db'}",
        app_id=app_id,
        extra_env=env,
    )


def started_stage_worker(
    broker: EmbeddedBroker, workdir: Path, items: list[tuple[str, bytes]], store: str, *, name: str
) -> Worker:
    """One worker without its sink (only the stream stages' memory counts), its input published, started."""
    token = uuid.uuid4().hex[:8]
    env = {
        "VROEGSIGNAAL_STORE": store,
        "VROEGSIGNAAL_LOG_LEVEL": "warning",
        "VROEGSIGNAAL_SINK_IN_WORKER": "false",
    }
    worker = _worker(broker, workdir, f"{name[0]}{token}", env, data_dir=f"{name}-{token}")
    asyncio.run(create_topics(broker, worker.names))
    asyncio.run(publish_all(broker, [(worker.names.inbound(s), raw) for s, raw in items]))
    worker.start()
    return worker


def household_memory(broker: EmbeddedBroker, households: int, store: str, workdir: Path) -> dict[str, Any]:
    """RSS of one worker (sink in its own process) per tracked household, peak and after the run."""
    worker = started_stage_worker(broker, workdir, history(households, 1, seed=11), store, name="mem")
    names = worker.names
    assert worker.process is not None
    stats = ProcStats(worker.process.pid)
    try:
        worker.wait_ready(120)
        ready_kib = stats.rss_kib()
        # Scraped as Prometheus does (infra/prometheus/prometheus.yml): every request to the
        # worker leaves garbage of its own, so polling faster would measure the polling.
        tracked = asyncio.run(_tracked_when_done(broker, worker, names.events_by_household))
        peak_kib, after_kib = stats.rss_kib("VmHWM"), stats.rss_kib()
        return {
            "store": store,
            "households_tracked": tracked,
            "rss_ready_mib": round(ready_kib / 1024, 1),
            "peak_rss_mib": round(peak_kib / 1024, 1),
            "rss_after_mib": round(after_kib / 1024, 1),
            "peak_kib_per_household": round((peak_kib - ready_kib) / tracked, 2),
            "after_kib_per_household": round((after_kib - ready_kib) / tracked, 2),
            "peak_mib_per_100k_households": round((peak_kib - ready_kib) / tracked * 100_000 / 1024, 1),
        }
    finally:
        worker.stop()


SCRAPE_INTERVAL_S = 15.0


async def _tracked_when_done(broker: EmbeddedBroker, worker: Worker, topic: str) -> int:
    """Households tracked once the worker committed the whole topic, scraping /metrics meanwhile."""
    waiting = asyncio.create_task(_wait_committed(broker, worker.app_id, [topic], timeout_s=3600))
    while not waiting.done():
        await asyncio.to_thread(worker.get, "/metrics")
        await asyncio.wait([waiting], timeout=SCRAPE_INTERVAL_S)
    await waiting
    status, body = worker.get("/metrics")
    assert status == 200, body
    return _gauge(body, "vroegsignaal_households_tracked")


def _gauge(body: Any, name: str) -> int:
    for line in str(body).splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    raise ValueError(f"{name} not in /metrics")


async def _wait_committed(broker: EmbeddedBroker, group: str, topics: list[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ends = await end_offsets(broker, topics)
        # End offsets can be reported short on Tansu: confirm they did not move.
        if await committed_through(broker, group, ends) and await end_offsets(broker, topics) == ends:
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"group {group} did not commit {topics} within {timeout_s}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--events-per-household", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench-results/bench.json"))
    parser.add_argument("--latency-seconds", type=float, default=20)
    parser.add_argument("--memory-households", type=int, default=100_000)
    args = parser.parse_args()
    items = history(args.households, args.events_per_household)
    results: dict[str, Any] = {"machine": {"cores": os.cpu_count()}, "input_events": len(items)}
    workdir = Path(tempfile.mkdtemp(prefix="vs-bench-"))
    with EmbeddedBroker(log_path=workdir / "broker.log") as broker:
        print(f"input: {len(items)} events, {args.households} households", flush=True)
        results["baseline_events_per_s"] = round(asyncio.run(baseline(broker, items)), 1)
        print(f"baseline aiokafka + pydantic: {results['baseline_events_per_s']} events/s", flush=True)
        results["anchor_quix"] = anchor = quix_anchor(broker, items)
        anchor["ratio_to_baseline"] = round(anchor["events_per_s"] / results["baseline_events_per_s"], 3)
        print(f"anchor, the same fold in Quix Streams: {anchor}", flush=True)
        for store, workers, sink_process in VARIANTS:
            figures = run_pipeline(broker, items, store, workdir, workers, sink_process)
            figures["ratio_to_baseline"] = round(
                figures["events_per_s"] / results["baseline_events_per_s"], 3
            )
            figures["ratio_to_anchor"] = round(figures["events_per_s"] / anchor["events_per_s"], 3)
            results[_variant_key(store, workers, sink_process)] = figures
            print(f"pipeline: {figures}", flush=True)
        for store in ("memory://", "rocksdb://"):
            memory = household_memory(broker, args.memory_households, store, workdir)
            results[f"memory_{store.rstrip(':/')}"] = memory
            print(f"memory per household: {memory}", flush=True)
        from tests.bench.processor_bench import measure

        # The household stage alone, in this process: the part of the cost that is our domain code.
        results["household_stage_alone"] = {k: round(v, 2) for k, v in measure().items()}
        print(f"household stage alone (no Kafka): {results['household_stage_alone']}", flush=True)
        from tests.bench import codec_lever

        # The lever of the state as msgspec Structs, measured on the same states (not used).
        results["codec_lever_us_per_state"] = {k: round(v, 1) for k, v in codec_lever.measure().items()}
        print(f"state codec, pydantic vs msgspec: {results['codec_lever_us_per_state']}", flush=True)
        from tests.bench.latency import measure_latency

        results["latency_500_per_s"] = measure_latency(broker, workdir, seconds=args.latency_seconds)
        print(f"latency at 500 events/s: {results['latency_500_per_s']}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"written to {args.out}")


def _variant_key(store: str, workers: int, sink_process: bool) -> str:
    return f"pipeline_{store.rstrip(':/')}_{workers}w" + ("_sink_process" if sink_process else "")


def print_table(results: dict[str, Any]) -> None:
    rows = [("measure", "value")]
    rows.append(("baseline (aiokafka + pydantic), events/s", str(results["baseline_events_per_s"])))
    a = results["anchor_quix"]
    rows += [
        (f"anchor: the fold in {a['library']}, events/s", str(a["events_per_s"])),
        ("anchor: ratio to baseline", str(a["ratio_to_baseline"])),
        ("anchor: CPU s / wall s", f"{a['cpu_s']} / {a['seconds']}"),
    ]
    for variant in VARIANTS:
        key = _variant_key(*variant)
        f = results[key]
        rows += [
            (f"{key}: events/s", str(f["events_per_s"])),
            (f"{key}: ratio to baseline / to anchor", f"{f['ratio_to_baseline']} / {f['ratio_to_anchor']}"),
            (
                f"{key}: CPU s (pipeline / broker) / wall s",
                f"{f['cpu_s']} / {f['broker_cpu_s']} / {f['seconds']}",
            ),
            (f"{key}: peak RSS MiB (all processes)", str(f["peak_rss_mib"])),
        ]
    for store in ("memory", "rocksdb"):
        m = results[f"memory_{store}"]
        rows += [
            (
                f"{store} store: RSS added per household, KiB (peak / after), {m['households_tracked']} households",
                f"{m['peak_kib_per_household']} / {m['after_kib_per_household']}",
            ),
            (
                f"{store} store: peak RSS added per 100k households, MiB",
                str(m["peak_mib_per_100k_households"]),
            ),
        ]
    alone = results["household_stage_alone"]
    rows += [
        ("household stage alone (fold, rules, overview; no Kafka), events/s", str(alone["process"])),
        ("intake alone (validate, drop BSN and birth date), events/s", str(alone["intake"])),
    ]
    c = results["codec_lever_us_per_state"]
    rows.append(
        (
            "state decode + encode + copy, us per state: pydantic / msgspec Structs (lever not used)",
            f"{c['pydantic_total_us']} / {c['msgspec_total_us']}",
        )
    )
    lat = results["latency_500_per_s"]
    rows += [("latency event -> reminder p50 / p99 at 500 events/s, s", f"{lat['p50_s']} / {lat['p99_s']}")]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
