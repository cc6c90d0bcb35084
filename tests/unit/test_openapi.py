"""docs/openapi.json: a valid OpenAPI 3.1 document, the one the code generates, true to the models."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from schemas.contract_v1 import SOURCES
from streams.worker.openapi import API_VERSION, DOCUMENT_PATH, document, document_bytes
from streams.worker.problem import problem_body
from tests.unit.contract_examples import event

DOC = document()


def _validator(name_or_schema: str | dict[str, Any]) -> OAS31Validator:
    """A validator for a component schema (by name) or an inline one, its $refs resolved in the document."""
    schema = name_or_schema
    if isinstance(schema, str):
        schema = {"$ref": f"#/components/schemas/{schema}"}
    return OAS31Validator(schema | {"components": DOC["components"]})  # '#/components/...' resolves


def test_the_document_is_valid_openapi_3_1() -> None:
    validate(DOC)
    assert DOC["openapi"] == "3.1.0"
    assert DOC["info"]["version"] == API_VERSION


def test_the_checked_in_document_is_the_generated_one() -> None:
    # On a difference: python -m streams.worker.openapi, then review and commit docs/openapi.json.
    assert DOCUMENT_PATH.read_bytes() == document_bytes()


def test_every_endpoint_says_its_bearer_token_and_answers_errors_as_problems() -> None:
    for path, operations in DOC["paths"].items():
        for method, operation in operations.items():
            if path in ("/healthz", "/readyz"):
                assert operation["security"] == []
                continue
            assert operation["security"], f"{method} {path}"
            errors = {s: r for s, r in operation["responses"].items() if s.startswith(("4", "5"))}
            assert {"401", "503"} <= set(errors), f"{method} {path}"
            for answer in errors.values():
                assert list(answer["content"]) == ["application/problem+json"], f"{method} {path}"


def test_ingest_lists_every_source_and_takes_one_event_or_an_array() -> None:
    ingest = DOC["paths"]["/v1/ingest/{source}"]["post"]
    assert ingest["parameters"][0]["schema"]["enum"] == list(SOURCES)
    body = _validator(ingest["requestBody"]["content"]["application/json"]["schema"])
    one = event()
    body.validate(one)
    body.validate([one, event("payment.received")])
    with pytest.raises(ValidationError):
        body.validate([])
    with pytest.raises(ValidationError):
        body.validate({**one, "type": "debt.forgotten"})


def test_the_problems_the_code_answers_match_their_schemas() -> None:
    item = {"index": 0, "reason_class": "invalid", "errors": [{"path": "debtor.bsn", "message": "no BSN"}]}
    _validator("IngestProblem").validate(problem_body(400, "nothing was published", accepted=0, items=[item]))
    _validator("TeamProblem").validate(problem_body(400, "Kies een soort.", in_dutch=True, field="soort"))
    _validator("UnavailableProblem").validate(problem_body(503, "try again", unavailable="broker"))
    with pytest.raises(ValidationError):
        _validator("Problem").validate({"error": "the old shape"})


def test_team_problems_have_a_dutch_title_and_the_others_an_english_one() -> None:
    assert problem_body(404, "Deze zaak bestaat niet.", in_dutch=True)["title"] == "Niet gevonden"
    assert problem_body(404, "unknown source 'gas'")["title"] == "Not Found"
