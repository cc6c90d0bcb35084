"""`vroegsignaal replay`: the whole pipeline on an isolated run, its outputs as sorted JSON Lines.

The replay starts at the internal topic (see streams/replay/input.py for why): it runs the
ingest logic itself and publishes accepted events and clock ticks to `events-by-household`
of a fresh topic prefix (`replay-<token>.`); the household stage, rules and outputs run in
real worker processes (`--workers`, one per core by default) and the SQL sink in a process
of its own (streams/replay/worker.py), with the run's own app id, data directories and
SQLite database. The input is published only once every worker has joined and the group is
stable, so no partition changes hands mid-run. It knows the run is done from the consumer
groups' committed offsets (processed, not merely read), never from a sleep, and it does not
pace the input: its speed is the pipeline's.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, TextIO

import orjson
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from connectors.kafka.admin import bootstrap_of, ensure_topics
from connectors.kafka.archive import ArchivedRecord, read_archive, read_topic, selected
from connectors.kafka.broker import EmbeddedBroker
from connectors.kafka.security import PLAINTEXT, KafkaSecurity
from schemas.contract_v1 import SOURCES
from signals.intake import IntakeLimits
from signals.masking import mask_dead_letter_json
from streams.replay.in_process import fold_in_processes
from streams.replay.input import (
    InternalRecord,
    PlanOptions,
    ReplayPlan,
    archive_prefix,
    archived_inbound,
    archived_internal,
    clock_end,
    find_archives,
    plan,
    read_generated,
)
from streams.replay.output import Outputs, collect, compare, read_outputs, write_outputs
from streams.replay.worker import ReplayError, ReplayGroup, default_workers, wait_committed
from streams.worker.kafka_security import KafkaSecuritySettings
from streams.worker.settings import Settings
from streams.worker.topics import DEAD_LETTER, UNROUTED, TopicNames
from synthetic.scenarios import Scenario, check_scenarios

__all__ = ["ReplayError", "ReplayOptions", "ReplaySummary", "replay", "run"]

StartAt = Literal["inbound", "internal"]
PENDING_SENDS = 5000  # sends in flight before waiting for the broker; bounds memory


@dataclass(frozen=True, kw_only=True)
class ReplayOptions:
    """Where the history comes from, where the outputs go, and how to run."""

    source_dir: Path | None = None
    from_topics: bool = False
    out: Path
    expect: Path | None = None
    since: datetime | None = None
    until: datetime | None = None
    embedded: bool = False
    tail_days: int = 3
    start_at: StartAt = "inbound"
    timeout_s: float = 3600.0
    keep_work_dir: bool = False
    workers: int | None = None  # worker processes; None: one per core, at most one per partition
    # Fold the partitions in a pool of `workers` processes, without broker, Faust or sink
    # (streams/replay/in_process.py): the same output files, several times faster.
    in_process: bool = False


@dataclass
class ReplaySummary:
    """What the replay did, for the printed summary."""

    plan: ReplayPlan
    outputs: dict[str, int] = field(default_factory=dict)
    processing_s: float = 0.0
    total_s: float = 0.0
    workers: int = 1
    in_process: bool = False
    duplicates: int = 0
    conflicts: list[str] = field(default_factory=list)
    scenario_failures: list[str] | None = None
    scenarios: int = 0

    def lines(self) -> list[str]:
        """The summary, one line per fact."""
        p, messages = self.plan, len(self.plan.internal)
        rate = messages / self.processing_s if self.processing_s else 0.0
        lines = [
            f"replay: {p.events_in} events in: {p.accepted} accepted, {p.duplicates} duplicates, "
            f"{len(p.dead_letters)} dead letters; {p.ticks} clock ticks per partition",
            f"replay: {messages} internal messages processed in {self.processing_s:.1f} s = {rate:,.0f} "
            f"messages/s ({p.accepted / max(self.processing_s, 1e-9):,.0f} events/s); "
            f"{self.total_s:.1f} s in all, with start-up; "
            + (
                f"{self.workers} process(es) in-process, no broker or sink"
                if self.in_process
                else f"{self.workers} worker(s) and the sink"
            ),
            "replay: outputs: " + ", ".join(f"{stem} {n}" for stem, n in self.outputs.items()),
        ]
        if self.duplicates:
            lines.append(f"replay: {self.duplicates} output records repeated under their id, kept once")
        if self.conflicts:
            lines.append(
                f"replay: WARNING {len(self.conflicts)} ids with differing records: {self.conflicts[:5]}"
            )
        if self.scenario_failures is not None:
            ok = self.scenarios - len({f.split(" ", 1)[0] for f in self.scenario_failures})
            lines.append(f"replay: planted scenarios: {ok}/{self.scenarios} as expected")
            lines += [f"replay:   FAILED {f}" for f in self.scenario_failures]
        return lines


async def run(settings: Settings, options: ReplayOptions, *, out: TextIO = sys.stdout) -> int:
    """The CLI command: replay, write, print the summary, compare; 1 when --expect differs."""
    summary = await replay(settings, options)
    for line in summary.lines():
        print(line, file=out, flush=True)
    print(f"replay: wrote {options.out}", file=out, flush=True)
    if options.expect is None:
        return 0
    diff = compare(options.expect, options.out)
    if diff:
        print("\n".join(diff), file=out)
        print(f"replay: outputs differ from {options.expect}", file=out, flush=True)
        return 1
    print(f"replay: outputs identical to {options.expect}", file=out, flush=True)
    return 0


async def replay(
    settings: Settings, options: ReplayOptions, *, broker_url: str | None = None
) -> ReplaySummary:
    """Plan, run on an isolated worker, write the output files; `broker_url` overrides the broker."""
    started = time.monotonic()
    workers = default_workers(settings.partitions) if options.workers is None else options.workers
    if not 1 <= workers <= settings.partitions:
        # A worker without a partition would never be ready.
        raise ReplayError(
            f"--workers {workers}: between 1 and the number of partitions ({settings.partitions})"
        )
    replay_plan, scenarios = await load(settings, options)
    if options.in_process:
        outputs, processing_s = await asyncio.to_thread(
            fold_in_processes, settings, replay_plan.internal, replay_plan.dead_letters, processes=workers
        )
    else:
        async with _broker(settings, options, broker_url) as (url, run_settings):
            outputs, processing_s = await _run_isolated(run_settings, replay_plan, url, options, workers)
    write_outputs(outputs, options.out)
    summary = ReplaySummary(
        plan=replay_plan,
        outputs=outputs.counts(),
        processing_s=processing_s,
        workers=workers,
        in_process=options.in_process,
    )
    summary.conflicts, summary.duplicates = outputs.conflicts, outputs.duplicates
    summary.total_s = time.monotonic() - started
    if scenarios:
        summary.scenarios = len(scenarios)
        summary.scenario_failures = check_scenarios(scenarios, read_outputs(options.out))
    return summary


@contextlib.asynccontextmanager
async def _broker(
    settings: Settings, options: ReplayOptions, broker_url: str | None
) -> AsyncIterator[tuple[str, Settings]]:
    if broker_url is not None or not options.embedded:
        yield broker_url or settings.broker_url, settings
        return
    with EmbeddedBroker() as broker:
        # The embedded broker speaks plaintext on loopback; kafka_security is for the configured one.
        yield broker.url, settings.model_copy(update={"kafka_security": KafkaSecuritySettings()})


async def load(settings: Settings, options: ReplayOptions) -> tuple[ReplayPlan, list[Scenario]]:
    """The plan from a generate directory, an archive directory, or the live inbound topics."""
    plan_options = PlanOptions(
        limits=IntakeLimits(
            max_message_bytes=settings.max_message_bytes,
            future_tolerance=timedelta(seconds=settings.future_tolerance_s),
        ),
        partitions=settings.partitions,
        since=options.since,
        until=options.until,
        tail_days=options.tail_days,
    )
    if options.from_topics:
        names, bootstrap = TopicNames(settings.topic_prefix), bootstrap_of(settings.broker_url)
        security = settings.kafka_security.client
        records = [r for t in names.all_inbound async for r in read_topic(bootstrap, t, security=security)]
        return plan(archived_inbound(records, settings.topic_prefix), plan_options), []
    directory = options.source_dir
    if directory is None or not directory.is_dir():
        raise ReplayError(f"--from {directory}: not a directory")
    scenarios_path = directory / "scenarios.jsonl"
    scenarios = [Scenario.model_validate_json(line) for line in _lines(scenarios_path)]
    generated = read_generated(directory)
    if generated:
        return plan(generated, plan_options), scenarios
    return _plan_archive(directory, options, plan_options), scenarios


def _lines(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().splitlines() if line.strip()] if path.exists() else []


def _plan_archive(directory: Path, options: ReplayOptions, plan_options: PlanOptions) -> ReplayPlan:
    """From an archive: the inbound topics through the ingest logic, or the internal topic verbatim."""
    if options.start_at == "internal":
        return _internal_archive(directory, options, plan_options.partitions)
    inbound = {
        p: archive_prefix(p, f"inbound.{s}")
        for s in SOURCES
        for p in find_archives(directory, f"inbound.{s}")
    }
    prefixes = set(inbound.values())
    if len(prefixes) != 1:
        found = sorted(prefixes) or "none"
        raise ReplayError(
            f"{directory}: no generate files, and inbound archives of one prefix expected, found {found}"
        )
    records = archived_inbound((r for p in inbound for r in read_archive(p)), prefixes.pop())
    # The archived clock says how far the live run's time went: tick up to there, no further.
    return plan(records, dataclasses.replace(plan_options, end_at=clock_end(directory)))


def _dead_letter_archives(directory: Path) -> list[Path]:
    """Dead-letter archives: one per source and the unrouted one, or the shared one of a version before."""
    per_source = [f"{DEAD_LETTER}.{s}" for s in (*SOURCES, UNROUTED)]
    return [p for suffix in (*per_source, DEAD_LETTER) for p in find_archives(directory, suffix)]


def _internal_archive(directory: Path, options: ReplayOptions, partitions: int) -> ReplayPlan:
    """A live run's internal topic as it was: reproduces the live outputs exactly."""
    internal = find_archives(directory, "events-by-household")
    if len(internal) != 1:
        raise ReplayError(f"{directory}: expected one *events-by-household.jsonl.gz, found {len(internal)}")
    records = (r for r in read_archive(internal[0]) if selected(r, options.since, options.until))
    result = archived_internal(records, partitions)
    dead = (r for p in _dead_letter_archives(directory) for r in read_archive(p))
    # An archive of an older version may hold dead letters masked less thoroughly: masked again here.
    result.dead_letters = [
        mask_dead_letter_json(r.value) for r in dead if r.value and selected(r, options.since, options.until)
    ]
    return result


