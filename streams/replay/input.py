"""What a replay feeds: creditor records planned into the internal topic, in event-time order, with ticks.

Cross-topic consumption order in Faust is not deterministic, so a replay does not publish
creditor events to the inbound topics. It runs the ingest logic itself — the same pure
`signals.intake.accept` with the same limits — and plans the messages of
`events-by-household` directly: events in event-time order (ties by source, creditor, event
id), each in its household's partition, and a clock tick into every partition at the end of
each simulated day. Rejected records become dead letters whose receive time comes from the
input (the archived broker timestamp, or the record's place in its file), never the wall
clock, so they are byte-identical on every replay.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from connectors.kafka.archive import SUFFIX, ArchivedRecord, read_archive, record_time
from connectors.kafka.partitions import partition_of_household
from schemas.contract_v1 import CREDITOR_EVENT, SOURCES
from schemas.deadletter_v1 import DeadLetter
from schemas.internal_v1 import AcceptedEvent, ClockTick
from signals.calendar import day_start, local_day
from signals.intake import IntakeLimits, Origin, accept
from streams.worker.dedup import RecentIds, raw_fingerprint

__all__ = ["InternalRecord", "RawRecord", "ReplayPlan", "plan", "read_generated"]

CLOCK_KEY = b"__clock__"
# A gap of more than this many days without events is not ticked through: a stray
# far-future event is then judged against the last tick (future-dated), as live ingest would.
MAX_IDLE_DAYS = 31


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One creditor message as delivered: its bytes, where from, and a fixed receive time if known."""

    source: str
    raw: bytes | None
    topic: str
    partition: int
    offset: int
    key: bytes | None = None
    received_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InternalRecord:
    """One message for the internal topic, with its partition."""

    partition: int
    key: bytes
    value: bytes


@dataclass
class ReplayPlan:
    """The internal topic's messages in order, the dead letters, and counts for the summary."""

    internal: list[InternalRecord] = field(default_factory=list)
    dead_letters: list[bytes] = field(default_factory=list)
    events_in: int = 0
    accepted: int = 0
    duplicates: int = 0
    ticks: int = 0
    first: datetime | None = None
    last: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class PlanOptions:
    """How to plan: the ingest's limits, partitions, time range, ticks after the last event."""

    limits: IntakeLimits
    partitions: int
    since: datetime | None = None
    until: datetime | None = None
    tail_days: int = 3
    end_at: datetime | None = None  # the last clock time of an archived run: tick up to it instead


def read_generated(directory: Path) -> list[RawRecord]:
    """Every line of the `<source>.jsonl` files `generate` writes; the file name is the origin."""
    records = []
    for source in SOURCES:
        path = directory / f"{source}.jsonl"
        if not path.exists():
            continue
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                raw = line.rstrip(b"\r\n")
                if raw.strip():
                    records.append(RawRecord(source, raw, f"file:{path.name}", -1, number))
    return records


def archived_inbound(records: Iterable[ArchivedRecord], prefix: str) -> list[RawRecord]:
    """Inbound-topic records of an archive (or a live read) as raw creditor messages."""
    out = []
    for r in records:
        source = r.topic.removeprefix(f"{prefix}inbound.")
        out.append(RawRecord(source, r.value, r.topic, r.partition, r.offset, r.key, r.broker_time))
    return out


def find_archives(directory: Path, suffix: str) -> list[Path]:
    """Archive files in `directory` whose topic name ends with `suffix` (any prefix)."""
    return sorted(p for p in directory.glob(f"*{suffix}{SUFFIX}"))


def archive_prefix(path: Path, suffix: str) -> str:
    """The topic prefix of an archive file: 'vs.inbound.water.jsonl.gz' -> 'vs.'."""
    return path.name.removesuffix(SUFFIX).removesuffix(suffix)


def clock_end(directory: Path) -> datetime | None:
    """The last clock time of an archived run, so the replay's clock stops where the live one did."""
    latest = None
    for path in find_archives(directory, "clock"):
        for r in read_archive(path):
            moment = record_time(r.value)
            latest = moment if latest is None or (moment is not None and moment > latest) else latest
    return latest


def _own_key(raw: bytes | None) -> tuple[datetime, str, str] | None:
    """(occurred_at, creditor_id, event_id) of a valid creditor event; None for anything else."""
    if raw is None:
        return None
    try:
        event = CREDITOR_EVENT.validate_json(raw)
    except ValidationError:
        return None
    return event.occurred_at, event.creditor_id, event.event_id


Ordered = tuple[datetime, str, str, str, str, int, int]


