"""`vroegsignaal ingest FILE --source SOURCE`: publish a creditor's daily file to its inbound topic.

Valid rows go to the source's inbound topic as their JSON bytes; the ingest
agent does the rest (dropping the BSN, deduplication, future-dated checks).
Rejected rows never reach the inbound topic: they are reported on stderr with
their line number and kept on the source's dead-letter topic with every BSN
masked (signals/masking.py), so nothing is lost and nothing leaks.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Awaitable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from connectors.files import FileFormatError, FileRow, read_events
from connectors.kafka.admin import bootstrap_of, ensure_topics
from schemas.deadletter_v1 import DeadLetter, FieldError
from signals.masking import build_dead_letter
from streams.cli.commands import CommandError
from streams.worker.settings import Settings
from streams.worker.topics import TopicNames

__all__ = ["IngestCounts", "run"]

# Rows between progress lines; also the most sends in flight, which bounds memory.
PROGRESS_EVERY_ROWS = 10_000


@dataclass
class IngestCounts:
    """What happened to the rows of one file."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0

    def summary(self) -> str:
        """The one-line report printed at the end."""
        return f"rows read {self.read}, accepted {self.accepted}, rejected {self.rejected}"


async def run(settings: Settings, path: Path, source: str) -> None:
    """Ingest one file; exits 1 when any row was rejected, 2 when the file as a whole is unusable."""
    counts = IngestCounts()
    try:
        await ingest(settings, path, source, counts=counts)
    except FileFormatError as exc:
        raise CommandError(_whole_file_message(exc, counts)) from None
    except KafkaConnectionError as exc:
        raise CommandError(f"cannot reach the broker at {settings.broker_url}: {exc}") from None
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    print(counts.summary(), flush=True)
    if counts.rejected:
        raise SystemExit(1)


async def ingest(
    settings: Settings, path: Path, source: str, *, counts: IngestCounts, err: TextIO | None = None
) -> None:
    """Stream every row of the file: valid ones to the inbound topic, rejected ones to dead-letter."""
    rows = _checked_rows(path, source)
    names = TopicNames(settings.topic_prefix)
    bootstrap = bootstrap_of(settings.broker_url)
    await ensure_topics(
        bootstrap,
        [names.inbound(source), names.dead_letter_for(source)],
        partitions=settings.partitions,
        replication_factor=settings.replication_factor,
        security=settings.kafka_security.client,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        # A dead letter carries the raw row (JSON-escaped, so up to twice as long) plus its reasons.
        max_request_size=2 * settings.max_message_bytes + 65_536,
        **settings.kafka_security.client.client_kwargs(),
    )
    await producer.start()
    try:
        publisher = _RowPublisher(
            producer=producer, names=names, source=source, path=path, err=err or sys.stderr
        )
        await publisher.publish_all(rows, counts, max_message_bytes=settings.max_message_bytes)
    finally:
        await producer.stop()


def _checked_rows(path: Path, source: str) -> Iterator[FileRow]:
    """The rows, with the whole-file checks (type, header, UTF-8) done before anything connects."""
    rows = read_events(path, source)
    first = next(rows, None)
    return rows if first is None else itertools.chain([first], rows)


@dataclass(kw_only=True)
class _RowPublisher:
    """Sends each row where it belongs and keeps the delivery futures until acknowledged."""

    producer: AIOKafkaProducer
    names: TopicNames
    source: str
    path: Path
    err: TextIO
    pending: list[Awaitable[Any]] = field(default_factory=list)

    async def publish_all(
        self, rows: Iterable[FileRow], counts: IngestCounts, *, max_message_bytes: int
    ) -> None:
        """Publish every row, waiting for the broker every PROGRESS_EVERY_ROWS rows and at the end."""
        try:
            for row in rows:
                counts.read += 1
                if await self.publish(_size_checked(row, max_message_bytes)):
                    counts.accepted += 1
                else:
                    counts.rejected += 1
                if counts.read % PROGRESS_EVERY_ROWS == 0:
                    await self.flush()
                    print(f"... {counts.summary()}", file=self.err, flush=True)
        finally:
            # Rows already handed to the producer are delivered even when a later line breaks the file.
            await self.flush()

    async def publish(self, row: FileRow) -> bool:
        """Enqueue one row; True when it was accepted, False when it went to dead-letter."""
        if row.event is not None:
            key = row.event.debt_ref.encode()  # one debt's events stay in file order
            self.pending.append(await self.producer.send(self.names.inbound(self.source), row.raw, key))
            return True
        letter = dead_letter(row, source=self.source, path=self.path)
        print(rejection_line(row.line, letter), file=self.err)
        value = letter.model_dump_json().encode()
        topic = self.names.dead_letter_for(self.source)
        self.pending.append(await self.producer.send(topic, value, self.source.encode()))
        return False

    async def flush(self) -> None:
        """Wait until the broker has acknowledged every send so far."""
        await asyncio.gather(*self.pending)
        self.pending.clear()


def _size_checked(row: FileRow, max_message_bytes: int) -> FileRow:
    """A row larger than a message may be is rejected here, as the ingest agent would."""
    if row.event is None or len(row.raw) <= max_message_bytes:
        return row
    message = f"row is {len(row.raw)} bytes as JSON, more than the {max_message_bytes} allowed"
    return FileRow(
        line=row.line,
        raw=row.raw,
        errors=(FieldError(path="", message=message),),
        event=None,
        reason_class="too_large",
    )


def dead_letter(row: FileRow, *, source: str, path: Path) -> DeadLetter:
    """The dead-letter envelope of a rejected row, BSNs masked: the file as topic, its line as offset."""
    return build_dead_letter(
        row.raw,
        reason_class=row.reason_class or "invalid",
        errors=row.errors,
        source=source,
        topic=f"file:{path}",
        partition=-1,
        offset=row.line,
        key=None,
        received_at=datetime.now(UTC),
    )


def rejection_line(line: int, letter: DeadLetter) -> str:
    """The stderr line of a rejected row, from its (masked) dead letter: a reason can echo a BSN."""
    reasons = "; ".join(f"{e.path}: {e.message}" if e.path else e.message for e in letter.errors)
    return f"line {line}: rejected ({letter.reason_class}): {reasons}"


def _whole_file_message(exc: FileFormatError, counts: IngestCounts) -> str:
    if not counts.read:
        return f"{exc}; nothing was published"
    # Only a broken line mid-file gets here: the rows before it are already on the topics.
    return (
        f"{exc}; the {counts.read} row(s) before it were already published "
        f"(accepted {counts.accepted}, rejected {counts.rejected}); "
        "fix the file and run it again, duplicates are dropped"
    )
