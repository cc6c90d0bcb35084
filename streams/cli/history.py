"""Bodies of `vroegsignaal generate`, `archive` and `replay` (the CLI wrappers in cli.py stay thin)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import cast

from aiokafka.errors import KafkaConnectionError

from connectors.kafka.admin import bootstrap_of
from connectors.kafka.archive import ArchiveError, archive_topics
from streams.cli.commands import CommandError
from streams.replay.run import ReplayError, ReplayOptions, StartAt, run
from streams.worker.settings import Settings
from streams.worker.topics import TopicNames
from synthetic.generate import GenerateOptions, generate

__all__ = ["parse_moment", "run_archive", "run_generate", "run_replay"]


def parse_moment(text: str | None, option: str) -> datetime | None:
    """A --since/--until value: a date (midnight UTC) or an ISO date-time (UTC when no offset given).

    >>> parse_moment("2026-03-01", "--since").isoformat()
    '2026-03-01T00:00:00+00:00'
    >>> parse_moment("2026-03-01T12:00:00+01:00", "--until").isoformat()
    '2026-03-01T11:00:00+00:00'
    """
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"{option} {text!r}: expected a date like 2026-03-01 or an ISO date-time"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def run_generate(*, households: int, months: int, seed: int, start: str, out: str) -> None:
    """`generate`: checks the numbers, writes the history, progress on stderr."""
    if households < 1 or months < 1:
        raise CommandError("--households and --months must be at least 1")
    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise CommandError(f"--start {start!r}: expected a date like 2026-01-01") from None
    generate(GenerateOptions(households=households, months=months, seed=seed, start=first), Path(out))


async def run_archive(
    settings: Settings, *, out: str, topics: Sequence[str], since: str | None, until: str | None
) -> None:
    """`archive`: the given topics (default: every topic of the configured prefix) to gzip JSON Lines."""
    chosen = [t for group in topics for t in group.split(",") if t] or list(
        TopicNames(settings.topic_prefix).everything
    )
    try:
        await archive_topics(
            bootstrap_of(settings.broker_url),
            chosen,
            Path(out),
            since=parse_moment(since, "--since"),
            until=parse_moment(until, "--until"),
            security=settings.kafka_security.client,
        )
    except KafkaConnectionError as exc:
        raise CommandError(f"cannot reach the broker at {settings.broker_url}: {exc}") from None
    except ArchiveError as exc:
        raise CommandError(str(exc)) from None


async def run_replay(
    settings: Settings,
    *,
    from_dir: str | None,
    from_topics: bool,
    out: str,
    expect: str | None,
    since: str | None,
    until: str | None,
    embedded: bool,
    tail_days: int,
    start_at: str,
    workers: int | None = None,
    in_process: bool = False,
) -> None:
    """`replay`: exits 1 when --expect differs, 2 on a usage or run error."""
    if (from_dir is None) == (not from_topics):
        raise CommandError("give exactly one of --from DIR and --from-topics")
    if start_at not in ("inbound", "internal"):
        raise CommandError(f"--start-at {start_at!r}: expected inbound or internal")
    options = ReplayOptions(
        source_dir=Path(from_dir) if from_dir else None,
        from_topics=from_topics,
        out=Path(out),
        expect=Path(expect) if expect else None,
        since=parse_moment(since, "--since"),
        until=parse_moment(until, "--until"),
        embedded=embedded,
        tail_days=tail_days,
        start_at=cast(StartAt, start_at),
        workers=workers,
        in_process=in_process,
    )
    try:
        code = await run(settings, options)
    except (ReplayError, ArchiveError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    except KafkaConnectionError as exc:
        raise CommandError(
            f"cannot reach the broker at {settings.broker_url}: {exc}; try --embedded"
        ) from None
    sys.stdout.flush()
    if code:
        raise SystemExit(code)
