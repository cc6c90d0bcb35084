"""No BSN past intake: one place masks every number that could be a BSN in what leaves ingest.

Every dead letter, on every path (ingest agent, file ingest, replay; HTTP ingest answers
with the same masked reasons), is built by `build_dead_letter` or passed through
`mask_dead_letter`, so its raw value, its reason texts (a validation message can echo the
input), its key and its topic carry no BSN. Log lines that quote a rejected message use
`mask_text`.

A BSN here is nine digits passing the elfproef, also written in groups (``1112.22.333``,
``111 222 333``) or with its leading zero dropped (eight digits, as a spreadsheet or an
integer column keeps it). Masking a number that only looks like a BSN costs a few digits
of a rejected message; letting a BSN through cannot be undone.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Iterable
from datetime import datetime

from pydantic import ValidationError

from schemas.contract_v1 import bsn_is_valid
from schemas.deadletter_v1 import MAX_CARRIED_BYTES, DeadLetter, FieldError, ReasonClass, raw_fields

__all__ = [
    "build_dead_letter",
    "mask_bsns",
    "mask_dead_letter",
    "mask_dead_letter_json",
    "mask_errors",
    "mask_text",
]

# Nine digits, each but the last optionally followed by one separator, or eight plain digits; never
# part of a longer number. (Eight digits with separators would be every ISO date.)
_CANDIDATE = r"(?<![0-9])(?:[0-9](?:[ .\-]?[0-9]){8}|[0-9]{8})(?![0-9])"
_TEXT = re.compile(_CANDIDATE)
_BYTES = re.compile(_CANDIDATE.encode())
_SEPARATORS = str.maketrans("", "", " .-")


def _wide(pad: int, big_endian: bool) -> re.Pattern[bytes]:
    """`_CANDIDATE` for text in UTF-16 (pad 1) or UTF-32 (pad 3): every character with NUL bytes beside it."""

    def char(cls: bytes) -> bytes:
        zeros = b"\x00" * pad
        return zeros + cls if big_endian else cls + zeros

    digit, sep = char(b"[0-9]"), char(b"[ .\\-]")
    nine = digit + b"(?:(?:" + sep + b")?" + digit + b"){8}"
    return re.compile(b"(?<!" + digit + b")(?:" + nine + b"|(?:" + digit + b"){8})(?!" + digit + b")")


# A creditor's Windows export ("Unicode text") is UTF-16: its digits are no ASCII run of bytes.
_WIDE = tuple(
    (_wide(pad, big), encoding)
    for pad, big, encoding in (
        (1, False, "utf-16-le"),
        (1, True, "utf-16-be"),
        (3, False, "utf-32-le"),
        (3, True, "utf-32-be"),
    )
)


def _is_bsn(candidate: str) -> bool:
    digits = candidate.translate(_SEPARATORS)
    return bsn_is_valid(digits.rjust(9, "0"))


def _star_digits(candidate: str) -> str:
    return "".join("*" if c.isdigit() else c for c in candidate)


def mask_text(text: str) -> str:
    """Every BSN-like number of a text with its digits starred; other numbers stay.

    >>> mask_text("bsn 111222333, 1112.22.333 and 11222335 (leading zero dropped); amount 123456789")
    'bsn *********, ****.**.*** and ******** (leading zero dropped); amount 123456789'
    """
    return _TEXT.sub(lambda m: _star_digits(m.group()) if _is_bsn(m.group()) else m.group(), text)


def mask_bsns(raw: bytes) -> bytes:
    """`mask_text` for raw bytes: any encoding that writes digits as ASCII, UTF-16 and UTF-32 too.

    >>> mask_bsns(b'{"bsn": "111222333", "amount_cents": 123456789}')
    b'{"bsn": "*********", "amount_cents": 123456789}'
    """

    def star(m: re.Match[bytes], encoding: str = "ascii") -> bytes:
        found = m.group().decode(encoding)
        return _star_digits(found).encode(encoding) if _is_bsn(found) else m.group()

    masked = _BYTES.sub(star, raw)
    if b"\x00" in masked:  # UTF-16 or UTF-32 text (a NUL byte never occurs in UTF-8 JSON or CSV)
        for pattern, encoding in _WIDE:
            masked = pattern.sub(functools.partial(star, encoding=encoding), masked)
    return masked


def mask_errors(errors: Iterable[FieldError]) -> tuple[FieldError, ...]:
    """Reasons with their BSNs masked (a validation message can quote the input).

    >>> mask_errors([FieldError(path="type", message="Input tag '111222333' does not match")])
    (FieldError(path='type', message="Input tag '*********' does not match"),)
    """
    return tuple(FieldError(path=mask_text(e.path), message=mask_text(e.message)) for e in errors)


def build_dead_letter(
    raw: bytes | None,
    *,
    reason_class: ReasonClass,
    errors: tuple[FieldError, ...],
    source: str,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    received_at: datetime,
) -> DeadLetter:
    """The dead letter of a rejected message, masked; size and hash are of the masked value.

    A hash of the original would give the BSN away (there are only a few hundred million to
    try); the original stays where it came from (topic/partition/offset).
    """
    masked = mask_bsns(raw) if raw is not None else None
    text, b64 = raw_fields(masked)
    letter = DeadLetter(
        value_truncated=masked is not None and len(masked) > MAX_CARRIED_BYTES,
        value_bytes=len(masked) if masked is not None else None,
        value_sha256=hashlib.sha256(masked).hexdigest() if masked is not None else None,
        reason_class=reason_class,
        errors=errors,
        source=source,
        topic=topic,
        partition=partition,
        offset=offset,
        key=key.decode("utf-8", "replace") if key is not None else None,
        value_utf8=text,
        value_base64=b64,
        received_at=received_at,
    )
    return mask_dead_letter(letter)


def mask_dead_letter(letter: DeadLetter) -> DeadLetter:
    """The same dead letter with every text field masked (idempotent: a masked letter stays as it is).

    For a letter not built here (an archive of an older version): when masking changes its
    value, its size and hash are taken anew, or dropped when only a truncated value is left.
    """
    value_utf8 = letter.value_utf8
    if value_utf8 is not None:  # as bytes: UTF-16 without a byte order mark is valid UTF-8 too
        value_utf8 = mask_bsns(value_utf8.encode("utf-8", "surrogatepass")).decode("utf-8", "surrogatepass")
    value_base64 = letter.value_base64
    if value_base64 is not None:
        value_base64 = base64.b64encode(mask_bsns(base64.b64decode(value_base64))).decode("ascii")
    update: dict[str, object] = {
        "errors": mask_errors(letter.errors),
        "key": mask_text(letter.key) if letter.key is not None else None,
        "topic": mask_text(letter.topic),
        "source": mask_text(letter.source),
        "value_utf8": value_utf8,
        "value_base64": value_base64,
    }
    if (value_utf8, value_base64) != (letter.value_utf8, letter.value_base64):
        carried = value_utf8.encode() if value_utf8 is not None else base64.b64decode(value_base64 or "")
        whole = not letter.value_truncated
        update["value_bytes"] = len(carried) if whole else letter.value_bytes
        update["value_sha256"] = hashlib.sha256(carried).hexdigest() if whole else None
    return letter.model_copy(update=update)


def mask_dead_letter_json(value: bytes) -> bytes:
    """A dead letter as stored on a topic or in an archive, masked; bytes that are no dead letter masked as bytes."""
    try:
        letter = DeadLetter.model_validate_json(value)
    except ValidationError:
        return mask_bsns(value)
    masked = mask_dead_letter(letter)
    return value if masked == letter else masked.model_dump_json().encode()
