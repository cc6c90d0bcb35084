"""Intake of one raw creditor message: accept (validated, pseudonymised, keyed) or reject with reasons.

Pure: the caller passes the raw bytes, where they came from, the receive time
(recorded on the dead letter only, never used for a decision) and the stream
time used for the future-dated check.

A dead letter carries the raw message, but with every number that could be a
BSN (nine digits passing the elfproef) masked, and its size and hash taken after
masking (a hash of the original would give the BSN away by trying all of them);
the original stays on the inbound topic at the dead letter's topic/partition/offset.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import get_args

import orjson
from pydantic import ValidationError

from schemas.contract_v1 import CREDITOR_EVENT, CreditorEvent, EventType, bsn_is_valid
from schemas.deadletter_v1 import MAX_CARRIED_BYTES, DeadLetter, FieldError, ReasonClass, raw_fields
from schemas.errors import errors_from_validation
from schemas.household import household_key
from schemas.internal_v1 import AcceptedEvent

# Every type of the contract (v1.1 added contact.attempted): one list, the contract's.
_EVENT_TYPES = frozenset(get_args(EventType))


@dataclass(frozen=True, kw_only=True)
class Origin:
    """Where a raw message came from, for the dead-letter envelope."""

    source: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    received_at: datetime


@dataclass(frozen=True, kw_only=True)
class IntakeLimits:
    """Bounds on what is accepted."""

    max_message_bytes: int = 1_048_576
    future_tolerance: timedelta = timedelta(days=1)


_BSN_LIKE = re.compile(rb"(?<![0-9])[0-9]{9}(?![0-9])")


def mask_bsns(raw: bytes) -> bytes:
    """Mask every nine-digit number that passes the elfproef; other numbers stay as they are.

    >>> mask_bsns(b'{"bsn": "111222333", "amount_cents": 123456789}')
    b'{"bsn": "*********", "amount_cents": 123456789}'
    """
    return _BSN_LIKE.sub(lambda m: b"*********" if bsn_is_valid(m.group().decode()) else m.group(), raw)


def pseudonymise_bsn(bsn: str, key: bytes) -> str:
    """Keyed HMAC-SHA256 of a BSN, hex: stable per key, not reversible without it.

    >>> pseudonymise_bsn("111222333", b"k")[:12]
    'a639d4aa0001'
    """
    return hmac.new(key, bsn.encode("ascii"), hashlib.sha256).hexdigest()


def accept(
    raw: bytes | None,
    *,
    origin: Origin,
    stream_time: datetime | None,
    pseudonym_key: bytes,
    limits: IntakeLimits,
) -> AcceptedEvent | DeadLetter:
    """Validate one raw message; an invalid one becomes a dead letter with every reason."""
    rejected = _precheck(raw, origin, limits)
    if rejected is not None:
        return rejected
    assert raw is not None
    try:
        event = CREDITOR_EVENT.validate_json(raw)
    except ValidationError as exc:
        return _dead(raw, origin, "invalid", errors_from_validation(exc))
    if event.source != origin.source:
        msg = f"source {event.source!r} does not match where it arrived ({origin.source!r})"
        return _dead(raw, origin, "wrong_source", (FieldError(path="source", message=msg),))
    if stream_time is not None and event.occurred_at > stream_time + limits.future_tolerance:
        msg = f"occurred_at {event.occurred_at.isoformat()} is more than {limits.future_tolerance} ahead of stream time {stream_time.isoformat()}"
        return _dead(raw, origin, "future_dated", (FieldError(path="occurred_at", message=msg),))
    return _accepted(event, pseudonym_key)


def _precheck(raw: bytes | None, origin: Origin, limits: IntakeLimits) -> DeadLetter | None:
    if raw is None:
        return _dead(raw, origin, "not_json", (FieldError(path="", message="message has no value"),))
    if len(raw) > limits.max_message_bytes:
        msg = f"message is {len(raw)} bytes, more than the {limits.max_message_bytes} allowed"
        return _dead(raw, origin, "too_large", (FieldError(path="", message=msg),))
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return _dead(raw, origin, "not_json", (FieldError(path="", message=f"not JSON: {exc}"),))
    if not isinstance(parsed, dict):
        return _dead(raw, origin, "invalid", (FieldError(path="", message="must be a JSON object"),))
    kind = parsed.get("type")
    # A list or object here is unhashable: the membership test itself would raise and crash ingest.
    if not isinstance(kind, str) or kind not in _EVENT_TYPES:
        msg = f"unknown type {kind!r}; expected one of {', '.join(sorted(_EVENT_TYPES))}"
        return _dead(raw, origin, "unknown_type", (FieldError(path="type", message=msg),))
    return None


def _accepted(event: CreditorEvent, pseudonym_key: bytes) -> AcceptedEvent:
    pseudonym = pseudonymise_bsn(event.debtor.bsn, pseudonym_key) if event.debtor.bsn else None
    # The raw BSN stops here: the internal topic only ever carries the pseudonym.
    clean = event.model_copy(update={"debtor": event.debtor.model_copy(update={"bsn": None})})
    return AcceptedEvent(household_key=household_key(event.address), bsn_pseudonym=pseudonym, event=clean)


def _dead(
    raw: bytes | None, origin: Origin, reason: ReasonClass, errors: tuple[FieldError, ...]
) -> DeadLetter:
    # The raw BSN never leaves ingest, not even inside a rejected message.
    raw = mask_bsns(raw) if raw is not None else None
    text, b64 = raw_fields(raw)
    key = origin.key.decode("utf-8", "replace") if origin.key is not None else None
    truncated = raw is not None and len(raw) > MAX_CARRIED_BYTES
    return DeadLetter(
        value_truncated=truncated,
        value_bytes=len(raw) if raw is not None else None,
        value_sha256=hashlib.sha256(raw).hexdigest() if raw is not None else None,
        reason_class=reason,
        errors=errors,
        source=origin.source,
        topic=origin.topic,
        partition=origin.partition,
        offset=origin.offset,
        key=key,
        value_utf8=text,
        value_base64=b64,
        received_at=origin.received_at,
    )


def dead_letter(raw: bytes | None, origin: Origin, exc: ValidationError) -> DeadLetter:
    """A message of our own topics (a clock tick, an internal event) that does not decode."""
    return _dead(raw, origin, "invalid", errors_from_validation(exc))
