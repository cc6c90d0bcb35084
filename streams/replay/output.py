"""A replay's output files: sorted, de-duplicated JSON Lines per kind, and a readable comparison.

Delivery is at-least-once, so an output may be on its topic twice; every output carries a
deterministic id, so duplicates are dropped by id. A household's overview is re-emitted
whenever it changes: the file keeps the last one per household (highest offset in its
partition, which is the household's partition). A record equal to one already seen under its
id is a re-delivery whatever its offset (a partition processed again after a rebalance), so
the files do not depend on where duplicates landed; the same id with other content, where
one record per id is expected, is a conflict the summary reports.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from connectors.kafka.archive import ArchivedRecord
from streams.worker.topics import TopicNames

__all__ = ["FILES", "Outputs", "collect", "compare", "read_outputs", "write_outputs"]

# Output file stem -> the field that identifies a record in it.
ID_FIELDS: dict[str, str] = {
    "signals": "signal_id",
    "reminders": "reminder_id",
    "costs-permitted": "decision_id",
    "signal-resolutions": "resolution_id",
    "cost-violations": "violation_id",
    "dead-letters": "",  # no id: identified by where the rejected message came from
    "household-overviews": "household_key",
}
FILES: tuple[str, ...] = tuple(ID_FIELDS)
MAX_DIFF_LINES = 120
MAX_LINE_CHARS = 240


def record_id(stem: str, doc: Mapping[str, Any]) -> str:
    """The id a record is de-duplicated and compared by.

    >>> record_id("dead-letters", {"topic": "file:water.jsonl", "partition": -1, "offset": 7})
    'file:water.jsonl:-1:7'
    >>> record_id("signals", {"signal_id": "signal-1"})
    'signal-1'
    """
    name = ID_FIELDS[stem]
    if not name:
        return f"{doc['topic']}:{doc['partition']}:{doc['offset']}"
    return str(doc[name])


@dataclass
class Outputs:
    """Per output file: record id -> the record's JSON bytes; ids seen with differing bytes; re-deliveries."""

    records: dict[str, dict[str, bytes]] = field(default_factory=lambda: {stem: {} for stem in FILES})
    conflicts: list[str] = field(default_factory=list)
    duplicates: int = 0  # records dropped: the same bytes were seen under their id before (re-sent)
    # Digests of every version seen per (file, id) of a kind whose later version replaces the earlier.
    _versions: dict[tuple[str, str], set[bytes]] = field(default_factory=dict, repr=False)

    def add(self, stem: str, value: bytes, *, replace: bool = False) -> None:
        """Keep one record per id: the first, or with `replace` the latest new version.

        Bytes already seen under the id are a re-delivery and change nothing, even after a
        newer version (an overview sent again by a worker that took its partition over ends
        no run with an older overview). Without `replace`, other bytes under a known id are a
        conflict: noted, the first kept.
        """
        rid = record_id(stem, orjson.loads(value))
        known = self.records[stem].get(rid)
        if known is None:
            self.records[stem][rid] = value
        elif known == value:
            self.duplicates += 1
        elif not replace:
            self.conflicts.append(f"{stem}: {rid}")
        if not replace:
            return
        versions = self._versions.setdefault((stem, rid), set())
        digest = hashlib.blake2b(value, digest_size=16).digest()
        if digest in versions:
            if known is not None and known != value:
                self.duplicates += 1  # an older version delivered again: the newer one stays
            return
        versions.add(digest)
        self.records[stem][rid] = value

    def counts(self) -> dict[str, int]:
        """Records per file."""
        return {stem: len(by_id) for stem, by_id in self.records.items()}


def collect(records: Iterable[ArchivedRecord], prefix: str, dead_letters: Iterable[bytes]) -> Outputs:
    """The outputs of a replay from its output topics (any order) and the dead letters of its ingest.

    One file per kind, whatever the topic: a creditor's reminders, for one, are on the topic of
    its source, and all of them are compared by content in `reminders.jsonl`.
    """
    outputs = Outputs()
    names = TopicNames(prefix)
    for record in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        stem = names.output_kind(record.topic)
        if record.value is None or stem is None or stem not in ID_FIELDS:
            continue  # a topic this replay does not write out
        # Sorted by offset, so the last overview of a household replaces earlier ones, and the last
        # version of a signal updated in place (a coalesced burst, signals.limits) its earlier ones.
        outputs.add(stem, record.value, replace=stem in ("household-overviews", "signals"))
    for value in dead_letters:
        outputs.add("dead-letters", value)
    return outputs


def _sort_key(stem: str, rid: str, value: bytes) -> tuple[Any, ...]:
    if stem == "dead-letters":
        doc = orjson.loads(value)
        return (doc["topic"], doc["partition"], doc["offset"], value)
    return (rid,)


