"""`accept` answers every message with an accepted event or a dead letter; it never raises.

An exception in ingest exits the worker (code 70) and the restart reads the same message
again: one poisonous message would stop the pipeline for good.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.deadletter_v1 import DeadLetter
from schemas.internal_v1 import AcceptedEvent
from signals.intake import IntakeLimits, Origin, accept

_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_ORIGIN = Origin(
    source="water", topic="vs.inbound.water", partition=0, offset=0, key=None, received_at=datetime.now(UTC)
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _accept(raw: bytes | None) -> Any:
    return accept(raw, origin=_ORIGIN, stream_time=None, limits=IntakeLimits())


@_SETTINGS
@given(kind=json_values, rest=st.dictionaries(st.text(max_size=8), json_values, max_size=4))
def test_any_type_value_gives_a_dead_letter_or_an_event(kind: Any, rest: dict[str, Any]) -> None:
    assert isinstance(_accept(json.dumps({**rest, "type": kind}).encode()), AcceptedEvent | DeadLetter)


@_SETTINGS
@given(value=json_values)
def test_any_json_document_gives_a_dead_letter_or_an_event(value: Any) -> None:
    assert isinstance(_accept(json.dumps(value).encode()), AcceptedEvent | DeadLetter)


@_SETTINGS
@given(raw=st.binary(max_size=512))
def test_any_bytes_give_a_dead_letter_or_an_event(raw: bytes) -> None:
    assert isinstance(_accept(raw), AcceptedEvent | DeadLetter)


def test_a_list_as_type_is_an_unknown_type_not_a_crash() -> None:
    letter = _accept(b'{"type": ["debt.opened"], "event_id": "x"}')
    assert isinstance(letter, DeadLetter)
    assert letter.reason_class == "unknown_type"