def _ordered(records: Sequence[RawRecord]) -> list[tuple[Ordered, RawRecord]]:
    """Sort keys: event time, source, creditor, event id, origin.

    A record without a valid event time (it will be dead-lettered) takes the time of the record
    before it in its file or partition, so it stays where it arrived; never the broker's time,
    which is the append time and may be years after the history.
    """
    in_streams = sorted(records, key=lambda r: (r.topic, r.partition, r.offset))
    own = {id(r): _own_key(r.raw) for r in in_streams}
    known = [k[0] for k in own.values() if k is not None]
    first = min(known) if known else datetime(1970, 1, 1, tzinfo=UTC)
    keyed: list[tuple[Ordered, RawRecord]] = []
    for _, stream in itertools.groupby(in_streams, key=lambda r: (r.topic, r.partition)):
        items = list(stream)
        fill = next((k[0] for r in items if (k := own[id(r)]) is not None), first)
        for r in items:
            k = own[id(r)]
            fill = k[0] if k is not None else fill
            at, creditor, event_id = k if k is not None else (fill, "", "")
            keyed.append(((at, r.source, creditor, event_id, r.topic, r.partition, r.offset), r))
    return sorted(keyed, key=lambda item: item[0])


def _day_end(day: date) -> datetime:
    """The last second of a local (Europe/Amsterdam) day, as a UTC instant."""
    return day_start(day + timedelta(days=1)) - timedelta(seconds=1)


def _tick(day: date, partitions: int, at: datetime | None = None) -> Iterator[InternalRecord]:
    moment = at or _day_end(day)
    value = ClockTick(at=moment).model_dump_json().encode()
    return (InternalRecord(p, CLOCK_KEY, value) for p in range(partitions))


class _Planner:
    """Walks the ordered records day by day, accepting each and ticking at every day's end."""

    def __init__(self, options: PlanOptions) -> None:
        self.o, self.plan, self.recent = options, ReplayPlan(), RecentIds()
        self.clock: datetime | None = None
        self.day: date | None = None

    def tick_until(self, day: date) -> None:
        """Tick every day from the last ticked one up to the day before `day` (gaps capped)."""
        if self.day is None:
            self.day = day
            return
        last_event_day = self.day
        while self.day < day:
            if (self.day - last_event_day).days <= MAX_IDLE_DAYS:
                self.emit_tick(self.day)
            self.day += timedelta(days=1)

    def emit_tick(self, day: date, at: datetime | None = None) -> None:
        ticks = list(_tick(day, self.o.partitions, at))
        self.plan.internal += ticks
        self.plan.ticks += 1
        # A day-end tick (23:59:59 in Amsterdam) closes its day: for the future-dated check the clock
        # is then local midnight, so an event in the last second of the next day is not a day "ahead".
        self.clock = at or day_start(day + timedelta(days=1))

    def take(self, at: datetime, record: RawRecord) -> None:
        """Ingest one record as the ingest agent would, with a receive time from the input."""
        self.tick_until(local_day(at))
        self.plan.events_in += 1
        self.plan.first, self.plan.last = self.plan.first or at, at
        origin = Origin(
            source=record.source,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            received_at=record.received_at or at,
        )
        result = accept(
            record.raw,
            origin=origin,
            stream_time=self.clock,
            limits=self.o.limits,
        )
        if isinstance(result, DeadLetter):
            self.plan.dead_letters.append(result.model_dump_json().encode())
        elif self.recent.seen(result.event.dedup_key, raw_fingerprint(record.raw)):
            self.plan.duplicates += 1
        else:
            self.plan.accepted += 1
            self.plan.internal.append(self.accepted(result))

    def accepted(self, result: AcceptedEvent) -> InternalRecord:
        key = result.household_key
        value = result.model_dump_json().encode()
        return InternalRecord(partition_of_household(key, self.o.partitions), key.encode(), value)

    def finish(self) -> None:
        """Tick on past the last event: `tail_days` more days, or up to an archived run's last clock time."""
        if self.day is None:
            return
        if self.o.end_at is not None:
            self.tick_until(max(self.day, local_day(self.o.end_at)))
            self.emit_tick(local_day(self.o.end_at), self.o.end_at)
            return
        self.tick_until(self.day + timedelta(days=self.o.tail_days + 1))


def plan(records: Sequence[RawRecord], options: PlanOptions) -> ReplayPlan:
    """The internal topic's messages and the dead letters of a replay of `records`."""
    planner = _Planner(options)
    for key, record in _ordered(records):
        at = key[0]
        if (options.since is None or at >= options.since) and (options.until is None or at < options.until):
            planner.take(at, record)
    planner.finish()
    return planner.plan


def archived_internal(records: Iterable[ArchivedRecord], partitions: int) -> ReplayPlan:
    """An archived internal topic replayed verbatim: each record to its own partition, in offset order."""
    result = ReplayPlan()
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        if r.partition >= partitions:
            raise ValueError(f"archived partition {r.partition} >= the {partitions} partitions configured")
        result.internal.append(InternalRecord(r.partition, r.key or b"", r.value or b""))
        if r.key == CLOCK_KEY:
            result.ticks += 1
        else:
            result.events_in += 1
            result.accepted += 1
    return result
