"""The dead-letter envelope: a rejected message with every reason and its raw bytes."""

from __future__ import annotations

import base64
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

# household_limit (issue 16): a valid event beyond the household's bounds (signals.limits), refused by the household stage.
# conflicting_duplicate (issue 16): an event_id seen before (same source and creditor) with other content.
ReasonClass = Literal[
    "too_large",
    "not_json",
    "invalid",
    "wrong_source",
    "unknown_type",
    "future_dated",
    "household_limit",
    "conflicting_duplicate",
]


class _Model(BaseModel):
    # Attribute docstrings become the fields' descriptions in the exported JSON Schemas.
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class FieldError(_Model):
    """One problem: where in the message (dotted path, empty for the whole) and what."""

    path: str
    """The dotted field (`debtor.bsn`); empty for the message as a whole."""
    message: str
    """What is wrong; a BSN-like number in it is starred."""


class DeadLetter(_Model):
    """A message the pipeline could not accept, with every reason; its BSN-like numbers starred.

    The value is the rejected message with every number that could be a BSN masked
    (signals/masking.py), at most its first 256 KiB; `value_bytes` and `value_sha256` are
    of the whole masked message. The original stays at `topic`/`partition`/`offset`.
    """

    type: Literal["dead_letter"] = "dead_letter"
    v: Literal[1] = 1
    reason_class: ReasonClass
    """Why, as a class (docs/contract-v1.md "Rejections"); `errors` say what exactly."""
    errors: tuple[FieldError, ...]
    """Every reason the message was rejected for."""
    source: str
    """The source of the channel the message arrived on."""
    topic: str
    """Where the message was read: its topic, or `file:<path>` for a row of a daily file."""
    partition: int
    """Its partition; -1 for a file row."""
    offset: int
    """Its offset; the line number for a file row."""
    key: str | None
    """The message key as text, masked; null when it had none."""
    value_utf8: str | None
    """The masked message (at most its first 256 KiB) when that is UTF-8; else null."""
    value_base64: str | None
    """The masked message (at most its first 256 KiB) in base64 when it is not UTF-8; else null."""
    # A value too large to carry whole keeps its first bytes, its size and its
    # hash; the original stays at topic/partition/offset.
    value_truncated: bool = False
    """True when only the first 256 KiB of the masked message are carried."""
    value_bytes: int | None = None
    """Size in bytes of the whole masked message; null without a value, or in older letters."""
    value_sha256: str | None = None
    """SHA-256 (hex) of the whole masked message; null without a value, or in older letters."""
    received_at: AwareDatetime
    """When the pipeline rejected it (UTC)."""


MAX_CARRIED_BYTES = 256 * 1024


def raw_fields(value: bytes | None) -> tuple[str | None, str | None]:
    """(utf8, base64): the raw value (at most MAX_CARRIED_BYTES of it) as text when it decodes, else base64.

    >>> raw_fields(b'{"a": 1}')
    ('{"a": 1}', None)
    >>> raw_fields(b"\\xff\\x00")
    (None, '/wA=')
    """
    if value is None:
        return None, None
    value = value[:MAX_CARRIED_BYTES]
    try:
        return value.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, base64.b64encode(value).decode("ascii")
