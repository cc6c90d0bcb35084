"""No BSN past intake: every dead-letter producer masks the value, the reasons and the key.

Each path's own function is driven with messages that carry an elfproef-valid BSN where a
creditor would put it and where a reason would echo it (an unknown event type, a wrong source,
a CSV cell that is no number).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from pydantic import ValidationError

from connectors.files import parse_row, read_events
from schemas.contract_v1 import bsn_is_valid
from schemas.deadletter_v1 import DeadLetter, FieldError
from schemas.internal_v1 import AcceptedEvent, ClockTick
from signals.intake import IntakeLimits, Origin, accept, dead_letter
from signals.masking import build_dead_letter, mask_bsns, mask_dead_letter, mask_dead_letter_json, mask_text
from streams.cli import ingest_file
from streams.replay.input import PlanOptions, RawRecord, plan
from streams.worker import ingest_http
from tests.unit.contract_examples import event

BSN = "111222333"
OTHER_BSN = "123456782"  # passes the elfproef too
AT = datetime(2026, 9, 1, 12, tzinfo=UTC)
ORIGIN = Origin(source="housing", topic="vs.inbound.housing", partition=0, offset=7, key=None, received_at=AT)


def _no_bsn(letter: DeadLetter | bytes | str) -> None:
    blob = letter.model_dump_json() if isinstance(letter, DeadLetter) else str(letter)
    if isinstance(letter, DeadLetter) and letter.value_base64:
        blob += base64.b64decode(letter.value_base64).decode("latin-1")
    for bsn in (BSN, OTHER_BSN, "1112.22.333", "111 222 333"):
        assert bsn not in blob, blob


def _with_bsn(**overrides: object) -> bytes:
    document = event("debt.opened", debtor={"name": "J. de Vries", "bsn": BSN, "birth_date": "1980-05-17"})
    return orjson.dumps({**document, **overrides})


def test_both_test_numbers_are_bsns() -> None:
    assert bsn_is_valid(BSN)
    assert bsn_is_valid(OTHER_BSN)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("111222333", "*********"),
        ("bsn: 1112.22.333!", "bsn: ****.**.***!"),
        ("111 222 333", "*** *** ***"),
        ("11222335", "********"),  # 011222335 with its leading zero dropped
        ("123456789", "123456789"),  # nine digits, no elfproef: an amount stays readable
        ("1112223330", "1112223330"),  # ten digits: part of a longer number
        ("2026-09-01", "2026-09-01"),  # a date is never a candidate
    ],
)
def test_mask_text_stars_only_what_could_be_a_bsn(text: str, masked: str) -> None:
    assert mask_text(text) == masked
    assert mask_bsns(text.encode()) == masked.encode()


def test_the_ingest_agent_masks_value_reasons_and_key() -> None:
    origin = Origin(**{**ORIGIN.__dict__, "key": OTHER_BSN.encode()})
    letter = accept(_with_bsn(type=OTHER_BSN), origin=origin, stream_time=None, limits=IntakeLimits())
    assert isinstance(letter, DeadLetter)
    assert letter.reason_class == "unknown_type"
    assert "*********" in letter.errors[0].message  # the reason quoted the type: masked
    _no_bsn(letter)


def test_a_dead_letters_hash_is_of_the_masked_value() -> None:
    letter = build_dead_letter(
        _with_bsn(address={"postcode": "0000AA", "house_number": 1}),
        reason_class="invalid",
        errors=(),
        source="housing",
        topic="t",
        partition=0,
        offset=0,
        key=None,
        received_at=AT,
    )
    assert letter.value_utf8 is not None
    assert letter.value_sha256 is not None
    assert hashlib.sha256(letter.value_utf8.encode()).hexdigest() == letter.value_sha256


def test_a_message_that_is_not_utf8_is_masked_before_base64() -> None:
    raw = b"\xff" + _with_bsn()
    letter = accept(raw, origin=ORIGIN, stream_time=None, limits=IntakeLimits())
    assert isinstance(letter, DeadLetter)
    assert letter.value_base64 is not None
    _no_bsn(letter)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
def test_a_message_in_utf16_or_utf32_is_masked_too(encoding: str) -> None:
    # A Windows export ("Unicode text") writes every digit with NUL bytes around it.
    raw = _with_bsn().decode().encode(encoding)
    letter = accept(raw, origin=ORIGIN, stream_time=None, limits=IntakeLimits())
    assert isinstance(letter, DeadLetter)
    carried = letter.value_utf8.encode() if letter.value_utf8 is not None else b""
    carried += base64.b64decode(letter.value_base64 or "")
    assert BSN not in carried.decode(encoding, "replace"), carried
    assert mask_bsns(raw).decode(encoding) == raw.decode(encoding).replace(BSN, "*********")
    other_numbers = "ref 12345678901, amount 123456789 (no elfproef), 1112.22.333".encode(encoding)
    assert (
        mask_bsns(other_numbers).decode(encoding)
        == "ref 12345678901, amount 123456789 (no elfproef), ****.**.***"
    )


def test_an_archived_letter_carrying_utf16_text_is_masked_on_replay() -> None:
    # UTF-16 without a byte order mark is valid UTF-8: an older version kept it as text, unmasked.
    letter = accept(b"\xff", origin=ORIGIN, stream_time=None, limits=IntakeLimits())
    assert isinstance(letter, DeadLetter)
    old = letter.model_copy(
        update={"value_utf8": _with_bsn().decode().encode("utf-16-le").decode(), "value_base64": None}
    )
    masked = mask_dead_letter(old)
    assert masked.value_utf8 is not None
    assert BSN not in masked.value_utf8.encode().decode("utf-16-le")


def test_a_bad_internal_message_or_tick_is_masked() -> None:
    raw = json.dumps({"kind": "tick", "v": 1, "at": f"bsn {BSN}"}).encode()
    try:
        ClockTick.model_validate_json(raw)
    except ValidationError as exc:
        _no_bsn(dead_letter(raw, ORIGIN, exc))
    else:
        pytest.fail("a BSN is no time")


def test_the_accepted_event_carries_no_bsn_pseudonym_or_birth_date() -> None:
    accepted = accept(_with_bsn(), origin=ORIGIN, stream_time=None, limits=IntakeLimits())
    assert isinstance(accepted, AcceptedEvent)
    assert accepted.bsn_pseudonym is None
    assert accepted.event.debtor.bsn is None
    assert accepted.event.debtor.birth_date is None
    assert "1980" not in accepted.model_dump_json()
    assert accepted.event.debtor.name == "J. de Vries"


def test_the_contract_still_accepts_a_birth_date() -> None:
    row = parse_row(_with_bsn(), "housing")
    assert row.ok
    assert row.event is not None
    assert str(row.event.debtor.birth_date) == "1980-05-17"


def test_file_ingest_masks_the_row_and_the_reasons_it_prints(tmp_path: Path) -> None:
    path = tmp_path / "housing.csv"
    path.write_text(
        "event_id,type,source,creditor_id,creditor_name,debt_ref,occurred_at,debtor_name,debtor_bsn,"
        "postcode,house_number,amount_cents\n"
        f"e1,{OTHER_BSN},housing,c,C,d1,2026-09-01T10:00:00+02:00,A,{BSN},1011AB,1,100\n"
        f"e2,debt.opened,housing,c,C,d2,2026-09-01T10:00:00+02:00,A,{BSN},1011AB,1,{OTHER_BSN}x\n"
        f"e3,debt.opened,{OTHER_BSN},c,C,d3,2026-09-01T10:00:00+02:00,A,{BSN},1011AB,1,100\n",
        encoding="utf-8",
    )
    rows = list(read_events(path, "housing"))
    assert [r.reason_class for r in rows] == ["unknown_type", "invalid", "wrong_source"]
    echoed = " ".join(e.message for r in rows for e in r.errors)
    assert OTHER_BSN in echoed  # the reasons do quote the input: that is why they are masked
    for row in rows:
        letter = ingest_file.dead_letter(row, source="housing", path=path)
        _no_bsn(letter)
        _no_bsn(ingest_file.rejection_line(row.line, letter))


def test_http_ingest_answers_without_echoing_a_bsn() -> None:
    with pytest.raises(ingest_http.BadRequest) as refused:
        ingest_http.validate([_with_bsn(type=OTHER_BSN), _with_bsn(source=OTHER_BSN)], "housing")
    assert refused.value.status == 400
    _no_bsn(json.dumps(refused.value.body))


def test_replay_masks_the_dead_letters_it_plans() -> None:
    records = [RawRecord("housing", _with_bsn(type=OTHER_BSN), "file:housing.jsonl", -1, 1, received_at=AT)]
    planned = plan(records, PlanOptions(limits=IntakeLimits(), partitions=4))
    assert len(planned.dead_letters) == 1
    _no_bsn(planned.dead_letters[0].decode())


def test_replay_masks_an_archived_dead_letter_of_an_older_version() -> None:
    raw = _with_bsn(type=OTHER_BSN)
    old = DeadLetter(
        reason_class="unknown_type",
        errors=(FieldError(path="type", message=f"unknown type {OTHER_BSN!r}"),),
        source="housing",
        topic="file:housing.csv",
        partition=-1,
        offset=2,
        key=None,
        value_utf8=raw.decode(),
        value_base64=None,
        value_bytes=len(raw),
        received_at=AT,
    )
    masked = mask_dead_letter_json(old.model_dump_json().encode())
    _no_bsn(masked.decode())
    again = DeadLetter.model_validate_json(masked)
    assert again.value_bytes == len(raw)  # same length: digits starred one for one
    assert mask_dead_letter(again) == again  # idempotent
    _no_bsn(mask_dead_letter_json(b"not a dead letter " + BSN.encode()).decode())


def test_every_dead_letter_is_built_by_the_masking_module() -> None:
    """A new dead-letter producer cannot forget to mask: only signals/masking.py constructs one."""
    root = Path(__file__).parents[2]
    builders = [
        str(path.relative_to(root))
        for room in ("schemas", "signals", "streams", "connectors", "synthetic")
        for path in (root / room).rglob("*.py")
        if "DeadLetter(" in path.read_text(encoding="utf-8").replace("class DeadLetter(", "")
    ]
    assert builders == ["signals/masking.py"]
