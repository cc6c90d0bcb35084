"""Deterministic output ids: the same inputs give the same id on every replay."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

__all__ = ["stable_id"]

# Unit separator: cannot occur in keys, refs or ISO timestamps, so parts never run together.
_SEP = "\x1f"


def _part(value: object) -> str:
    if isinstance(value, datetime):
        # Normalise the zone so a UTC datetime read back from JSON hashes the same.
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return "|".join(_part(item) for item in value)
    return str(value)


def stable_id(prefix: str, *parts: object) -> str:
    """`prefix-` plus 32 hex digits of sha256 over the parts; used for every effect id.

    >>> stable_id("signal", "1011AB-12", datetime(2024, 1, 1, tzinfo=UTC))
    'signal-689802c836c6a93258840b17956e44d8'
    """
    payload = _SEP.join([prefix, *(_part(part) for part in parts)])
    return f"{prefix}-{hashlib.sha256(payload.encode()).hexdigest()[:32]}"
