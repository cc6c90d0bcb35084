"""Planning a replay (ordering, ticks, partitions, dead letters) and comparing its outputs."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import orjson

from connectors.kafka.archive import ArchivedRecord, read_archive, record_time
from connectors.kafka.partitions import partition_of_household
from schemas.internal_v1 import HOUSEHOLD_MESSAGE, AcceptedEvent, ClockTick
from signals.intake import IntakeLimits
from streams.replay.input import PlanOptions, RawRecord, plan
from streams.replay.output import Outputs, collect, compare, write_outputs
from streams.worker.pipeline import Pipeline
from tests.unit.contract_examples import event

OPTIONS = PlanOptions(limits=IntakeLimits(), partitions=4, tail_days=2)


def _event(event_id: str, occurred_at: str, source: str = "water") -> bytes:
    return orjson.dumps(event("debt.opened", source=source, event_id=event_id, occurred_at=occurred_at))


def _record(raw: bytes, offset: int, source: str = "water") -> RawRecord:
    return RawRecord(source, raw, f"file:{source}.jsonl", -1, offset)


def test_partition_is_the_workers() -> None:
    pipeline = cast(Any, SimpleNamespace(settings=SimpleNamespace(partitions=4)))
    for key in ("1011AB-1", "9999ZZ-12A-2", "2345BC-7"):
        assert partition_of_household(key, 4) == Pipeline.partition_of(pipeline, key)


def test_events_go_in_event_time_order_with_a_tick_in_every_partition_at_each_day_end() -> None:
    records = [
        _record(_event("b", "2026-01-03T09:00:00+00:00"), 1),
        _record(_event("a", "2026-01-01T10:00:00+00:00"), 2),  # delivered late: sorted first
    ]
    result = plan(records, OPTIONS)
    messages = [HOUSEHOLD_MESSAGE.validate_json(r.value) for r in result.internal]
    events = [m.event.event_id for m in messages if isinstance(m, AcceptedEvent)]
    assert events == ["a", "b"]
    ticks = sorted({m.at.isoformat() for m in messages if isinstance(m, ClockTick)})
    # 1, 2, 3 January, then two tail days; each ends at 23:59:59 in Amsterdam (22:59:59 UTC in winter)
    assert ticks == [f"2026-01-0{d}T22:59:59+00:00" for d in range(1, 6)]
    assert result.ticks == 5
    assert sum(isinstance(m, ClockTick) for m in messages) == 5 * OPTIONS.partitions


def test_a_duplicate_is_dropped_and_an_invalid_line_is_a_reproducible_dead_letter() -> None:
    good = _event("a", "2026-01-01T10:00:00+00:00")
    records = [_record(good, 1), _record(good, 2), _record(b'{"type": "debt.op', 3)]
    first, second = plan(records, OPTIONS), plan(records, OPTIONS)
    assert (first.accepted, first.duplicates, len(first.dead_letters)) == (1, 1, 1)
    assert first.dead_letters == second.dead_letters  # no wall clock in them
    dead = orjson.loads(first.dead_letters[0])
    assert (dead["topic"], dead["offset"], dead["received_at"]) == (
        "file:water.jsonl",
        3,
        "2026-01-01T10:00:00Z",
    )


def test_since_and_until_select_by_event_time() -> None:
    records = [_record(_event(str(d), f"2026-01-0{d}T10:00:00+00:00"), d) for d in range(1, 6)]
    since, until = (
        record_time(b'{"at": "2026-01-02T00:00:00Z"}'),
        record_time(b'{"at": "2026-01-04T00:00:00Z"}'),
    )
    result = plan(records, dataclasses.replace(OPTIONS, since=since, until=until))
    assert result.events_in == 2


def test_outputs_keep_one_record_per_id_and_the_last_overview(tmp_path: Path) -> None:
    signal = b'{"type":"signal","signal_id":"s-1","household_key":"1011AB-1"}'
    overview = b'{"type":"household_overview","household_key":"1011AB-1","as_of":"%d"}'
    records = [
        ArchivedRecord("p.signals", 0, 0, None, None, signal),
        ArchivedRecord("p.signals", 0, 1, None, None, signal),
        ArchivedRecord("p.household-overviews", 2, 5, None, None, overview % 2),
        ArchivedRecord("p.household-overviews", 2, 4, None, None, overview % 1),
    ]
    outputs = collect(records, "p.", [])
    assert outputs.counts()["signals"] == 1
    assert not outputs.conflicts
    write_outputs(outputs, tmp_path)
    assert (tmp_path / "household-overviews.jsonl").read_bytes() == overview % 2 + b"\n"


def test_compare_shows_the_changed_field_of_a_record(tmp_path: Path) -> None:
    expected, actual = Outputs(), Outputs()
    expected.add("signals", b'{"signal_id":"s-1","priority":"normal","kinds":["single"]}')
    actual.add("signals", b'{"signal_id":"s-1","priority":"high","kinds":["single"]}')
    actual.add("signals", b'{"signal_id":"s-2","priority":"high","kinds":["multiple"]}')
    write_outputs(expected, tmp_path / "e")
    write_outputs(actual, tmp_path / "a")
    diff = compare(tmp_path / "e", tmp_path / "a")
    assert '-priority: "normal"' in diff
    assert '+priority: "high"' in diff
    assert "@@ s-2: only in actual" in diff
    assert compare(tmp_path / "a", tmp_path / "a") == []


def test_archive_lines_keep_binary_values(tmp_path: Path) -> None:
    import gzip

    record = ArchivedRecord("t", 1, 7, 1_700_000_000_000, b"k", b"\xff\x00", (("h", b"v"),))
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(gzip.compress(record.to_json() + b"\n"))
    assert list(read_archive(path)) == [record]


def test_the_day_end_ticks_follow_amsterdam_summer_time_and_the_october_change() -> None:
    records = [_record(_event("a", "2026-10-24T09:00:00+00:00"), 1)]
    result = plan(records, OPTIONS)
    ticks = sorted(
        {
            m.at.isoformat()
            for m in map(HOUSEHOLD_MESSAGE.validate_json, (r.value for r in result.internal))
            if isinstance(m, ClockTick)
        }
    )
    # 24 October ends at 23:59:59 summer time (21:59:59 UTC); 25 October, the day clocks go back,
    # ends at 23:59:59 winter time (22:59:59 UTC).
    assert ticks[:2] == ["2026-10-24T21:59:59+00:00", "2026-10-25T22:59:59+00:00"]
