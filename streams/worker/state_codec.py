"""How a household state is stored in the table: its JSON, deflated with a preset dictionary.

Memory per tracked household is the state store's biggest cost, and most of a small
state's JSON is the same field names and shapes in every household. Deflate can start
from a preset dictionary holding them (RFC 1950, FDICT): a one-debt state then takes
about half the bytes of plain zlib, a three-event one ~45% fewer (`make bench`,
README "Performance"). The dictionary is a skeleton of the state's JSON with empty
values, so it holds no data of anyone.

Stored states name their dictionary by its Adler-32 in the zlib header, so a
dictionary is never changed: a better one is added beside it (and used for new
writes) while the old one keeps decoding what is stored. Plain zlib without a
dictionary (how states were stored before) still decodes too.
"""

from __future__ import annotations

import zlib
from typing import Any

from pydantic_core import SchemaValidator

from signals.overview import HouseholdState
from signals.state import DEBT_MIGRATION_KEYS, DEBT_MIGRATIONS
from streams.errors import StreamsError

__all__ = ["DICTIONARY_V1", "StateCodecError", "decode_state", "encode_state", "inflate"]


class StateCodecError(StreamsError, ValueError):
    """A stored state that this version cannot read."""


# Frozen (see the module docstring); tests/unit/test_state_codec.py pins its checksum.
# Rarer strings first: deflate codes nearer (later) matches in fewer bits.
DICTIONARY_V1 = (
    b'"source":"energy","source":"water","source":"health","source":"cjib","status":"closed",'
    b'"close_reason":"paid","gate":"avoided","fine_kind":"wahv","kind":"above_scale","crisis":true,'
    b'"charges":[{"at":"2026-01-01T00:00:00Z","event_id":"","cents":0}],'
    b'"supply_endings":[{"at":"2026-01-01T00:00:00Z","event_id":"","supply_end_date":"2026-01-01"}],'
    b'"violations":[{"type":"cost_violation","v":1,"violation_id":"violation-","household_key":"",'
    b'"debt":{"source":"housing","creditor_id":"","debt_ref":""},"kind":"before_pay_by","charged_cents":0,'
    b'"permitted_cents":0,"occurred_at":"2026-01-01T00:00:00Z"}],'
    b'{"v":1,"household_key":"","as_of":"2026-01-01T00:00:00Z","debts":[{"source":"housing","creditor_id":"",'
    b'"debt_ref":"","creditor_name":"","contact":{"name":"","phone":null,"email":null,"street":null,'
    b'"house":"","postcode":"","city":null},"bsn_pseudonym":null,"last_event_at":"2026-01-01T00:00:00Z",'
    b'"last_event_id":"","amounts":[{"at":"2026-01-01T00:00:00Z","event_id":"","amount_cents":0}],'
    b'"terms":[{"at":"2026-01-01T00:00:00Z","event_id":"","due_date":"2026-01-01",'
    b'"monthly_amount_cents":null,"fine_kind":null,"opening":true}],'
    b'"statuses":[{"at":"2026-01-01T00:00:00Z","event_id":"","status":"open","paused_until":null,'
    b'"close_reason":null}],"reminders":[{"at":"2026-01-01T00:00:00Z","event_id":"reminder-","kind":"free",'
    b'"sent_on":"2026-01-01","term_days":14,"issued_by":"pipeline","amount_cents":0}],"charges":[],'
    b'"payments":[{"at":"2026-01-01T00:00:00Z","event_id":"","cents":0}],"supply_endings":[],'
    b'"gate":"pending","gate_at":null,"max_costs_cents":null,"costs_avoided_cents":0,"judged_charges":[]}],'
    b'"seen":[{"dedup_key":"housing|","at":"2026-01-01T00:00:00Z"}],"open_signal":{"signal_id":"signal-",'
    b'"raised_at":"2026-01-01T00:00:00Z","team_id":"schuldhulp-"},"last_signal_at":null,"signals_raised":0,'
    b'"signalled":[{"source":"housing","creditor_id":"","cents":0,"crisis":false}],"violations":[],'
    b'"pending_violations":[]}'
)
_DICTIONARIES = {zlib.adler32(DICTIONARY_V1): DICTIONARY_V1}
_CURRENT = DICTIONARY_V1
# Level 1, a 4 KiB window and small hash tables: a state is a few KB, so this packs as
# well as zlib's defaults and about six times faster (most of `zlib.compress` was
# setting up its 256 KiB of tables). Deterministic: a replay writes identical changelogs.
_LEVEL, _WINDOW_BITS, _MEM_LEVEL = 1, 12, 4
_FDICT = 0x20  # in the zlib header's second byte: a dictionary id follows


def encode_state(state: HouseholdState) -> bytes:
    """The bytes the table holds for a state."""
    packer = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WINDOW_BITS, _MEM_LEVEL, zdict=_CURRENT)
    return packer.compress(state.model_dump_json().encode()) + packer.flush()


def decode_state(raw: bytes) -> HouseholdState:
    """The state from the bytes the table holds (any dictionary ever used, or none)."""
    text = inflate(raw)
    if _CURRENT_SHAPE is None or any(key in text for key in DEBT_MIGRATION_KEYS):
        return HouseholdState.model_validate_json(text)
    return _CURRENT_SHAPE.validate_json(text)


# Decoding without the debts' migrations of older stored shapes. `DebtState` migrates a debt
# stored before issue 15 (its BSN pseudonym) or before arrears episodes (one `gate` per debt) in
# "before" validators; pydantic then turns every debt's JSON into Python objects first and
# validates those, which took half of a state's decoding. A state whose JSON has neither key
# (everything this version writes) is validated by the same schema without those two steps: the
# same models and checks, the same result. Anything else takes the full path, so old states
# still decode as before (tests/unit/test_state_codec_sample.py, test_state_codec.py).
def _current_shape_validator() -> SchemaValidator | None:
    migrations = set(DEBT_MIGRATIONS)
    stripped = 0

    def strip(node: Any) -> Any:
        nonlocal stripped
        if isinstance(node, dict):
            function = node.get("function")
            if (
                node.get("type") == "function-before"
                and isinstance(function, dict)
                and function.get("function") in migrations
            ):
                stripped += 1
                return strip(node["schema"])
            return {key: strip(value) for key, value in node.items()}
        if isinstance(node, list):
            return [strip(value) for value in node]
        return node

    schema = strip(HouseholdState.__pydantic_core_schema__)
    # Exactly the two migrations found (a pydantic that lays its schema out otherwise: the full path).
    return SchemaValidator(schema) if stripped == len(migrations) else None


_CURRENT_SHAPE = _current_shape_validator()


def inflate(raw: bytes) -> bytes:
    """A stored state's JSON."""
    if len(raw) < 6 or not raw[1] & _FDICT:
        return zlib.decompress(raw)
    dictionary_id = int.from_bytes(raw[2:6], "big")
    dictionary = _DICTIONARIES.get(dictionary_id)
    if dictionary is None:
        raise StateCodecError(
            f"stored state uses unknown dictionary {dictionary_id:#010x} (a newer version?)"
        )
    unpacker = zlib.decompressobj(zdict=dictionary)
    return unpacker.decompress(raw) + unpacker.flush()
