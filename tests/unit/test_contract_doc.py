"""docs/contract-v1.md cannot drift: its examples are parsed by the real contract."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from connectors.files import CSV_COLUMNS, read_events
from schemas.contract_v1 import CREDITOR_EVENT, SOURCES, Address, CreditorEvent, Debtor, EventType
from schemas.deadletter_v1 import DeadLetter, ReasonClass

DOC = Path(__file__).resolve().parents[2] / "docs" / "contract-v1.md"
_FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(info: str) -> list[str]:
    """Bodies of the fenced blocks whose info string is exactly `info`."""
    return [
        match["body"] for match in _FENCE.finditer(DOC.read_text(encoding="utf-8")) if match["info"] == info
    ]


def test_every_json_example_is_a_valid_creditor_event() -> None:
    examples = blocks("json")
    assert examples, "no ```json examples found"
    for example in examples:
        CREDITOR_EVENT.validate_json(example)


def test_every_event_type_has_an_example() -> None:
    documented = {CREDITOR_EVENT.validate_json(example).type for example in blocks("json")}
    assert documented == set(get_args(EventType))


def test_dead_letter_example_is_a_valid_envelope() -> None:
    (example,) = blocks("json dead-letter")
    assert DeadLetter.model_validate_json(example).reason_class == "invalid"


def test_csv_example_reads_without_errors(tmp_path: Path) -> None:
    (example,) = blocks("csv")
    path = tmp_path / "example.csv"
    path.write_text(example, encoding="utf-8")
    rows = list(read_events(path, "housing"))
    assert rows
    assert all(row.errors == () for row in rows)


def _contract_fields() -> set[str]:
    union, _discriminator = get_args(CreditorEvent)
    fields = {*Debtor.model_fields, *Address.model_fields}
    for model in get_args(union):
        fields.update(model.model_fields)
    return fields


@pytest.mark.parametrize("field", sorted(_contract_fields()))
def test_every_contract_field_is_documented(field: str) -> None:
    assert f"`{field}`" in DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [*CSV_COLUMNS, *SOURCES, *get_args(ReasonClass)])
def test_every_csv_column_source_and_reason_class_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC.read_text(encoding="utf-8")