def write_outputs(outputs: Outputs, out: Path) -> None:
    """One `<stem>.jsonl` per output kind, records sorted by id, one JSON object per line."""
    out.mkdir(parents=True, exist_ok=True)
    for stem, by_id in outputs.records.items():
        ordered = sorted(by_id.items(), key=lambda item: _sort_key(stem, item[0], item[1]))
        (out / f"{stem}.jsonl").write_bytes(b"".join(value + b"\n" for _, value in ordered))


def read_outputs(directory: Path) -> dict[str, list[dict[str, Any]]]:
    """The records of every output file in `directory` (missing files read as empty)."""
    result: dict[str, list[dict[str, Any]]] = {}
    for stem in FILES:
        path = directory / f"{stem}.jsonl"
        lines = path.read_bytes().splitlines() if path.exists() else []
        result[stem] = [orjson.loads(line) for line in lines if line.strip()]
    return result


def _flatten(value: Any, path: str = "") -> list[str]:
    """`path: value` lines of a JSON document, so a diff shows the field that changed.

    >>> _flatten({"a": {"b": [1, "x"]}, "c": None})
    ['a.b[0]: 1', 'a.b[1]: "x"', 'c: null']
    """
    if isinstance(value, dict):
        return [line for k, v in value.items() for line in _flatten(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list) and value:
        return [line for i, v in enumerate(value) for line in _flatten(v, f"{path}[{i}]")]
    return [f"{path}: {orjson.dumps(value).decode()}"]


def _clipped(lines: list[str]) -> list[str]:
    """Removed and added lines in pairs, long ones cut to a window a little before where they differ.

    >>> _clipped(["-v: " + "a" * 300 + "X", "+v: " + "a" * 300 + "Y"])[0][-5:]
    'aaaaX'
    """
    removed, added = [x for x in lines if x.startswith("-")], [x for x in lines if x.startswith("+")]
    if len(removed) != len(added):
        return [x[:MAX_LINE_CHARS] for x in lines]
    out = []
    for old, new in zip(removed, added, strict=True):
        (path, _, was), (_, _, now) = old[1:].partition(": "), new[1:].partition(": ")
        first = next((i for i, (a, b) in enumerate(zip(was, now, strict=False)) if a != b), 0)
        start = max(0, first - MAX_LINE_CHARS // 2)
        for sign, value in (("-", was), ("+", now)):
            out.append(f"{sign}{path}: {'...' if start else ''}{value[start : start + MAX_LINE_CHARS]}")
    return out


def _by_id(path: Path, stem: str) -> dict[str, bytes]:
    lines = path.read_bytes().splitlines() if path.exists() else []
    return {record_id(stem, orjson.loads(line)): line for line in lines if line.strip()}


def _file_diff(stem: str, expected: Path, actual: Path) -> list[str]:
    """Readable diff of one file: changed records field by field, missing and extra ones whole."""
    want, got = _by_id(expected / f"{stem}.jsonl", stem), _by_id(actual / f"{stem}.jsonl", stem)
    lines: list[str] = []
    for rid in sorted(want.keys() | got.keys()):
        old, new = want.get(rid), got.get(rid)
        if old == new:
            continue
        if old is None or new is None:
            where, value, sign = (
                ("only in actual", new, "+") if old is None else ("only in expected", old, "-")
            )
            lines += [f"@@ {rid}: {where}", f"{sign}{value.decode()[:MAX_LINE_CHARS]}"]  # type: ignore[union-attr]
            continue
        fields = difflib.unified_diff(
            _flatten(orjson.loads(old)), _flatten(orjson.loads(new)), n=0, lineterm=""
        )
        lines += [
            f"@@ {rid}: changed",
            *_clipped([f for f in fields if not f.startswith(("---", "+++", "@@"))]),
        ]
    old_bytes, new_bytes = (_bytes(d / f"{stem}.jsonl") for d in (expected, actual))
    if not lines and old_bytes != new_bytes:
        # Same records, different bytes: order, duplicates or a missing file.
        old_lines, new_lines = ((b or b"").decode().splitlines() for b in (old_bytes, new_bytes))
        plain = difflib.unified_diff(old_lines, new_lines, n=0, lineterm="")
        missing = "expected" if old_bytes is None else "actual"
        lines = [f[:MAX_LINE_CHARS] for f in plain if not f.startswith(("---", "+++"))]
        lines = lines or [f"@@ the file is missing in {missing}"]
    if not lines:
        return []
    return [f"--- {expected / stem}.jsonl", f"+++ {actual / stem}.jsonl", *lines]


def _bytes(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


def compare(expected: Path, actual: Path, stems: Sequence[str] = FILES) -> list[str]:
    """Unified-diff style lines for every difference (at most MAX_DIFF_LINES); empty when identical."""
    lines: list[str] = []
    for stem in stems:
        lines += _file_diff(stem, expected, actual)
    if len(lines) > MAX_DIFF_LINES:
        return [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more diff lines not shown"]
    return lines
