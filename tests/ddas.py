"""The official DDAS Uitwisselmodel v1.2 JSON Schema, from the shared/ folder beside the repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

# CI runs on a clone with a copy of shared/ beside it: <repo>/../shared/ddas.
SCHEMA = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "ddas" / "json_schema_Uitwisselmodel.v1.2.json"
)


def ddas_validator() -> Draft202012Validator:
    """A 2020-12 validator with format checking on; skips the test when the schema is absent."""
    if not SCHEMA.is_file():
        pytest.skip(f"the DDAS schema is not at {SCHEMA.resolve()} (shared/ddas beside the repository)")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def ddas_errors(document: Any) -> list[str]:
    """Every schema violation of a document, as readable lines (empty when it is valid)."""
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in ddas_validator().iter_errors(document)
    ]
