"""Every Prometheus metric of the service, in one registry, base units, `vroegsignaal_` prefix.

signals/ never records a metric; agents and sinks do, from the outcomes it returns.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable
from importlib import metadata
from typing import get_args

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

from schemas.contract_v1 import SOURCES
from schemas.deadletter_v1 import ReasonClass
from schemas.outputs_v1 import VIOLATION_BASIS, Priority, SignalKind

__all__ = ["CONFLICT_KINDS", "HOUSEHOLD_LIMITS", "INGEST_PATHS", "Metrics", "version_of"]

# Label values known before the first event, so every labelled counter starts at 0 for them:
# a panel then shows 0, not "No data", and rate()/increase() see the first increment.
HOUSEHOLD_LIMITS = ("open_debts", "signals_per_case")  # signals.limits
CONFLICT_KINDS = ("event_id", "request_id", "outcome")
INGEST_PATHS = ("http", "file")  # where ingest_rejected is counted (file: streams/worker/file_rejections.py)
DEPENDENCIES = ("broker", "database")
TICK = "tick"  # the household_limit source of a deadline passing, not of an event


def version_of(distribution: str) -> str:
    """The installed version of a distribution, or "unknown" (e.g. run from a bare checkout)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


class Metrics:
    """The metric objects, on their own registry so tests and processes do not collide."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.events_consumed = Counter(
            "vroegsignaal_events_consumed_total",
            "Inbound messages consumed, per source.",
            ["source"],
            registry=r,
        )
        self.events_accepted = Counter(
            "vroegsignaal_events_accepted_total",
            "Inbound events accepted, per source.",
            ["source"],
            registry=r,
        )
        self.events_duplicate = Counter(
            "vroegsignaal_events_duplicate_total",
            "Events dropped as duplicates (same source, creditor, event_id).",
            ["source"],
            registry=r,
        )
        self.household_limit = Counter(
            "vroegsignaal_household_limit_total",
            "Bounds per household hit (signals.limits): events refused for open_debts, events_per_debt or"
            " events_per_household (dead-lettered as household_limit), signals withheld for signals_per_case;"
            " per source ('tick' for a deadline).",
            ["source", "limit"],
            registry=r,
        )
        self.events_dead_lettered = Counter(
            "vroegsignaal_events_dead_lettered_total",
            "Inbound messages sent to the dead-letter topic, per source and reason class.",
            ["source", "reason"],
            registry=r,
        )
        # Issue 18: rows a creditor's HTTP request was refused for (400, 409, 413: nothing published,
        # the creditor fixes and resends), and rows `vroegsignaal ingest FILE` dead-lettered (read back
        # from the dead-letter topics), per reason class; the stream's dead letters are counted above.
        self.ingest_rejected = Counter(
            "vroegsignaal_ingest_rejected_total",
            "Inbound rows refused at the edge before publishing, per source, path (http, file) and reason class.",
            ["source", "path", "reason"],
            registry=r,
        )
        self.processing_latency = Histogram(
            "vroegsignaal_processing_latency_seconds",
            "From a batch being consumed to its outputs being acknowledged by the broker.",
            ["stage"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
            registry=r,
        )
        self.event_time_lag = Histogram(
            "vroegsignaal_event_time_lag_seconds",
            "Wall-clock now minus the event's occurred_at, at ingest (live traffic only).",
            ["source"],
            buckets=(1, 10, 60, 600, 3600, 6 * 3600, 86400, 2 * 86400, 7 * 86400, 30 * 86400),
            registry=r,
        )
        self.stream_time = Gauge(
            "vroegsignaal_stream_time_seconds",
            "Stream time (highest event time seen) per partition, Unix seconds.",
            ["partition"],
            registry=r,
        )
        self.pending_deadlines = Gauge(
            "vroegsignaal_pending_deadlines", "Households with a pending deadline on this worker.", registry=r
        )
        self.households_tracked = Gauge(
            "vroegsignaal_households_tracked", "Households held in this worker's state.", registry=r
        )
        self.signals_raised = Counter(
            "vroegsignaal_signals_raised_total",
            "Signals raised, per team, priority and kind.",
            ["team", "priority", "kind"],
            registry=r,
        )
        self.signals_unrouted = Counter(
            "vroegsignaal_signals_unrouted_total",
            "Signals that went to the fallback team because the address is outside the map.",
            registry=r,
        )
        self.signals_resolved = Counter(
            "vroegsignaal_signals_resolved_total", "Signals resolved, per team.", ["team"], registry=r
        )
        self.reminders_issued = Counter(
            "vroegsignaal_reminders_issued_total",
            "Free reminders issued, per source.",
            ["source"],
            registry=r,
        )
        self.costs_permitted = Counter(
            "vroegsignaal_costs_permitted_total",
            "Costs-permitted decisions, per source.",
            ["source"],
            registry=r,
        )
        self.cost_violations = Counter(
            "vroegsignaal_cost_violations_total",
            "Charges a creditor may not make, per source, kind and basis (the law, or policy).",
            ["source", "kind", "basis"],
            registry=r,
        )
        self.costs_avoided = Counter(
            "vroegsignaal_costs_avoided_euros_total",
            "Collection costs that did not apply because debts were paid within the free reminder term.",
            registry=r,
        )
        self.sink_batch_latency = Histogram(
            "vroegsignaal_sink_batch_duration_seconds",
            "Time to write one batch to the read model, retries included.",
            registry=r,
        )
        self.sink_rows = Counter(
            "vroegsignaal_sink_rows_written_total",
            "Rows upserted into the read model, per kind.",
            ["kind"],
            registry=r,
        )
        self.sink_retries = Counter(
            "vroegsignaal_sink_retries_total", "Read-model writes retried after a database error.", registry=r
        )
        self.sink_errors = Counter(
            "vroegsignaal_sink_errors_total", "Read-model write attempts that failed.", registry=r
        )
        self.sink_up = Gauge(
            "vroegsignaal_sink_up", "1 when the last read-model write or ping succeeded.", registry=r
        )
        # The same fact for /readyz, which must not read a gauge's private value.
        self.sink_reachable = False
        self.consumer_lag = Gauge(
            "vroegsignaal_consumer_lag_messages",
            "End offset minus committed offset, per topic and partition.",
            ["topic", "partition"],
            registry=r,
        )
        self.rebalances = Counter(
            "vroegsignaal_rebalances_total", "Consumer-group rebalances seen by this worker.", registry=r
        )
        # Readiness and timeouts (issue 16): the route is the template, never the path (no household keys).
        self.http_request_duration = Histogram(
            "vroegsignaal_http_request_duration_seconds",
            "Time to answer an HTTP request, per route template, method and status class.",
            ["route", "method", "status_class"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.http_unavailable = Counter(
            "vroegsignaal_http_unavailable_total",
            "Requests answered 503 because the broker or the database did not answer in time.",
            ["dependency"],
            registry=r,
        )
        self.dependency_up = Gauge(
            "vroegsignaal_dependency_up",
            "1 when the last readiness probe of the dependency (broker, database) succeeded.",
            ["dependency"],
            registry=r,
        )
        # Same id, other content (issue 16): an ingest event_id (also dead-lettered as
        # conflicting_duplicate), a team form's request_id (409), a case's second outcome (409).
        self.conflicts = Counter(
            "vroegsignaal_conflicts_total",
            "Messages refused because their id was seen before with other content, per kind.",
            ["kind"],
            registry=r,
        )

        # Issue 18: the process (CPU, memory, open files) and the Python running it, and what is deployed.
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        self.build_info = Gauge(
            "vroegsignaal_build_info",
            "Always 1; the labels say which version of vroegsignaal runs, on which Python and Faust.",
            ["version", "python", "faust"],
            registry=r,
        )
        self.build_info.labels(
            version_of("vroegsignaal"), platform.python_version(), version_of("faust-streaming")
        ).set(1)
        self._start_at_zero()

    def _start_at_zero(self) -> None:
        """Every labelled counter at 0 for each label value known from the schemas."""
        for source in SOURCES:
            self.events_duplicate.labels(source)
            self.reminders_issued.labels(source)
            self.costs_permitted.labels(source)
            self.household_limit.labels(source, "open_debts")
            self.household_limit.labels(source, "events_per_debt")
            self.household_limit.labels(source, "events_per_household")
            self.household_limit.labels(source, "signals_per_case")
            for reason in get_args(ReasonClass):
                self.events_dead_lettered.labels(source, reason)
                for path in INGEST_PATHS:
                    self.ingest_rejected.labels(source, path, reason)
            for kind, basis in VIOLATION_BASIS.items():
                self.cost_violations.labels(source, kind, basis)
        self.household_limit.labels(TICK, "signals_per_case")
        for conflict in CONFLICT_KINDS:
            self.conflicts.labels(conflict)
        for dependency in DEPENDENCIES:
            self.http_unavailable.labels(dependency)

    def know_teams(self, team_ids: Iterable[str]) -> None:
        """Start the per-team counters at 0 for the teams of the routing table (known at start-up only)."""
        for team in team_ids:
            self.signals_resolved.labels(team)
            for priority in get_args(Priority):
                for kind in get_args(SignalKind):
                    self.signals_raised.labels(team, priority, kind)

    def record_sink_up(self, up: bool) -> None:
        """Whether the last read-model write or ping succeeded (the gauge and readiness)."""
        self.sink_reachable = up
        self.sink_up.set(1 if up else 0)