async def _run_isolated(
    settings: Settings, replay_plan: ReplayPlan, broker_url: str, options: ReplayOptions, workers: int
) -> tuple[Outputs, float]:
    """Topics, processes, publish, wait until processed, read the outputs; cleans up after itself."""
    token = uuid.uuid4().hex[:10]
    names, app_id = TopicNames(f"replay-{token}."), f"replay-{token}"
    bootstrap, security = bootstrap_of(broker_url), settings.kafka_security.client
    work_dir = Path(tempfile.mkdtemp(prefix=f"vroegsignaal-replay-{token}-"))
    await ensure_topics(
        bootstrap,
        names.everything,
        partitions=settings.partitions,
        replication_factor=settings.replication_factor,
        security=security,
    )
    group = ReplayGroup(
        settings=settings,
        broker_url=broker_url,
        app_id=app_id,
        prefix=names.prefix,
        work_dir=work_dir,
        workers=workers,
    )
    group.start()
    failed = True
    try:
        # Published only once every worker holds its partitions for good: a partition moved
        # mid-run would be processed twice (outputs de-duplicated, but time lost).
        await group.wait_ready(bootstrap, timeout_s=120, security=security)
        # Timed from here: publishing (fast) and processing, not the processes' start-up.
        ready = time.monotonic()
        last = await publish(bootstrap, names.events_by_household, replay_plan.internal, security=security)
        await publish_dead_letters(bootstrap, names, replay_plan.dead_letters, security=security)
        internal = {TopicPartition(names.events_by_household, p): n for p, n in last.items()}
        await wait_committed(bootstrap, app_id, internal, group, options.timeout_s, security=security)
        processing_s = time.monotonic() - ready
        records = await read_topics(bootstrap, names.all_outputs, security=security)
        # Done when the sink's group committed past every output record.
        last_outputs = _last_offsets(records)
        await wait_committed(
            bootstrap, group.sink_group, last_outputs, group, timeout_s=300, security=security
        )
        failed = False
        return collect(records, names.prefix, replay_plan.dead_letters), processing_s
    finally:
        group.stop(settings.shutdown_grace_s)
        await _delete_topics(bootstrap, names, app_id, security)
        if not options.keep_work_dir:
            _remove_work_dir(work_dir, keep_logs=failed)


