"""Honest readiness: a background probe of the broker and the database; `/readyz` answers from memory.

Every `probe_interval_s` one task asks the broker for its metadata and the database for a
`SELECT 1`, each with a short timeout, and keeps the answers. `/readyz` never waits on
either: it reads what the last probe found, so it answers within milliseconds and goes
not-ready, with the reason, a few seconds after the broker or the database goes away.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import faust

from connectors.kafka.admin import bootstrap_of
from connectors.kafka.probe import BrokerProbe
from connectors.readmodel import ReadModel
from streams.worker.pipeline import Pipeline

__all__ = ["Probed", "Readiness", "readiness", "register_probe"]

log = logging.getLogger(__name__)


@dataclass
class Probed:
    """What the last probe of one dependency found, and since when."""

    name: str
    up: bool = False
    reason: str = "not probed yet"
    since: float = field(default_factory=time.monotonic)

    def record(self, up: bool, reason: str) -> None:
        """Keep the probe's answer; a change is logged once, not every probe."""
        if up != self.up:
            self.since = time.monotonic()
            if up:
                log.info("readiness: the %s is reachable", self.name)
            else:
                log.warning("readiness: the %s is unreachable: %s", self.name, reason)
        self.up, self.reason = up, reason


@dataclass
class Readiness:
    """The probes' results, held by the pipeline's views."""

    broker: Probed = field(default_factory=lambda: Probed("broker"))
    database: Probed = field(default_factory=lambda: Probed("database"))


def readiness(app: faust.App, pipeline: Pipeline, state: Readiness) -> tuple[dict[str, bool], list[str]]:
    """The checks of `/readyz` and, for each failing one, why; from memory only."""
    consumer: Any = app.consumer
    tables: Any = app.tables  # the TableManager type stubs lack `recovery`
    now = time.monotonic()
    checks = {
        "broker_reachable": state.broker.up,
        "database_reachable": state.database.up,
        "partitions_assigned": bool(consumer.assignment()),
        "recovery_done": not tables.recovery.in_recovery and not app.rebalancing,
        "sink_reachable": pipeline.metrics.sink_reachable,
    }
    reasons = {
        "broker_reachable": f"broker unreachable for {now - state.broker.since:.0f} s: {state.broker.reason}",
        "database_reachable": (
            f"database unreachable for {now - state.database.since:.0f} s: {state.database.reason}"
        ),
        "partitions_assigned": "no partitions assigned to this worker yet",
        "recovery_done": "tables recovering or the group rebalancing",
        "sink_reachable": "the read-model sink's last write or ping failed",
    }
    return checks, [reasons[name] for name, ok in checks.items() if not ok]


def register_probe(app: faust.App, pipeline: Pipeline) -> Readiness:
    """Start the probe with the worker; the state it keeps is returned for the views."""
    state = Readiness()
    s = pipeline.settings

    @app.task
    async def probe_dependencies() -> None:
        probe = BrokerProbe(bootstrap_of(s.broker_url), security=s.kafka_security.client)
        timeout_s = min(s.probe_interval_s, 2.0)
        try:
            while True:
                await asyncio.gather(
                    _probe_broker(pipeline, probe, state.broker, timeout_s),
                    _probe_database(pipeline, state.database, timeout_s),
                )
                await asyncio.sleep(s.probe_interval_s)
        finally:
            await probe.close()

    return state


async def _probe_broker(pipeline: Pipeline, probe: BrokerProbe, into: Probed, timeout_s: float) -> None:
    up = await probe.reachable(timeout_s=timeout_s)
    pipeline.metrics.dependency_up.labels("broker").set(1 if up else 0)
    into.record(up, "" if up else probe.last_error)


async def _probe_database(pipeline: Pipeline, into: Probed, timeout_s: float) -> None:
    read_model: ReadModel | None = pipeline.read_model.model
    if read_model is None:
        up, reason = False, "the read model is not open yet (migrating, or the database is down at start)"
    else:
        up = await read_model.ping(timeout_s=timeout_s)
        reason = "" if up else f"no answer to SELECT 1 within {timeout_s:g} s"
        pipeline.metrics.record_sink_up(up)
    pipeline.metrics.dependency_up.labels("database").set(1 if up else 0)
    into.record(up, reason)
