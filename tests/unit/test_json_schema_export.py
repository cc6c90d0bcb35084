"""The checked-in JSON Schemas are exactly what the models export, and they agree with the models."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from schemas.export import SCHEMA_FILES, export_json_schemas

CHECKED_IN = Path(__file__).resolve().parents[2] / "schemas" / "json"
DOC = Path(__file__).resolve().parents[2] / "docs" / "contract-v1.md"
REGENERATE = (
    "the checked-in JSON Schema is stale: "
    "run `vroegsignaal schemas export schemas/json` and commit the result"
)


def test_export_writes_every_schema_in_a_fixed_order(tmp_path: Path) -> None:
    written = export_json_schemas(tmp_path / "out")
    assert [path.name for path in written] == list(SCHEMA_FILES)
    assert all(path.read_bytes().endswith(b"}\n") for path in written)


def test_export_is_deterministic(tmp_path: Path) -> None:
    first = [path.read_bytes() for path in export_json_schemas(tmp_path / "a")]
    second = [path.read_bytes() for path in export_json_schemas(tmp_path / "b")]
    assert first == second


@pytest.mark.parametrize("name", list(SCHEMA_FILES))
def test_checked_in_schema_matches_the_models(tmp_path: Path, name: str) -> None:
    export_json_schemas(tmp_path)
    checked_in = CHECKED_IN / name
    assert checked_in.exists(), REGENERATE
    assert checked_in.read_bytes() == (tmp_path / name).read_bytes(), REGENERATE


def test_no_stale_schema_files_are_checked_in() -> None:
    assert sorted(path.name for path in CHECKED_IN.glob("*.json")) == sorted(SCHEMA_FILES), REGENERATE


@pytest.mark.parametrize("name", list(SCHEMA_FILES))
def test_exported_schemas_are_valid_draft_2020_12(name: str) -> None:
    Draft202012Validator.check_schema(json.loads((CHECKED_IN / name).read_text(encoding="utf-8")))


def test_documented_examples_satisfy_the_creditor_event_schema() -> None:
    schema = json.loads((CHECKED_IN / "creditor-event.v1.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    examples = re.findall(r"^```json\n(.*?)^```$", DOC.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)
    assert examples
    for example in examples:
        errors = [error.message for error in validator.iter_errors(json.loads(example))]
        assert not errors, errors
