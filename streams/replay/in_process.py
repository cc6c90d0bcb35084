"""Replay without a broker: each partition's internal messages folded by the worker's household stage.

`vroegsignaal replay --in-process` answers "what would these rules have sent?" for a rule
change before it goes live, on every core: the partitions of the internal topic are
independent (stream time, states and deadlines are per partition, a household lives in
one), so each is folded by `HouseholdProcessor` in a process of a pool, in the batches the
worker would take, and its outputs come back in order. Same processor, rules, routing and
bounds as the worker, so the output files are byte-identical to a replay through the worker
(tests/integration/test_replay.py compares both with the golden files). What it skips is
the transport: Kafka, Faust, the changelogs and the SQL sink, so it does not test those,
and it rebuilds no live topic or table (use the default replay for that).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from connectors.kafka.partitions import partition_of_household
from connectors.routing_files import default_routing, load_routing
from schemas.internal_v1 import HOUSEHOLD_MESSAGE, HouseholdMessage
from signals.routing import RoutingTable
from streams.replay.input import InternalRecord
from streams.replay.output import Outputs
from streams.worker.household import HouseholdProcessor
from streams.worker.outputs import encode
from streams.worker.settings import Settings
from streams.worker.topics import TopicNames

__all__ = ["PartitionFold", "by_partition", "fold_in_processes", "fold_partition", "outputs_of"]

# Kinds whose later version of an id replaces the earlier one (as `collect` does by offset).
_REPLACED = ("household-overviews", "signals")


@dataclass(frozen=True)
class PartitionFold:
    """What one partition's fold produced: (file stem, record) in the order the worker sends them."""

    partition: int
    records: list[tuple[str, bytes]]
    messages: int
    invalid: int  # internal messages that did not decode (the worker dead-letters them; not in the files)


def _routing(settings: Settings) -> RoutingTable:
    """The replay worker's routing: the configured map, or the sample teams when none is (streams/replay/worker.py)."""
    if settings.routing_map is not None and settings.teams_file is not None:
        return load_routing(settings.routing_map, settings.teams_file)
    return default_routing()


def fold_partition(settings: Settings, partition: int, values: Sequence[bytes]) -> PartitionFold:
    """Fold one partition's internal messages, in order, in the worker's batch size; no I/O."""
    names, routing = TopicNames(""), _routing(settings)
    states: dict[str, bytes] = {}
    processor = HouseholdProcessor(
        states=states,
        policy=settings.rules,
        route=routing.route,
        partition_of=lambda key: partition_of_household(key, settings.partitions),
        forget_after_days=settings.household_forget_days,
        limits=settings.household_limits,
    )
    records: list[tuple[str, bytes]] = []
    stream_time: datetime | None = None
    invalid = 0
    for start in range(0, len(values), settings.batch_max_events):
        messages: list[HouseholdMessage] = []
        for value in values[start : start + settings.batch_max_events]:
            try:
                messages.append(HOUSEHOLD_MESSAGE.validate_json(value))
            except ValidationError:
                invalid += 1
        result = processor.process(partition, messages, stream_time)
        stream_time = result.stream_time
        for output in result.outputs:
            stem = names.output_kind(names.output(output))
            assert stem is not None, output  # every output has a topic of a kind
            records.append((stem, encode(output)))
        states.update(result.states)
        for key in result.forgotten:
            states.pop(key, None)
    return PartitionFold(partition=partition, records=records, messages=len(values), invalid=invalid)


def by_partition(internal: Iterable[InternalRecord], partitions: int) -> list[list[bytes]]:
    """The plan's internal messages per partition, in order."""
    values: list[list[bytes]] = [[] for _ in range(partitions)]
    for record in internal:
        values[record.partition].append(record.value)
    return values


def fold_in_processes(
    settings: Settings, internal: Sequence[InternalRecord], dead_letters: Iterable[bytes], *, processes: int
) -> tuple[Outputs, float]:
    """Every partition folded in a pool of `processes`; the outputs as `collect` gives them, and the seconds taken."""
    started = time.monotonic()
    per_partition = by_partition(internal, settings.partitions)
    # Spawned, not forked: the caller runs an event loop and may have threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        # Larger partitions first, so the last one to start is a short one.
        order = sorted(range(settings.partitions), key=lambda p: -len(per_partition[p]))
        futures = [pool.submit(fold_partition, settings, p, per_partition[p]) for p in order]
        folds = [future.result() for future in futures]
    return outputs_of(folds, dead_letters), time.monotonic() - started


def outputs_of(folds: Iterable[PartitionFold], dead_letters: Iterable[bytes]) -> Outputs:
    """The output files' records, as `collect` makes them of the topics: per partition in order, the last version."""
    outputs = Outputs()
    for fold in sorted(folds, key=lambda fold: fold.partition):
        for stem, value in fold.records:
            outputs.add(stem, value, replace=stem in _REPLACED)
    for value in dead_letters:
        outputs.add("dead-letters", value)
    return outputs
