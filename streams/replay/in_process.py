"""Replay without a broker: each partition's internal messages folded by the worker's household stage.

`vroegsignaal replay --in-process` answers "what would these rules have sent?" for a rule
change before it goes live, on every core: the partitions of the internal topic are
independent (stream time, states and deadlines are per partition, a household lives in
one), so each is folded by `HouseholdProcessor` in a process of a pool, in the batches the
replay workers take, and its outputs come back. Same processor, rules, routing and
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
from streams.replay.worker import REPLAY_BATCH_MAX_EVENTS
from streams.worker.household import HouseholdProcessor
from streams.worker.outputs import encode
from streams.worker.settings import Settings
from streams.worker.topics import TopicNames

__all__ = ["PartitionFold", "by_partition", "fold_in_processes", "fold_partition", "outputs_of"]

# Kinds whose later version of an id replaces the earlier one (as `collect` does by offset).
_REPLACED = ("household-overviews", "signals")


@dataclass(frozen=True)
class PartitionFold:
    """What one partition's fold produced: its records of the output files, as `collect` keeps them.

    Kept per id in the child (the last overview of a household, not one per batch), so what
    travels back to the replay is the files' share of this partition, not every version sent.
    """

    partition: int
    outputs: Outputs
    messages: int
    folded: int  # messages handed to the household stage (each once)
    invalid: int  # internal messages that did not decode (the worker dead-letters them; not in the files)
    # Wall-clock time (time.time()) the fold started and ended in its process: the replay's processing
    # time spans the folds, not the pool's start-up, as a replay through workers is timed from ready.
    started: float = 0.0
    ended: float = 0.0


def _routing(settings: Settings) -> RoutingTable:
    """The replay worker's routing: the configured map, or the sample teams when none is (streams/replay/worker.py)."""
    if settings.routing_map is not None and settings.teams_file is not None:
        return load_routing(settings.routing_map, settings.teams_file)
    return default_routing()


def fold_partition(
    settings: Settings, partition: int, values: Sequence[bytes], *, batch_max_events: int
) -> PartitionFold:
    """Fold one partition's internal messages, in order, in batches of at most `batch_max_events`; no I/O."""
    started = time.time()
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
    outputs = Outputs()
    stream_time: datetime | None = None
    invalid = folded = 0
    for start in range(0, len(values), batch_max_events):
        messages: list[HouseholdMessage] = []
        for value in values[start : start + batch_max_events]:
            try:
                messages.append(HOUSEHOLD_MESSAGE.validate_json(value))
            except ValidationError:
                invalid += 1
        folded += len(messages)
        result = processor.process(partition, messages, stream_time)
        stream_time = result.stream_time
        for output in result.outputs:
            stem = names.output_kind(names.output(output))
            assert stem is not None, output  # every output has a topic of a kind
            outputs.add(stem, encode(output), replace=stem in _REPLACED)
        states.update(result.states)
        for key in result.forgotten:
            states.pop(key, None)
    return PartitionFold(
        partition=partition,
        outputs=outputs,
        messages=len(values),
        folded=folded,
        invalid=invalid,
        started=started,
        ended=time.time(),
    )


def by_partition(internal: Iterable[InternalRecord], partitions: int) -> list[list[bytes]]:
    """The plan's internal messages per partition, in order."""
    values: list[list[bytes]] = [[] for _ in range(partitions)]
    for record in internal:
        values[record.partition].append(record.value)
    return values


def fold_in_processes(
    settings: Settings, internal: Sequence[InternalRecord], dead_letters: Iterable[bytes], *, processes: int
) -> tuple[Outputs, float]:
    """Every partition folded in a pool of `processes`; the outputs as `collect` gives them, and the seconds of folding."""
    per_partition = by_partition(internal, settings.partitions)
    # Spawned, not forked: the caller runs an event loop and may have threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        # Larger partitions first, so the last one to start is a short one.
        order = sorted(range(settings.partitions), key=lambda p: -len(per_partition[p]))
        # The replay workers' batches (streams/replay/worker.py): a household's state is
        # decoded, stored and its overview made once per batch, whatever the batch size.
        batch = max(settings.batch_max_events, REPLAY_BATCH_MAX_EVENTS)
        futures = [
            pool.submit(fold_partition, settings, p, per_partition[p], batch_max_events=batch) for p in order
        ]
        folds = [future.result() for future in futures]
    seconds = max(fold.ended for fold in folds) - min(fold.started for fold in folds)
    return outputs_of(folds, dead_letters), seconds


def outputs_of(folds: Iterable[PartitionFold], dead_letters: Iterable[bytes]) -> Outputs:
    """The output files' records of all partitions (a household's records are all in its partition's)."""
    outputs = Outputs()
    for fold in sorted(folds, key=lambda fold: fold.partition):
        for stem, records in fold.outputs.records.items():
            outputs.records[stem].update(records)
        outputs.conflicts += fold.outputs.conflicts
        outputs.duplicates += fold.outputs.duplicates
    for value in dead_letters:
        outputs.add("dead-letters", value)
    return outputs
