"""Rows rejected by `vroegsignaal ingest FILE`, counted on the worker's /metrics with the other rejections.

The file command is a short-lived process without a /metrics of its own: it writes each
rejected row as a dead letter (`topic` = `file:<path>`, `offset` = its line) to the source's
dead-letter topic. The worker reads those topics in its consumer group, so each letter is
counted once across workers, and counts the file rows as
`vroegsignaal_ingest_rejected_total{path="file"}` next to HTTP's refused rows. Its own
dead letters (from Kafka) are counted where they are made and skipped here.
"""

from __future__ import annotations

from typing import Any, get_args

import faust
import orjson

from schemas.contract_v1 import SOURCES
from schemas.deadletter_v1 import ReasonClass
from streams.worker.batching import crash_on_error
from streams.worker.pipeline import Pipeline

__all__ = ["FILE_PATH", "file_rejection", "register"]

FILE_PATH = "file"
_REASONS = frozenset(get_args(ReasonClass))


def file_rejection(value: bytes | None) -> tuple[str, str] | None:
    """(source, reason class) of a dead letter of a file row; None for any other letter or bytes.

    Only known sources and reason classes count, so nobody can grow the label set by writing
    to a dead-letter topic.
    """
    try:
        letter = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return None
    if not isinstance(letter, dict) or not str(letter.get("topic", "")).startswith("file:"):
        return None
    source, reason = letter.get("source"), letter.get("reason_class")
    if (
        not isinstance(source, str)
        or not isinstance(reason, str)
        or source not in SOURCES
        or reason not in _REASONS
    ):
        return None
    return source, reason


def register(app: faust.App, pipeline: Pipeline) -> None:
    """An agent over every creditor's dead-letter topic that counts the file rows among the letters."""
    names, settings = pipeline.names, pipeline.settings
    letters = app.topic(
        *(names.dead_letter_for(s) for s in SOURCES),
        partitions=settings.partitions,
        key_serializer="raw",
        value_serializer="raw",
    )
    counter = pipeline.metrics.ingest_rejected

    async def count(stream: faust.StreamT[Any]) -> None:
        async for value in stream:
            rejected = file_rejection(value)
            if rejected is not None:
                counter.labels(rejected[0], FILE_PATH, rejected[1]).inc()

    app.agent(letters, name="file-rejections")(crash_on_error("file-rejections", count))
