"""Intake of one raw creditor message: accept (validated, pseudonymised, keyed) or reject with reasons.

Pure: the caller passes the raw bytes, where they came from, the receive time
(recorded on the dead letter only, never used for a decision) and the stream
time used for the future-dated check.

A dead letter carries the raw message, but with every number that could be a
BSN masked, in the value and in the reasons (`signals.masking`, the one place that
masks), and its size and hash taken after masking (a hash of the original would
give the BSN away by trying all of them); the original stays on the inbound topic
at the dead letter's topic/partition/offset.

Personal data no rule needs stops here (need to know, AVG art. 5 lid 1 c): an
accepted event carries neither the BSN nor its pseudonym nor the birth date. No
rule links households by person; the household key is the address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import get_args

import orjson
from pydantic import ValidationError

from schemas.contract_v1 import CREDITOR_EVENT, CreditorEvent, EventType
from schemas.deadletter_v1 import DeadLetter, FieldError, ReasonClass
from schemas.errors import errors_from_validation
from schemas.household import household_key
from schemas.internal_v1 import AcceptedEvent
from signals.masking import build_dead_letter, mask_bsns

__all__ = ["IntakeLimits", "Origin", "accept", "dead_letter", "mask_bsns", "refused_letter"]

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


def accept(
    raw: bytes | None,
    *,
    origin: Origin,
    stream_time: datetime | None,
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
    return _accepted(event)


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


def _accepted(event: CreditorEvent) -> AcceptedEvent:
    # The BSN and the birth date stop here: no rule uses them (docs/rules.md, "Need to know"),
    # so no pseudonym of the BSN is made either (and no key for one is configured).
    debtor = event.debtor.model_copy(update={"bsn": None, "birth_date": None})
    return AcceptedEvent(
        household_key=household_key(event.address), event=event.model_copy(update={"debtor": debtor})
    )


def _dead(
    raw: bytes | None, origin: Origin, reason: ReasonClass, errors: tuple[FieldError, ...]
) -> DeadLetter:
    # The raw BSN never leaves ingest, not even inside a rejected message or its reasons.
    return build_dead_letter(
        raw,
        reason_class=reason,
        errors=errors,
        source=origin.source,
        topic=origin.topic,
        partition=origin.partition,
        offset=origin.offset,
        key=origin.key,
        received_at=origin.received_at,
    )


def refused_letter(accepted: AcceptedEvent, reason: ReasonClass, message: str, origin: Origin) -> DeadLetter:
    """A valid event the household stage refused (e.g. `household_limit`): the creditor event's JSON as sent on."""
    raw = accepted.event.model_dump_json().encode()
    path = "event_id" if reason == "conflicting_duplicate" else ""  # the field that clashes
    return _dead(raw, origin, reason, (FieldError(path=path, message=message),))


def dead_letter(raw: bytes | None, origin: Origin, exc: ValidationError) -> DeadLetter:
    """A message of our own topics (a clock tick, an internal event) that does not decode."""
    return _dead(raw, origin, "invalid", errors_from_validation(exc))
