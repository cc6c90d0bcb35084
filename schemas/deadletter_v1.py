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
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldError(_Model):
    """One problem: where in the message (dotted path, empty for the whole) and what."""

    path: str
    message: str


class DeadLetter(_Model):
    """A message the pipeline could not accept, with every reason; its BSN-like numbers starred.

    The value is the rejected message with every number that could be a BSN masked
    (signals/masking.py), at most its first 256 KiB; `value_bytes` and `value_sha256` are
    of the whole masked message. The original stays at `topic`/`partition`/`offset`.
    """

    type: Literal["dead_letter"] = "dead_letter"
    v: Literal[1] = 1
    reason_class: ReasonClass
    errors: tuple[FieldError, ...]
    source: str
    topic: str
    partition: int
    offset: int
    key: str | None
    value_utf8: str | None
    value_base64: str | None
    # A value too large to carry whole keeps its first bytes, its size and its
    # hash; the original stays at topic/partition/offset.
    value_truncated: bool = False
    value_bytes: int | None = None
    value_sha256: str | None = None
    received_at: AwareDatetime


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
