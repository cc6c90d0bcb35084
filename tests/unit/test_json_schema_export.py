"""The checked-in JSON Schemas are exactly what the models export, and they agree with the models."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from schemas.export import SCHEMA_FILES, export_json_schemas, schema_id

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


def test_every_schema_names_itself_and_says_what_it_describes() -> None:
    ids = []
    for name in SCHEMA_FILES:
        schema = json.loads((CHECKED_IN / name).read_text(encoding="utf-8"))
        assert schema["$id"] == schema_id(name) == f"urn:vroegsignaal:schema:{name.removesuffix('.json')}"
        assert len(schema["description"]) > 20, name
        ids.append(schema["$id"])
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    "name",
    [
        "reminder-issued.v1.json",
        "costs-permitted.v1.json",
        "cost-violation.v1.json",
        "creditor-feedback.v1.json",
        "dead-letter.v1.json",
    ],
)
def test_every_field_a_creditor_receives_is_described(name: str) -> None:
    """The schemas of what creditors read: each field says what it means (`type` and `v` are constants)."""
    schema = json.loads((CHECKED_IN / name).read_text(encoding="utf-8"))
    undescribed = [
        f"{model}.{field}"
        for model, node in [("", schema), *schema.get("$defs", {}).items()]
        for field, definition in node.get("properties", {}).items()
        if field not in ("type", "v") and not definition.get("description")
    ]
    assert undescribed == []


def test_a_schema_with_an_id_still_resolves_its_own_definitions() -> None:
    """`$ref: #/$defs/...` is resolved against the URN `$id`: a valid event passes, a wrong nested field fails."""
    schema = json.loads((CHECKED_IN / "dead-letter.v1.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    letter = {
        "type": "dead_letter", "v": 1, "reason_class": "not_json", "errors": [{"path": "", "message": "x"}],
        "source": "water", "topic": "vs.inbound.water", "partition": 0, "offset": 1, "key": None,
        "value_utf8": "{", "value_base64": None, "value_truncated": False, "value_bytes": 1,
        "value_sha256": "0" * 64, "received_at": "2024-03-01T08:30:02Z",
    }  # fmt: skip
    assert not list(validator.iter_errors(letter))
    letter["errors"] = [{"path": ""}]
    assert [e.message for e in validator.iter_errors(letter)] == ["'message' is a required property"]


def test_documented_examples_satisfy_the_creditor_event_schema() -> None:
    schema = json.loads((CHECKED_IN / "creditor-event.v1.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    examples = re.findall(r"^```json\n(.*?)^```$", DOC.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)
    assert examples
    for example in examples:
        errors = [error.message for error in validator.iter_errors(json.loads(example))]
        assert not errors, errors
