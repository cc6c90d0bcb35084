"""Which dead letters count as rejected file rows on the worker's /metrics (streams/worker/file_rejections.py)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from connectors.files import FileRow
from schemas.deadletter_v1 import FieldError
from streams.cli.ingest_file import dead_letter
from streams.worker.file_rejections import file_rejection


def _letter(**fields: object) -> bytes:
    base = {"reason_class": "invalid", "source": "housing", "topic": "file:/in/woonstad.csv", "offset": 4}
    return orjson.dumps({**base, **fields})


def test_a_file_rows_letter_counts_with_its_source_and_reason() -> None:
    assert file_rejection(_letter()) == ("housing", "invalid")
    assert file_rejection(_letter(reason_class="wrong_source", source="cjib")) == ("cjib", "wrong_source")


def test_the_letter_the_file_command_writes_is_recognised() -> None:
    error = FieldError(path="amount_cents", message="not whole cents")
    row = FileRow(line=7, raw=b"e5,debt.opened,housing", errors=(error,), event=None, reason_class="invalid")
    letter = dead_letter(row, source="housing", path=Path("/in/woonstad-2024-03-01.csv"))
    assert file_rejection(letter.model_dump_json().encode()) == ("housing", "invalid")


@pytest.mark.parametrize(
    "value",
    [
        _letter(topic="vs.inbound.housing"),  # the worker's own letter: counted where it was made
        _letter(source="bank"),  # not a source: no new label value from a crafted letter
        _letter(reason_class="because"),
        b"not json",
        b"[1, 2]",
        b"",
        None,
    ],
)
def test_anything_else_is_not_counted(value: bytes | None) -> None:
    assert file_rejection(value) is None
