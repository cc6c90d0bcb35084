"""Reading a creditor's daily CSV or JSON Lines file into validated rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.files import CSV_COLUMNS, FileFormatError, FileRow, read_events
from tests.unit.contract_examples import EVENT_TYPES, event, with_path

HEADER = (
    "event_id,type,source,creditor_id,creditor_name,debt_ref,occurred_at,debtor_name,debtor_bsn,"
    "postcode,house_number,house_letter,amount_cents,due_date,monthly_amount_cents,reminder_kind,term_days"
)
OPENED = (
    "e1,debt.opened,housing,wr,Woonstad,H-1,2024-03-01T09:30:00+01:00,"
    "J. de Vries,111222333,3011 ab,12,a,95000,2024-02-01,95000,,"
)
REMINDED = (
    "e2,reminder.sent,housing,wr,Woonstad,H-1,2024-03-02T09:30:00+01:00,"
    "J. de Vries,,3011AB,12,,95000,,,free,14"
)


def write_csv(tmp_path: Path, *lines: str, name: str = "daily.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + ("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def write_jsonl(tmp_path: Path, *documents: dict[str, Any] | str, name: str = "daily.jsonl") -> Path:
    path = tmp_path / name
    lines = [item if isinstance(item, str) else json.dumps(item, ensure_ascii=False) for item in documents]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def paths(row: FileRow) -> list[str]:
    return [error.path for error in row.errors]


def test_valid_csv_rows_become_events_with_their_line_numbers(tmp_path: Path) -> None:
    rows = list(read_events(write_csv(tmp_path, HEADER, OPENED, REMINDED), "housing"))
    assert [row.line for row in rows] == [2, 3]
    assert all(row.ok and row.errors == () for row in rows)
    opened = rows[0].event
    assert opened is not None
    assert opened.type == "debt.opened"
    assert (opened.address.postcode, opened.address.house_letter, opened.debtor.bsn) == (
        "3011AB",
        "A",
        "111222333",
    )
    assert opened.amount_cents == 95000


def test_csv_raw_is_the_json_event_without_empty_cells(tmp_path: Path) -> None:
    (row,) = read_events(write_csv(tmp_path, HEADER, REMINDED), "housing")
    document = json.loads(row.raw)
    assert document["address"] == {"postcode": "3011AB", "house_number": 12}
    assert "debtor" in document
    assert "bsn" not in document["debtor"]
    assert "due_date" not in document
    assert document["term_days"] == 14


def test_csv_with_bom_and_semicolons_is_read(tmp_path: Path) -> None:
    lines = [line.replace(",", ";") for line in (HEADER, OPENED, REMINDED)]
    rows = list(read_events(write_csv(tmp_path, *lines, bom=True), "housing"))
    assert [row.ok for row in rows] == [True, True]


def test_invalid_csv_row_names_its_line_and_field(tmp_path: Path) -> None:
    bad_bsn = OPENED.replace("111222333", "123456789")
    rows = list(read_events(write_csv(tmp_path, HEADER, OPENED, "", bad_bsn), "housing"))
    assert [row.line for row in rows] == [2, 4]
    assert rows[1].event is None
    assert rows[1].reason_class == "invalid"
    assert paths(rows[1]) == ["debtor.bsn"]


def test_non_integer_cell_names_column_and_line(tmp_path: Path) -> None:
    (row,) = read_events(
        write_csv(tmp_path, HEADER, OPENED.replace(",95000,2024", ",950.00,2024")), "housing"
    )
    assert paths(row) == ["amount_cents"]
    assert "amount_cents" in row.errors[0].message
    assert "line 2" in row.errors[0].message


def test_quoted_multi_line_cell_keeps_later_line_numbers_physical(tmp_path: Path) -> None:
    header = HEADER + ",street"
    first = OPENED + ',"Coolsingel\n(achterom)"'
    rows = list(read_events(write_csv(tmp_path, header, first, REMINDED + ","), "housing"))
    assert [row.line for row in rows] == [2, 4]
    assert rows[0].event is not None
    assert rows[0].event.address.street == "Coolsingel\n(achterom)"


def test_row_with_wrong_cell_count_is_rejected(tmp_path: Path) -> None:
    (row,) = read_events(write_csv(tmp_path, HEADER, OPENED + ",extra"), "housing")
    assert row.event is None
    assert "cells" in row.errors[0].message


def test_row_of_another_source_is_rejected_with_a_reason(tmp_path: Path) -> None:
    (row,) = read_events(write_csv(tmp_path, HEADER, OPENED), "energy")
    assert row.event is None
    assert row.reason_class == "wrong_source"
    assert paths(row) == ["source"]
    assert "energy" in row.errors[0].message


def test_unknown_column_rejects_the_whole_file(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="'bedrag'"):
        list(read_events(write_csv(tmp_path, HEADER + ",bedrag", OPENED + ",1"), "housing"))


def test_missing_required_column_rejects_the_whole_file(tmp_path: Path) -> None:
    header = HEADER.replace("debtor_name,", "")
    with pytest.raises(FileFormatError, match="debtor_name"):
        list(read_events(write_csv(tmp_path, header, OPENED), "housing"))


def test_non_utf8_file_is_rejected_before_any_row(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\n" + OPENED.replace("J. de Vries", "Jürgen") + "\n").encode("latin-1"))
    with pytest.raises(FileFormatError, match="line 2 is not valid UTF-8"):
        next(read_events(path, "housing"))


def test_unknown_source_and_extension_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError):
        read_events(write_csv(tmp_path, HEADER), "bank")
    with pytest.raises(FileFormatError, match="unsupported"):
        read_events(write_csv(tmp_path, HEADER, name="daily.xlsx"), "housing")


def test_every_contract_field_has_a_csv_column() -> None:
    flat = {"/".join(path) for path in CSV_COLUMNS.values()}
    for type_ in EVENT_TYPES:
        document = event(type_, source="cjib" if type_ != "supply.ending" else "energy")
        for key, value in document.items():
            nested = [f"{key}/{inner}" for inner in value] if isinstance(value, dict) else [key]
            assert set(nested) <= flat


@pytest.mark.parametrize("name", ["daily.jsonl", "daily.json"])
def test_valid_json_lines_parse_and_blank_lines_are_skipped(tmp_path: Path, name: str) -> None:
    path = write_jsonl(tmp_path, event(), "", "   ", event("payment.received"), name=name)
    rows = list(read_events(path, "housing"))
    assert [row.line for row in rows] == [1, 4]
    assert all(row.ok for row in rows)
    assert json.loads(rows[1].raw)["type"] == "payment.received"


def test_json_lines_with_bom_are_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(event()).encode() + b"\r\n")
    (row,) = read_events(path, "housing")
    assert row.ok
    assert not row.raw.endswith(b"\r")


def test_invalid_json_line_names_its_line_and_field(tmp_path: Path) -> None:
    bad = with_path(event(), "address.postcode", "1234SS")
    rows = list(read_events(write_jsonl(tmp_path, event(), bad, "{not json"), "housing"))
    assert [(row.line, row.reason_class) for row in rows] == [(1, None), (2, "invalid"), (3, "not_json")]
    assert paths(rows[1]) == ["address.postcode"]


def test_json_line_of_another_source_or_unknown_type_is_classified(tmp_path: Path) -> None:
    wrong_source = event(source="water")
    unknown_type = event(type="debt.forgiven")
    rows = list(read_events(write_jsonl(tmp_path, wrong_source, unknown_type), "housing"))
    assert [row.reason_class for row in rows] == ["wrong_source", "unknown_type"]


def test_json_array_file_is_rejected_as_a_whole(tmp_path: Path) -> None:
    path = tmp_path / "array.json"
    path.write_text(json.dumps([event()], indent=2), encoding="utf-8")
    with pytest.raises(FileFormatError, match="JSON Lines"):
        list(read_events(path, "housing"))


def test_rows_are_read_one_at_a_time(tmp_path: Path) -> None:
    path = write_csv(tmp_path, HEADER, OPENED, *[f"x{i},{OPENED[3:]}" for i in range(1000)])
    rows = read_events(path, "housing")
    assert next(rows).line == 2
    with path.open("a", encoding="utf-8") as handle:  # appended after reading began: still seen
        handle.write(REMINDED + "\n")
    assert sum(1 for _ in rows) == 1001
