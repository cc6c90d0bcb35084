"""The ingest stage without Faust: what the ingest agent sends and counts for a partition's records."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from schemas.contract_v1 import bsn_is_valid
from schemas.deadletter_v1 import DeadLetter
from schemas.internal_v1 import AcceptedEvent, ClockTick
from signals.intake import IntakeLimits
from streams.worker.ingest import InboundRecord, IngestProcessor
from streams.worker.topics import TopicNames
from tests.unit.contract_examples import VALID_BSN, event

NAMES = TopicNames("t.")
HOUSING = NAMES.inbound("housing")
RECEIVED = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _processor(clock_times: dict[str, bytes] | None = None) -> IngestProcessor:
    return IngestProcessor(
        names=NAMES,
        limits=IntakeLimits(),
        clock_times={} if clock_times is None else clock_times,
        now=lambda: RECEIVED,
    )


def _records(*documents: dict[str, object] | bytes) -> list[InboundRecord]:
    return [
        InboundRecord(offset=i, key=None, value=d if isinstance(d, bytes) else orjson.dumps(d))
        for i, d in enumerate(documents)
    ]


def test_valid_events_are_keyed_by_household_and_counted_per_source() -> None:
    result = _processor().process(HOUSING, 2, _records(event(event_id="a"), event(event_id="b")))
    assert result.consumed == {"housing": 2}
    assert [type(r) for _, r in result.intake] == [AcceptedEvent, AcceptedEvent]
    assert {r.household_key for _, r in result.intake if isinstance(r, AcceptedEvent)} == {"3011AB-12A"}


def test_an_event_seen_again_by_this_worker_is_counted_as_a_duplicate_and_not_sent() -> None:
    processor = _processor()
    first = processor.process(HOUSING, 0, _records(event(event_id="same")))
    again = processor.process(HOUSING, 0, _records(event(event_id="same")))
    assert len(first.intake) == 1
    assert again.intake == []
    assert again.duplicates == {"housing": 1}


def test_an_invalid_event_becomes_a_dead_letter_with_its_offset_and_no_bsn_in_clear() -> None:
    result = _processor().process(
        HOUSING, 1, _records(event(event_id="ok"), b'{"bsn": "' + VALID_BSN.encode() + b'"')
    )
    source, dead = result.intake[1]
    assert source == "housing"
    assert isinstance(dead, DeadLetter)
    assert (dead.topic, dead.partition, dead.offset) == (HOUSING, 1, 1)
    assert VALID_BSN not in dead.model_dump_json()
    assert bsn_is_valid(VALID_BSN)  # the check above would be vacuous for an invalid number


def test_ticks_move_the_partition_clock_and_are_forwarded_in_order() -> None:
    clock_times: dict[str, bytes] = {}
    ticks = [ClockTick(at=datetime(2026, 3, d, tzinfo=UTC)).model_dump_json().encode() for d in (2, 1)]
    result = _processor(clock_times).process(NAMES.clock, 3, _records(*ticks))
    assert result.ticks == ticks
    assert clock_times == {"3": datetime(2026, 3, 2, tzinfo=UTC).isoformat().encode()}  # never backwards
    assert result.consumed == {}


def test_a_bad_tick_is_dead_lettered_as_clock_and_the_good_ones_still_count() -> None:
    good = ClockTick(at=datetime(2026, 3, 2, tzinfo=UTC)).model_dump_json().encode()
    result = _processor().process(NAMES.clock, 0, _records(b"not a tick", good))
    assert result.ticks == [good]
    assert [(s, type(r)) for s, r in result.intake] == [("clock", DeadLetter)]


def test_an_event_far_ahead_of_the_partition_clock_is_dead_lettered_as_future_dated() -> None:
    clock = {"0": datetime(2024, 1, 1, tzinfo=UTC).isoformat().encode()}
    ahead = event(event_id="future", occurred_at="2024-03-01T10:00:00Z")
    result = _processor(clock).process(HOUSING, 0, _records(ahead))
    ((_, dead),) = result.intake
    assert isinstance(dead, DeadLetter)
    assert dead.reason_class == "future_dated"
    # Without ticks there is no clock to be ahead of: the same event is accepted.
    ((_, accepted),) = _processor().process(HOUSING, 0, _records(ahead)).intake
    assert isinstance(accepted, AcceptedEvent)
