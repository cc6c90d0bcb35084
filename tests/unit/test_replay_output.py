"""A replay's output files do not depend on where at-least-once delivery put duplicates; its --workers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from connectors.kafka.archive import ArchivedRecord
from streams.replay.output import FILES, collect, write_outputs
from streams.replay.run import ReplayError, ReplayOptions, replay
from streams.worker.settings import load_settings

OVERVIEW = b'{"type":"household_overview","household_key":"1011AB-1","as_of":"2026-01-0%dT23:00:00Z"}'
SIGNAL = b'{"type":"signal","signal_id":"s-1","household_key":"1011AB-1","kinds":[%s]}'
REMINDER = b'{"type":"reminder","reminder_id":"r-1","kind":"%s"}'


def _on(topic: str, partition: int, values: list[bytes]) -> list[ArchivedRecord]:
    return [ArchivedRecord(f"p.{topic}", partition, n, None, None, v) for n, v in enumerate(values)]


def _files(records: list[ArchivedRecord], tmp_path: Path, name: str) -> dict[str, bytes]:
    out = tmp_path / name
    write_outputs(collect(records, "p.", []), out)
    return {stem: (out / f"{stem}.jsonl").read_bytes() for stem in FILES}


def test_a_partition_processed_again_after_a_rebalance_writes_the_same_files(tmp_path: Path) -> None:
    """Worker A sent versions 1-3, worker B took the partition over and sent 2 and 3 again; A's 3 came late."""
    once = _on("household-overviews", 0, [OVERVIEW % 1, OVERVIEW % 2, OVERVIEW % 3])
    once += _on("signals", 1, [SIGNAL % b'"single"', SIGNAL % b'"single","multiple"'])
    once += _on("reminders.water", 2, [REMINDER % b"free"])
    again = _on(
        "household-overviews",
        0,
        [OVERVIEW % 1, OVERVIEW % 2, OVERVIEW % 2, OVERVIEW % 3, OVERVIEW % 2],  # the last: a stale re-send
    )
    again += _on("signals", 1, [SIGNAL % b'"single"', SIGNAL % b'"single","multiple"', SIGNAL % b'"single"'])
    again += _on("reminders.water", 2, [REMINDER % b"free", REMINDER % b"free"])
    assert _files(again, tmp_path, "again") == _files(once, tmp_path, "once")
    outputs = collect(again, "p.", [])
    assert (outputs.duplicates, outputs.conflicts) == (4, [])
    assert outputs.records["household-overviews"]["1011AB-1"] == OVERVIEW % 3


def test_the_same_id_with_other_content_is_a_conflict_where_one_record_per_id_is_expected() -> None:
    records = _on("reminders.water", 0, [REMINDER % b"free", REMINDER % b"formal", REMINDER % b"free"])
    outputs = collect(records, "p.", [])
    assert outputs.conflicts == ["reminders: r-1"]
    assert outputs.duplicates == 1
    assert outputs.records["reminders"]["r-1"] == REMINDER % b"free"  # the first kept


@pytest.mark.parametrize("workers", [0, 5])
def test_workers_beyond_the_partitions_are_refused_before_anything_runs(workers: int, tmp_path: Path) -> None:
    """A worker without a partition would never be ready: refused at once, nothing started or read."""
    settings = load_settings().model_copy(update={"partitions": 4})
    options = ReplayOptions(source_dir=tmp_path / "missing", out=tmp_path / "out", workers=workers)
    with pytest.raises(
        ReplayError, match=rf"--workers {workers}: between 1 and the number of partitions \(4\)"
    ):
        asyncio.run(replay(settings, options, broker_url="kafka://127.0.0.1:1"))
