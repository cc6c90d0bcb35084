"""kill -9 of the worker (ingest, household agent and sink) at random moments loses and doubles nothing.

The kill points come from a seeded RNG, so a failure is reproducible; set CRASH_SEED to
explore other points (the failure message names the steps and the seed).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from connectors.kafka.broker import EmbeddedBroker
from tests.integration.harness import OrderedFeeder, Worker
from tests.integration.scenario import (
    FAST_SESSION,
    Outcome,
    assert_same_effects,
    assert_same_rows,
    feed,
    new_worker,
    reaching,
    read_effects,
    rows_when_equal,
    steps,
    then,
)

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

SEED = int(os.environ.get("CRASH_SEED", "20260901"))
MAX_DELAY_S = 0.5  # after the step came out of ingest: the household stage and the sink are mid-batch


def kill_points(step_count: int, seed: int, kills: int) -> dict[int, float]:
    """Step index -> delay before the kill; never after the last step (that would test nothing)."""
    rng = random.Random(seed)
    return {
        index: round(rng.uniform(0, MAX_DELAY_S), 3)
        for index in sorted(rng.sample(range(step_count - 1), kills))
    }


def kill_and_restart(worker: Worker, delay_s: float) -> Callable[[OrderedFeeder], Awaitable[None]]:
    async def action(feeder: OrderedFeeder) -> None:
        await asyncio.sleep(delay_s)
        worker.stop(signal.SIGKILL)
        worker.start()
        await asyncio.to_thread(worker.wait_ready)
        # The new process re-reads what the dead one had not committed.
        await feeder.resync()

    return action


@pytest.mark.parametrize(
    ("seed", "kills"),
    [pytest.param(SEED, 3, id="3-kills"), pytest.param(SEED + 1, 10, id="10-kills", marks=pytest.mark.slow)],
)
def test_worker_killed_at_random_moments_ends_with_the_same_effects_and_rows(
    broker: EmbeddedBroker,
    tmp_path: Path,
    postgres_db_url: str,
    scenario_reference: Outcome,
    seed: int,
    kills: int,
) -> None:
    all_steps = steps()
    points = kill_points(len(all_steps), seed, kills)
    worker = new_worker(broker, tmp_path, postgres_db_url, **FAST_SESSION)
    worker.start()
    try:
        worker.wait_ready()
        at = {index: then(kill_and_restart(worker, delay)) for index, delay in points.items()}
        asyncio.run(feed(broker, worker, all_steps, at))
        effects = read_effects(broker, worker, until=reaching(scenario_reference.effects))
        rows = rows_when_equal(postgres_db_url, scenario_reference.rows)
    finally:
        worker.stop()
    where = f"kill -9 after steps {points} of {len(all_steps)} (seed {seed})"
    assert_same_effects(effects, scenario_reference.effects, where)
    assert_same_rows(rows, scenario_reference.rows, where)
