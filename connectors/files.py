"""Read a creditor's daily file (CSV or JSON Lines) as a stream of validated rows.

Reading is the only side effect: the caller decides what to publish and what to
dead-letter. Rows are yielded one at a time, so a file of a million rows streams
in constant memory. Problems with the file as a whole (unknown column, not UTF-8,
unsupported extension) raise `FileFormatError` before the first row is yielded.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from connectors.errors import ConnectorError
from schemas.contract_v1 import CREDITOR_EVENT, SOURCES, CreditorEvent
from schemas.deadletter_v1 import FieldError, ReasonClass
from schemas.errors import errors_from_validation

__all__ = [
    "CSV_COLUMNS",
    "CSV_INTEGER_COLUMNS",
    "CSV_REQUIRED_COLUMNS",
    "FileFormatError",
    "FileRow",
    "parse_row",
    "read_events",
]

_BOM = codecs.BOM_UTF8
_CHUNK_BYTES = 1 << 20

# CSV column -> path in the contract; nested objects are flattened with a prefix.
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "event_id": ("event_id",),
    "type": ("type",),
    "source": ("source",),
    "creditor_id": ("creditor_id",),
    "creditor_name": ("creditor_name",),
    "debt_ref": ("debt_ref",),
    "occurred_at": ("occurred_at",),
    "debtor_name": ("debtor", "name"),
    "debtor_birth_date": ("debtor", "birth_date"),
    "debtor_bsn": ("debtor", "bsn"),
    "debtor_phone": ("debtor", "phone"),
    "debtor_email": ("debtor", "email"),
    "postcode": ("address", "postcode"),
    "house_number": ("address", "house_number"),
    "house_letter": ("address", "house_letter"),
    "house_number_addition": ("address", "house_number_addition"),
    "street": ("address", "street"),
    "city": ("address", "city"),
    "amount_cents": ("amount_cents",),
    "due_date": ("due_date",),
    "monthly_amount_cents": ("monthly_amount_cents",),
    "fine_kind": ("fine_kind",),
    "reminder_kind": ("reminder_kind",),
    "term_days": ("term_days",),
    "costs_cents": ("costs_cents",),
    "paid_cents": ("paid_cents",),
    "reason": ("reason",),
    "supply_end_date": ("supply_end_date",),
    "until": ("until",),
    "channel": ("channel",),
    "pay_by": ("pay_by",),
    "exception": ("exception",),
    "method": ("method",),
    "reached": ("reached",),
}
CSV_INTEGER_COLUMNS = frozenset(
    {"house_number", "amount_cents", "monthly_amount_cents", "term_days", "costs_cents", "paid_cents"}
)
CSV_BOOLEAN_COLUMNS = frozenset({"reached"})
_BOOLEANS = {"true": True, "false": False}
# Columns every event type needs: without one of them no row of the file can be valid.
CSV_REQUIRED_COLUMNS = (
    "event_id",
    "type",
    "source",
    "creditor_id",
    "creditor_name",
    "debt_ref",
    "occurred_at",
    "debtor_name",
    "postcode",
    "house_number",
    "amount_cents",
)
_INTEGER = re.compile(r"[+-]?[0-9]+")


class FileFormatError(ConnectorError, ValueError):
    """The file as a whole cannot be read: no row of it is trustworthy."""


@dataclass(frozen=True, slots=True)
class FileRow:
    """One row of a creditor file: the JSON to publish and why it was rejected, if it was."""

    line: int
    raw: bytes
    errors: tuple[FieldError, ...]
    event: CreditorEvent | None
    reason_class: ReasonClass | None = None

    @property
    def ok(self) -> bool:
        """True when the row is a valid event of the expected source."""
        return self.event is not None


def read_events(path: Path, source: str) -> Iterator[FileRow]:
    """Every non-blank row of a .csv, .jsonl or .json (JSON Lines) file, validated for `source`."""
    if source not in SOURCES:
        raise FileFormatError(f"--source {source!r} is not one of {', '.join(SOURCES)}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, source)
    if suffix in (".jsonl", ".json"):
        return _read_jsonl(path, source)
    raise FileFormatError(f"{path.name}: unsupported file type {suffix or '(none)'}; use .csv or .jsonl")


def parse_row(raw: bytes, source: str, *, line: int = 0) -> FileRow:
    """Validate one JSON event against the contract and the source it was delivered for.

    >>> parse_row(b'{"type": "debt.opened"}', "housing", line=3).errors[0]
    FieldError(path='event_id', message='Field required')
    >>> parse_row(b"{", "housing").reason_class
    'not_json'
    """
    try:
        event = CREDITOR_EVENT.validate_json(raw)
    except ValidationError as exc:
        wrong = _wrong_source(_peek_source(raw), source)
        if wrong is not None:
            return FileRow(line=line, raw=raw, errors=(wrong,), event=None, reason_class="wrong_source")
        return FileRow(
            line=line, raw=raw, errors=errors_from_validation(exc), event=None, reason_class=_reason(exc)
        )
    wrong = _wrong_source(event.source, source)
    if wrong is not None:
        return FileRow(line=line, raw=raw, errors=(wrong,), event=None, reason_class="wrong_source")
    return FileRow(line=line, raw=raw, errors=(), event=event)


def _wrong_source(found: object, expected: str) -> FieldError | None:
    if not isinstance(found, str) or found == expected:
        return None
    return FieldError(
        path="source", message=f"source {found[:32]!r} does not match the delivery's source {expected!r}"
    )


def _peek_source(raw: bytes) -> object:
    try:
        document = json.loads(raw)
    except ValueError:  # includes UnicodeDecodeError and JSONDecodeError
        return None
    return document.get("source") if isinstance(document, dict) else None


def _reason(exc: ValidationError) -> ReasonClass:
    kinds = {detail["type"] for detail in exc.errors(include_url=False, include_input=False)}
    if "json_invalid" in kinds or "json_type" in kinds:
        return "not_json"
    if kinds & {"union_tag_invalid", "union_tag_not_found"}:
        return "unknown_type"
    return "invalid"


def _read_jsonl(path: Path, source: str) -> Iterator[FileRow]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            raw = (line.removeprefix(_BOM) if number == 1 else line).strip()
            if not raw:
                continue
            if number == 1 and (raw.startswith(b"[") or raw == b"{"):
                raise FileFormatError(f"{path.name}: expected JSON Lines, one whole JSON object per line")
            yield parse_row(raw, source, line=number)


def _check_utf8(path: Path) -> None:
    """Fail fast on a file that is not UTF-8, before any of its rows is published."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad_line = line + chunk.count(b"\n", 0, exc.start)
                raise FileFormatError(
                    f"{path.name}: line {bad_line} is not valid UTF-8; save the file as UTF-8"
                ) from exc
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise FileFormatError(f"{path.name}: the file ends inside a UTF-8 character") from exc


