"""A state stored by the table before issue 17's fold work still decodes to the same household.

`state_codec_sample_v1.b64` holds the exact bytes `encode_state` wrote (JSON, deflated with the
v1 preset dictionary) for a household of the bench input: four debts with reminders, payments,
gate decisions and an open signal. Whatever the fold's internal representation becomes, a worker
restarted on a table written by that version must read it back unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from datetime import UTC, datetime
from pathlib import Path

import orjson

from signals.state import DEBT_MIGRATION_KEYS
from streams.worker.state_codec import decode_state, encode_state, inflate

STORED = base64.b64decode((Path(__file__).parent / "state_codec_sample_v1.b64").read_text())


def test_a_state_stored_by_the_earlier_version_decodes_to_the_same_household() -> None:
    state = decode_state(STORED)
    assert state.household_key == "1111AB-112"
    assert [(d.source, len(d.amounts), len(d.reminders), len(d.gates)) for d in state.debts] == [
        ("energy", 9, 5, 1),
        ("health", 8, 2, 1),
        ("housing", 1, 0, 0),
        ("water", 8, 6, 1),
    ]
    assert state.open_signal is not None
    assert state.open_signal.number == 8
    assert state.open_signal.raised_at == datetime(2026, 3, 24, 3, 21, 36, tzinfo=UTC)
    assert (state.signals_raised, len(state.seen), len(state.signalled)) == (8, 26, 3)
    # Every field as it was stored: the decoded state's JSON is the one pinned here.
    digest = hashlib.sha256(state.model_dump_json().encode()).hexdigest()
    assert digest == "81f36b76d15a442362309a540b9972393a88148fe3c48da9526db030518434d3"


def test_the_decoded_state_is_written_back_identically() -> None:
    state = decode_state(STORED)
    assert decode_state(encode_state(state)) == state
    assert inflate(encode_state(state)) == inflate(STORED)
    assert [g.outcome for d in state.debts for g in d.gates] == ["permitted", "permitted", "permitted"]


def test_a_debt_stored_in_the_shape_before_episodes_and_pseudonym_removal_is_still_migrated() -> None:
    current = orjson.loads(inflate(STORED))
    old_debt = {k: v for k, v in current["debts"][0].items() if k != "gates"}
    (gate,) = current["debts"][0]["gates"]
    old_debt |= {
        "bsn_pseudonym": "pseudo-1",
        "gate": gate["outcome"],
        "gate_at": gate["at"],
        "max_costs_cents": gate["max_costs_cents"],
        "costs_avoided_cents": gate["costs_avoided_cents"],
    }
    old = orjson.dumps(current | {"debts": [old_debt, *current["debts"][1:]]})
    # The shape's keys are what sends a state through the debts' migrations.
    assert any(key in old for key in DEBT_MIGRATION_KEYS)
    assert not any(key in inflate(STORED) for key in DEBT_MIGRATION_KEYS)
    assert decode_state(zlib.compress(old)) == decode_state(STORED)
