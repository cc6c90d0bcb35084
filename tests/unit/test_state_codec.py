"""Stored household states: round trip, older encodings, the frozen dictionary."""

from __future__ import annotations

import zlib

import pytest

from signals.overview import HouseholdState
from streams.worker.state_codec import DICTIONARY_V1, StateCodecError, decode_state, encode_state, inflate
from tests.unit.factories import at, event, fold


def _state() -> HouseholdState:
    return fold(
        event("debt.opened", event_id="o1"),
        event("payment.received", occurred_at=at(3), paid_cents=1000, event_id="p1"),
        event("debt.opened", source="energy", debt_ref="E1", occurred_at=at(4), event_id="o2"),
    )


def test_a_state_round_trips_and_takes_far_fewer_bytes_than_plain_zlib() -> None:
    state = _state()
    raw = encode_state(state)
    assert decode_state(raw) == state
    plain = zlib.compress(state.model_dump_json().encode(), 1)
    # The dictionary holds the field names every state repeats.
    assert len(raw) < 0.75 * len(plain)


def test_states_stored_by_earlier_versions_without_a_dictionary_still_decode() -> None:
    state = _state()
    old = zlib.compress(state.model_dump_json().encode(), 1)
    assert decode_state(old) == state


def test_a_state_naming_an_unknown_dictionary_is_refused_with_its_id() -> None:
    other = b'{"v":1,"household_key":"another dictionary"}'
    packer = zlib.compressobj(1, zlib.DEFLATED, 12, 4, zdict=other)
    raw = packer.compress(b'{"v":1}') + packer.flush()
    with pytest.raises(StateCodecError, match=f"{zlib.adler32(other):#010x}"):
        inflate(raw)


def test_the_v1_dictionary_never_changes() -> None:
    # Stored states name it by this checksum: editing it would make every stored state
    # unreadable. Add a DICTIONARY_V2 beside it instead.
    assert zlib.adler32(DICTIONARY_V1) == 0x14D75D2A