def _remove_work_dir(work_dir: Path, *, keep_logs: bool) -> None:
    """The run's data directories and database; a failed run keeps its processes' logs (named in its error)."""
    if not keep_logs:
        shutil.rmtree(work_dir, ignore_errors=True)
        return
    for path in work_dir.iterdir():
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.suffix != ".log":
            path.unlink(missing_ok=True)


async def read_topics(
    bootstrap: str, topics: Iterable[str], *, security: KafkaSecurity = PLAINTEXT
) -> list[ArchivedRecord]:
    """Every record of the topics, read side by side: each read ends with an empty poll (~0.5 s)."""

    async def one(topic: str) -> list[ArchivedRecord]:
        return [r async for r in read_topic(bootstrap, topic, security=security)]

    return [r for records in await asyncio.gather(*map(one, topics)) for r in records]


def _last_offsets(records: Iterable[ArchivedRecord]) -> dict[TopicPartition, int]:
    last: dict[TopicPartition, int] = {}
    for r in records:
        tp = TopicPartition(r.topic, r.partition)
        last[tp] = max(last.get(tp, -1), r.offset)
    return last


async def publish(
    bootstrap: str, topic: str, records: Sequence[InternalRecord], *, security: KafkaSecurity = PLAINTEXT
) -> dict[int, int]:
    """Send in order to each record's partition; returns the offset of the last record per partition.

    The offsets come from the broker's acknowledgements, not from end offsets (which Tansu can
    report a few records short).
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, max_request_size=4 * 2**20, **security.client_kwargs()
    )
    await producer.start()
    last: dict[int, int] = {}
    try:
        pending = []
        for index, record in enumerate(records, start=1):
            pending.append(
                await producer.send(topic, key=record.key, value=record.value, partition=record.partition)
            )
            if index % PENDING_SENDS == 0 or index == len(records):
                for meta in await asyncio.gather(*pending):
                    last[meta.partition] = max(last.get(meta.partition, -1), meta.offset)
                pending.clear()
    finally:
        await producer.stop()
    return last


async def publish_dead_letters(
    bootstrap: str, names: TopicNames, values: Sequence[bytes], *, security: KafkaSecurity = PLAINTEXT
) -> None:
    """Dead letters of the replay's ingest to its own dead-letter topics, per source and keyed by it like ingest."""
    sourced = [(str(orjson.loads(v)["source"]), v) for v in values]
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, max_request_size=4 * 2**20, **security.client_kwargs()
    )
    await producer.start()
    try:
        sends = [await producer.send(names.dead_letter_for(s), key=s.encode(), value=v) for s, v in sourced]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def _delete_topics(bootstrap: str, names: TopicNames, app_id: str, security: KafkaSecurity) -> None:
    """Best effort: a replay leaves no topics behind on a shared broker (Faust's changelogs included)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security.client_kwargs())
    with contextlib.suppress(Exception):
        await admin.start()
        ours = [t for t in await admin.list_topics() if t.startswith((names.prefix, f"{app_id}-"))]
        if ours:
            await admin.delete_topics(ours)
    with contextlib.suppress(Exception):
        await admin.close()
