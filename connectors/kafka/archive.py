"""`vroegsignaal archive`: topics to gzip JSON Lines, one file per topic, selected by the records' own time.

Each line holds one record: partition, offset, broker timestamp (ms), key, value and headers;
bytes that are valid UTF-8 are kept as text (`key`, `value`), others as base64 (`key_base64`,
`value_base64`). Selection uses the time inside the record (a creditor event's `occurred_at`,
also inside an accepted event; a clock tick's `at`; an output's `raised_at`, `issued_at`,
`permitted_at`, `resolved_at`, `occurred_at` or `as_of`; a dead letter's `received_at`),
because the broker's timestamps are append times. Only a record without a readable time of
its own (an unparseable creditor message) falls back to the broker timestamp.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import sys
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from connectors.errors import ConnectorError
from connectors.kafka.security import PLAINTEXT, KafkaSecurity, start_client

__all__ = [
    "ArchiveError",
    "ArchivedRecord",
    "archive_topics",
    "read_archive",
    "read_topic",
    "read_topic_batches",
    "record_time",
    "selected",
]

TIME_FIELDS = (
    "occurred_at",
    "at",
    "raised_at",
    "issued_at",
    "permitted_at",
    "resolved_at",
    "as_of",
    "received_at",
)
SUFFIX = ".jsonl.gz"
# Tansu can report an end offset a few records short: reading stops at the first empty poll
# after the reported end, and gives up after this many empty polls short of it.
POLL_MS = 500
MAX_EMPTY_POLLS = 20


class ArchiveError(ConnectorError, RuntimeError):
    """A topic could not be read to its end, or an archive file is unusable."""


def _text_or_base64(data: bytes | None) -> tuple[str | None, str | None]:
    """(text, None) for UTF-8 bytes, (None, base64) otherwise, (None, None) for no bytes.

    >>> _text_or_base64(b"ab"), _text_or_base64(b"\\xff")
    (('ab', None), (None, '/w=='))
    """
    if data is None:
        return None, None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, base64.b64encode(data).decode("ascii")


def _bytes_of(text: str | None, b64: str | None) -> bytes | None:
    if text is not None:
        return text.encode("utf-8")
    return base64.b64decode(b64) if b64 is not None else None


@dataclass(frozen=True, slots=True)
class ArchivedRecord:
    """One record of a topic, as read from the broker or an archive file."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()

    def to_json(self) -> bytes:
        """One archive line (without the newline)."""
        key, key_b64 = _text_or_base64(self.key)
        value, value_b64 = _text_or_base64(self.value)
        headers = [
            dict(zip(("key", "value", "value_base64"), (k, *_text_or_base64(v)), strict=True))
            for k, v in self.headers
        ]
        doc: dict[str, Any] = {
            "partition": self.partition,
            "offset": self.offset,
            "timestamp": self.timestamp_ms,
            "key": key,
            "key_base64": key_b64,
            "value": value,
            "value_base64": value_b64,
            "headers": headers,
        }
        return orjson.dumps(doc)

    @classmethod
    def from_json(cls, topic: str, line: bytes) -> ArchivedRecord:
        """Parse one archive line of `topic`."""
        doc: dict[str, Any] = orjson.loads(line)
        headers = tuple((h["key"], _bytes_of(h.get("value"), h.get("value_base64"))) for h in doc["headers"])
        return cls(
            topic=topic,
            partition=doc["partition"],
            offset=doc["offset"],
            timestamp_ms=doc.get("timestamp"),
            key=_bytes_of(doc.get("key"), doc.get("key_base64")),
            value=_bytes_of(doc.get("value"), doc.get("value_base64")),
            headers=headers,
        )

    @property
    def broker_time(self) -> datetime | None:
        """The broker's timestamp as a UTC datetime."""
        return (
            datetime.fromtimestamp(self.timestamp_ms / 1000, UTC) if self.timestamp_ms is not None else None
        )


def record_time(value: bytes | None) -> datetime | None:
    """The record's own time, or None when the value carries none.

    >>> record_time(b'{"kind": "event", "event": {"occurred_at": "2026-01-02T10:00:00+01:00"}}')
    datetime.datetime(2026, 1, 2, 9, 0, tzinfo=datetime.timezone.utc)
    >>> record_time(b'{"kind": "tick", "at": "2026-01-02T23:59:59Z"}').isoformat()
    '2026-01-02T23:59:59+00:00'
    >>> record_time(b"not json") is None
    True
    """
    try:
        doc = orjson.loads(value) if value is not None else None
    except orjson.JSONDecodeError:
        return None
    if isinstance(doc, dict) and isinstance(doc.get("event"), dict):
        doc = doc["event"]
    if not isinstance(doc, dict):
        return None
    for name in TIME_FIELDS:
        raw = doc.get(name)
        if isinstance(raw, str):
            try:
                moment = datetime.fromisoformat(raw)
            except ValueError:
                continue
            if moment.tzinfo is not None:
                return moment.astimezone(UTC)
    return None