def _read_header(path: Path, header_line: str) -> tuple[str, list[str]]:
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    columns = [cell.strip().lower() for cell in next(csv.reader([header_line], delimiter=delimiter))]
    unknown = [column for column in columns if column not in CSV_COLUMNS]
    if unknown:
        raise FileFormatError(
            f"{path.name}: unknown column(s) {', '.join(map(repr, unknown))} in the header; "
            f"known columns are {', '.join(CSV_COLUMNS)}"
        )
    duplicates = sorted({column for column in columns if columns.count(column) > 1})
    if duplicates:
        raise FileFormatError(f"{path.name}: column(s) {', '.join(duplicates)} appear more than once")
    missing = [column for column in CSV_REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise FileFormatError(f"{path.name}: required column(s) {', '.join(missing)} are missing")
    return delimiter, columns


def _read_csv(path: Path, source: str) -> Iterator[FileRow]:
    _check_utf8(path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header_line = handle.readline()
        if not header_line.strip():
            raise FileFormatError(f"{path.name}: the first line must be the header row")
        delimiter, columns = _read_header(path, header_line)
        reader = csv.reader(handle, delimiter=delimiter)
        end_of_previous = 1  # the header is line 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileFormatError(f"{path.name}: line {reader.line_num + 1}: {exc}") from exc
            line, end_of_previous = end_of_previous + 1, reader.line_num + 1
            if any(cell.strip() for cell in cells):
                yield _csv_row(cells, columns, source, line=line)


def _csv_row(cells: list[str], columns: list[str], source: str, *, line: int) -> FileRow:
    if len(cells) != len(columns):
        message = f"line {line} has {len(cells)} cells but the header has {len(columns)} columns"
        raw = json.dumps(cells, ensure_ascii=False).encode("utf-8")
        return FileRow(
            line=line,
            raw=raw,
            errors=(FieldError(path="", message=message),),
            event=None,
            reason_class="invalid",
        )
    document: dict[str, Any] = {}
    conversion_errors: list[FieldError] = []
    for column, cell in zip(columns, cells, strict=True):
        value: str | int | bool = cell.strip()
        if not value:
            continue  # an empty cell is an absent field
        field = CSV_COLUMNS[column]
        if column in CSV_INTEGER_COLUMNS:
            if _INTEGER.fullmatch(str(value)):
                value = int(value)
            else:
                conversion_errors.append(
                    FieldError(
                        path=".".join(field),
                        message=f"column {column} on line {line}: {str(value)[:20]!r} is not a whole number",
                    )
                )
        if column in CSV_BOOLEAN_COLUMNS:
            if str(value).lower() in _BOOLEANS:
                value = _BOOLEANS[str(value).lower()]
            else:
                conversion_errors.append(
                    FieldError(
                        path=".".join(field),
                        message=f"column {column} on line {line}: {str(value)[:20]!r} is not true or false",
                    )
                )
        target = document.setdefault(field[0], {}) if len(field) == 2 else document
        target[field[-1]] = value
    raw = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    row = parse_row(raw, source, line=line)
    if not conversion_errors or row.reason_class == "wrong_source":
        return row
    # The converter's message names column and line; drop pydantic's duplicate for the same field.
    converted = {error.path for error in conversion_errors}
    others = tuple(error for error in row.errors if error.path not in converted)
    return FileRow(
        line=line, raw=raw, errors=(*conversion_errors, *others), event=None, reason_class="invalid"
    )
