"""The in-process replay's fold of one partition (streams/replay/in_process.py), without processes or I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from schemas.internal_v1 import AcceptedEvent
from signals.intake import IntakeLimits, Origin, accept
from streams.replay.in_process import by_partition, fold_partition, outputs_of
from streams.replay.input import InternalRecord
from streams.worker.settings import Settings
from tests.bench.processor_bench import raw_events

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _internal(count: int = 400, households: int = 30) -> list[bytes]:
    values = []
    for raw in raw_events(count, households, seed=3):
        origin = Origin(
            source=orjson.loads(raw)["source"], topic="t", partition=0, offset=0, key=None, received_at=T0
        )
        accepted = accept(raw, origin=origin, stream_time=None, limits=IntakeLimits())
        if isinstance(accepted, AcceptedEvent):
            values.append(accepted.model_dump_json().encode())
    return values


SETTINGS = Settings(demo=True)


def test_a_partition_folds_to_the_same_output_files_in_any_batch_size() -> None:
    """Batches change how often an overview is sent, not the files: the last overview, every effect once."""
    values = _internal()
    whole = fold_partition(SETTINGS, 0, values, batch_max_events=2000)
    one_by_one = fold_partition(SETTINGS, 0, values, batch_max_events=1)
    files = outputs_of([whole], []).records
    assert files == outputs_of([one_by_one], []).records
    assert all(files[kind] for kind in ("reminders", "household-overviews", "signals")), files.keys()
    assert whole.outputs.conflicts == one_by_one.outputs.conflicts == []
    assert whole.folded == one_by_one.folded == len(values)  # every message once, whatever the batches


def test_partitions_merge_into_one_set_of_files() -> None:
    values = _internal()
    first, second = (
        fold_partition(SETTINGS, 0, values[:200], batch_max_events=2000),
        fold_partition(SETTINGS, 1, values[200:], batch_max_events=2000),
    )
    merged = outputs_of([second, first], [b'{"topic": "t", "partition": 0, "offset": 1}'])
    for stem in ("reminders", "signals"):
        assert merged.records[stem] == first.outputs.records[stem] | second.outputs.records[stem]
    assert len(merged.records["dead-letters"]) == 1


def test_a_message_that_does_not_decode_is_counted_and_the_rest_folded() -> None:
    values = _internal()
    broken = [*values[:10], b'{"not": "a household message"}', *values[10:]]
    fold = fold_partition(SETTINGS, 0, broken, batch_max_events=2000)
    assert fold.invalid == 1
    assert (fold.messages, fold.folded) == (len(broken), len(values))
    assert fold.outputs.records == fold_partition(SETTINGS, 0, values, batch_max_events=2000).outputs.records


def test_the_plan_is_split_per_partition_in_order() -> None:
    internal = [InternalRecord(partition=p, key=b"k", value=bytes([i])) for i, p in enumerate([1, 0, 1, 2])]
    assert by_partition(internal, 3) == [[b"\x01"], [b"\x00", b"\x02"], [b"\x03"]]