def selected(record: ArchivedRecord, since: datetime | None, until: datetime | None) -> bool:
    """Within [since, until) by the record's own time (broker time only when it has none)."""
    if since is None and until is None:
        return True
    moment = record_time(record.value) or record.broker_time
    if moment is None:
        return False
    return (since is None or moment >= since) and (until is None or moment < until)


async def read_topic(
    bootstrap: str, topic: str, *, security: KafkaSecurity = PLAINTEXT
) -> AsyncIterator[ArchivedRecord]:
    """Every record of a topic from the beginning to its end, without a consumer group (read-only)."""
    async for batch in read_topic_batches(bootstrap, topic, security=security):
        for record in batch:
            yield record


async def read_topic_batches(
    bootstrap: str, topic: str, *, security: KafkaSecurity = PLAINTEXT
) -> AsyncIterator[list[ArchivedRecord]]:
    """The records of a topic as polled, from the beginning to its end; nothing when it does not exist."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
        **security.client_kwargs(),
    )
    await start_client(consumer, bootstrap, security)
    try:
        await consumer.topics()  # loads the metadata partitions_for_topic reads
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            return
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        async for batch in _batches(consumer, tps):
            yield [
                ArchivedRecord(
                    topic, r.partition, r.offset, r.timestamp, r.key, r.value, tuple(r.headers or ())
                )
                for r in batch
            ]
    finally:
        await consumer.stop()


async def _batches(consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> AsyncIterator[list[Any]]:
    """Polls until an empty poll finds every partition at or past its reported end."""
    empty = 0
    while empty < MAX_EMPTY_POLLS:
        polled = await consumer.getmany(*tps, timeout_ms=POLL_MS)
        records = [r for tp in sorted(polled) for r in polled[tp]]
        if records:
            empty = 0
            yield records
            continue
        empty += 1
        ends = await consumer.end_offsets(tps)
        positions = [await consumer.position(tp) for tp in tps]
        if all(position >= ends[tp] for position, tp in zip(positions, tps, strict=True)):
            return
    raise ArchiveError(f"{tps[0].topic}: no records for {MAX_EMPTY_POLLS} polls before its reported end")


def read_archive(path: Path) -> Iterator[ArchivedRecord]:
    """The records of one archive file; the topic is the file name without `.jsonl.gz`."""
    topic = path.name.removesuffix(SUFFIX)
    with gzip.open(path, "rb") as handle:
        for line in handle:
            if line.strip():
                yield ArchivedRecord.from_json(topic, line)


ARCHIVE_TOPICS_AT_ONCE = 8  # topics read side by side by archive_topics (a consumer each)


async def archive_topics(
    bootstrap: str,
    topics: Iterable[str],
    out: Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: TextIO | None = sys.stderr,
    security: KafkaSecurity = PLAINTEXT,
) -> dict[str, int]:
    """Write `<topic>.jsonl.gz` per existing topic (records in [since, until)); returns records per file.

    Up to ARCHIVE_TOPICS_AT_ONCE topics are read side by side: each read ends with an empty poll
    past the reported end (~0.5 s), which one after another added up to ~18 s for a prefix's 37.
    """
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    at_once = asyncio.Semaphore(ARCHIVE_TOPICS_AT_ONCE)

    async def one(topic: str) -> int:
        path, written, read = out / f"{topic}{SUFFIX}", 0, 0
        async with at_once:
            handle = await asyncio.to_thread(_GzipLines, path)
            try:
                async for batch in read_topic_batches(bootstrap, topic, security=security):
                    chosen = [r.to_json() + b"\n" for r in batch if selected(r, since, until)]
                    read, written = read + len(batch), written + len(chosen)
                    await asyncio.to_thread(handle.write, b"".join(chosen))
            finally:
                await asyncio.to_thread(handle.close)
        if progress is not None:
            print(f"archive: {topic}: {written} of {read} records -> {path}", file=progress, flush=True)
        return written

    chosen_topics = list(dict.fromkeys(topics))
    counts = dict(zip(chosen_topics, await asyncio.gather(*map(one, chosen_topics)), strict=True))
    manifest = {
        "format": "vroegsignaal-archive/1",
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "records": counts,
    }
    await asyncio.to_thread(
        (out / "archive.json").write_bytes, orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n"
    )
    return counts


class _GzipLines:
    """A gzip file written without a name or time in its header, so equal records give equal bytes."""

    def __init__(self, path: Path) -> None:
        self._raw = path.open("wb")
        self._gzip = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)

    def write(self, data: bytes) -> None:
        self._gzip.write(data)

    def close(self) -> None:
        self._gzip.close()
        self._raw.close()
