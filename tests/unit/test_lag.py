"""Consumer lag from end offsets and committed offsets, against a stand-in for Faust's consumer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from faust.types import TP

from streams.worker.lag import consumer_lag, record_once, remove_series
from streams.worker.metrics import Metrics

INBOUND, CLOCK = TP("vs.inbound.energy", 0), TP("vs.clock", 1)
CHANGELOG = TP("vroegsignaal-state_by_household-changelog", 0)


class FakeConsumer:
    """Just what streams.worker.lag uses: assignment, highwaters, position and Faust's committed offsets."""

    def __init__(self, ends: Mapping[TP, int], committed: Mapping[TP, int], positions: Mapping[TP, int]):
        self.ends = dict(ends)
        self.positions = dict(positions)
        self._committed_offset: defaultdict[TP, int | None] = defaultdict(lambda: None, committed)
        self.assigned = set(ends)
        self.revoke_on_highwaters: set[TP] = set()

    def assignment(self) -> set[TP]:
        return set(self.assigned)

    async def highwaters(self, *tps: TP) -> Mapping[TP, int]:
        # A rebalance that completes while the broker answers.
        self.assigned -= self.revoke_on_highwaters
        return {tp: self.ends[tp] for tp in tps}

    async def position(self, tp: TP) -> int | None:
        return self.positions.get(tp)


def _lag(metrics: Metrics) -> dict[tuple[str, str], float]:
    return {
        (s.labels["topic"], s.labels["partition"]): s.value
        for family in metrics.registry.collect()
        if family.name == "vroegsignaal_consumer_lag_messages"
        for s in family.samples
    }


async def test_lag_is_end_minus_committed_else_position() -> None:
    consumer: Any = FakeConsumer({INBOUND: 120, CLOCK: 40}, committed={INBOUND: 100}, positions={CLOCK: 38})
    assert await consumer_lag(consumer, {INBOUND, CLOCK}) == {INBOUND: 20, CLOCK: 2}
    # read without adding entries (the fake mirrors aiokafka's private dict, which lag.py reads)
    assert dict(consumer._committed_offset) == {INBOUND: 100}  # noqa: SLF001


async def test_a_commit_past_the_end_read_earlier_is_no_negative_lag() -> None:
    consumer: Any = FakeConsumer({INBOUND: 100}, committed={INBOUND: 105}, positions={})
    assert await consumer_lag(consumer, {INBOUND}) == {INBOUND: 0}


async def test_only_our_topics_still_assigned_after_the_round_are_recorded() -> None:
    metrics = Metrics()
    consumer: Any = FakeConsumer(
        {INBOUND: 7, CLOCK: 3, CHANGELOG: 50}, committed={INBOUND: 2, CLOCK: 3}, positions={}
    )
    consumer.revoke_on_highwaters = {CLOCK}
    await record_once(consumer, metrics.consumer_lag, {INBOUND.topic, CLOCK.topic})
    assert _lag(metrics) == {("vs.inbound.energy", "0"): 5}


def test_removing_label_sets_tolerates_ones_never_set() -> None:
    metrics = Metrics()
    metrics.consumer_lag.labels("vs.clock", "1").set(4)
    metrics.consumer_lag.labels("vs.clock", "2").set(4)
    remove_series(metrics.consumer_lag, [("vs.clock", "1"), ("vs.clock", "9")])
    assert _lag(metrics) == {("vs.clock", "2"): 4}
