"""Contract properties: valid events round-trip; a damaged message fails only as a ValidationError."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from connectors.files import parse_row
from schemas.contract_v1 import CREDITOR_EVENT
from schemas.deadletter_v1 import FieldError
from schemas.errors import errors_from_validation
from tests.unit.contract_examples import valid_events

_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(document: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for key, value in document.items():
        paths.append((*prefix, key))
        if isinstance(value, dict):
            paths.extend(_paths(value, (*prefix, key)))
    return paths


def _parent(document: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for part in path[:-1]:
        document = document[part]
    return document


@st.composite
def damaged_messages(draw: st.DrawFn) -> bytes:
    """A valid event with one mutation applied, serialised; or bytes that were never an event."""
    document = copy.deepcopy(draw(valid_events()))
    mutation = draw(st.sampled_from(["drop", "retype", "extra", "truncate", "random"]))
    if mutation == "random":
        return draw(st.binary(max_size=200))
    path = draw(st.sampled_from(_paths(document)))
    parent = _parent(document, path)
    if mutation == "drop":
        del parent[path[-1]]
    elif mutation == "retype":
        parent[path[-1]] = draw(json_values)
    elif mutation == "extra":
        parent[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
    encoded = json.dumps(document, ensure_ascii=draw(st.booleans())).encode("utf-8")
    if mutation == "truncate":
        return encoded[: draw(st.integers(0, len(encoded) - 1))]
    return encoded


@_SETTINGS
@given(valid_events())
def test_valid_events_round_trip_through_json(document: dict[str, Any]) -> None:
    parsed = CREDITOR_EVENT.validate_json(json.dumps(document))
    assert parsed.type == document["type"]
    assert CREDITOR_EVENT.validate_json(parsed.model_dump_json()) == parsed
    assert CREDITOR_EVENT.validate_json(CREDITOR_EVENT.dump_json(parsed)) == parsed


@_SETTINGS
@given(damaged_messages())
def test_damaged_messages_are_accepted_or_rejected_with_field_errors(raw: bytes) -> None:
    try:
        CREDITOR_EVENT.validate_json(raw)
    except ValidationError as exc:
        errors = errors_from_validation(exc)
        assert errors
        assert all(isinstance(error, FieldError) and error.message for error in errors)


@_SETTINGS
@given(damaged_messages())
def test_file_rows_of_damaged_messages_carry_errors_or_an_event(raw: bytes) -> None:
    row = parse_row(raw, "housing", line=1)
    assert (row.event is None) == bool(row.errors)
    assert (row.event is None) == (row.reason_class is not None)
