"""Write the Grafana dashboards in infra/grafana/dashboards/ from the panel lists below.

Run `python infra/grafana/build_dashboards.py` after editing this file; the checked-in
JSON must equal its output (tests/unit/test_dashboards.py). Standard library only, so
it runs without the project installed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

# Every panel reads from the dashboard's `datasource` variable, so an operator whose Prometheus
# has another uid (or who has several) picks it at the top of the dashboard. Its default is the
# datasource provisioned from infra/grafana/provisioning/datasources/prometheus.yml.
DATASOURCE_VARIABLE = "datasource"
PROVISIONED_DATASOURCE_UID = "prometheus"
DATASOURCE = {"type": "prometheus", "uid": f"${{{DATASOURCE_VARIABLE}}}"}
OUT_DIR = Path(__file__).resolve().parent / "dashboards"
GRID_WIDTH = 24
PANEL_HEIGHT = 8
# Grafana's built-in range variable; programme figures are totals over the picked range.
# prometheus_expressions() substitutes it for checks against a plain Prometheus.
RANGE = "$__range"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    description: str  # the question the panel answers
    queries: tuple[Query, ...]
    kind: Literal["timeseries", "stat"] = "timeseries"
    unit: str = "short"
    width: int = 12


def zero_if_none(expr: str) -> str:
    """The expression, or a single 0 when it has no series at all.

    A labelled counter has no series until its first increment, so "no duplicates
    yet" would read as "No data". `or on() vector(0)` adds the 0 only when the left
    side is empty, never beside real series.
    """
    return f"{expr} or on() vector(0)"


def rate(metric: str, by: str, window: str = "5m") -> str:
    return f"sum by ({by}) (rate({metric}[{window}]))"


def total(metric: str, by: str | None = None) -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (increase({metric}[{RANGE}]))"


def quantile(q: float, metric: str, by: str, window: str = "5m") -> str:
    le = f"{by}, le" if by else "le"
    return f"histogram_quantile({q}, sum by ({le}) (rate({metric}_bucket[{window}])))"


OPERATIONS = (
    Panel(
        "Events consumed and accepted per source",
        "How many messages per second does each creditor source deliver, and how many pass "
        "validation? The gap between consumed and accepted goes to the source's dead-letter topic.",
        (
            Query(rate("vroegsignaal_events_consumed_total", "source"), "{{source}} consumed"),
            Query(rate("vroegsignaal_events_accepted_total", "source"), "{{source}} accepted"),
        ),
        unit="ops",
    ),
    Panel(
        "Duplicates per source",
        "How many events per second are dropped because the same source, creditor and "
        "event_id was seen before? A steady stream means a creditor re-sends its history.",
        (Query(zero_if_none(rate("vroegsignaal_events_duplicate_total", "source")), "{{source}}"),),
        unit="ops",
    ),
    Panel(
        "Dead letters per source and reason",
        "Which sources send messages that fail validation, and why (too_large, not_json, "
        "invalid, wrong_source, unknown_type, future_dated, household_limit, conflicting_duplicate)? "
        "dead-letter.<source> holds the details. Rows refused at HTTP ingest (400, 409, 413: nothing "
        "published, the creditor resends) are counted beside them with their path.",
        (
            Query(
                zero_if_none(rate("vroegsignaal_events_dead_lettered_total", "source, reason")),
                "{{source}} {{reason}}",
            ),
            Query(
                zero_if_none(rate("vroegsignaal_ingest_rejected_total", "source, path, reason")),
                "{{source}} {{reason}} refused ({{path}})",
            ),
        ),
        unit="ops",
    ),
    Panel(
        "Bounds per household hit",
        "How often does a household reach its bounds (issue 16)? open_debts: a new debt beyond "
        "max_open_debts_per_household, dead-lettered as household_limit; events_per_debt: an event beyond "
        "max_events_per_debt of one debt in 90 days, events_per_household: beyond max_events_per_household "
        "in 90 days, both dead-lettered too; signals_per_case: news that raised "
        "no signal because the case already has max_signals_per_case. Real households rarely get near them.",
        (
            Query(
                zero_if_none(rate("vroegsignaal_household_limit_total", "source, limit")),
                "{{source}} {{limit}}",
            ),
        ),
        unit="ops",
    ),
    Panel(
        "Conflicts: same id, other content",
        "How often does an id come back with other content (issue 16)? event_id: a creditor event re-sent "
        "with another content (dead-lettered as conflicting_duplicate, or 409 over HTTP); request_id: a team "
        "form re-sent with other content (409); outcome: a second, different outcome of a case (409, no feedback).",
        (Query(zero_if_none(rate("vroegsignaal_conflicts_total", "kind")), "{{kind}}"),),
        unit="ops",
    ),
    Panel(
        "Processing latency p50 / p99 per stage",
        "How long does a batch take from being consumed to its outputs being acknowledged by "
        "the broker, per stage (ingest, household)? Rising p99 means workers are saturated.",
        (
            Query(quantile(0.5, "vroegsignaal_processing_latency_seconds", "stage"), "{{stage}} p50"),
            Query(quantile(0.99, "vroegsignaal_processing_latency_seconds", "stage"), "{{stage}} p99"),
        ),
        unit="s",
    ),
    Panel(
        "Event-time lag p50 per source",
        "How old are events when they arrive (now minus occurred_at)? Shows how late each "
        "creditor reports; nightly files show hours, live feeds seconds. Empty between deliveries.",
        (Query(quantile(0.5, "vroegsignaal_event_time_lag_seconds", "source", "1h"), "{{source}}"),),
        unit="s",
    ),
    Panel(
        "Stream time behind the wall clock per partition",
        "How far behind now is each partition's stream time, which drives every deadline? "
        "With the live clock ticking it stays within seconds; a rising line is a stalled partition.",
        (Query("time() - max by (partition) (vroegsignaal_stream_time_seconds)", "partition {{partition}}"),),
        unit="s",
    ),
    Panel(
        "Consumer lag per partition",
        "How many messages wait to be processed on each topic partition? Lag that keeps "
        "growing means the workers fall behind: add workers, up to the number of partitions.",
        (
            Query(
                "max by (topic, partition) (vroegsignaal_consumer_lag_messages)",
                "{{topic}} [{{partition}}]",
            ),
        ),
    ),
    Panel(
        "Pending deadlines per worker",
        "How many households on each worker wait for a deadline (reminder term, 30-day window) "
        "to pass in stream time?",
        (Query("sum by (instance) (vroegsignaal_pending_deadlines)", "{{instance}}"),),
        width=6,
    ),
    Panel(
        "Households tracked per worker",
        "How many households does each worker hold in its state? Shows how evenly the "
        "partitions spread the households and how state grows.",
        (Query("sum by (instance) (vroegsignaal_households_tracked)", "{{instance}}"),),
        width=6,
    ),
    Panel(
        "Read-model batch latency p99",
        "How long does writing one batch to the read model take, retries included? "
        "A rising line points at the database.",
        (Query(quantile(0.99, "vroegsignaal_sink_batch_duration_seconds", ""), "p99"),),
        unit="s",
    ),
    Panel(
        "Read-model rows written per kind",
        "How many rows per second are upserted into the read model, per kind of output?",
        (Query(rate("vroegsignaal_sink_rows_written_total", "kind"), "{{kind}}"),),
        unit="ops",
    ),
    Panel(
        "Read-model retries and errors",
        "How often do writes to the read model fail, and how often are they retried? "
        "Errors with no recovery end in the sink-down alert.",
        (
            Query("sum(rate(vroegsignaal_sink_retries_total[5m]))", "retries"),
            Query("sum(rate(vroegsignaal_sink_errors_total[5m]))", "errors"),
        ),
        unit="ops",
    ),
    Panel(
        "Read model up",
        "Can each worker write to the read model right now (1 = last write or ping succeeded)?",
        (Query("min by (instance) (vroegsignaal_sink_up)", "{{instance}}"),),
        kind="stat",
        width=6,
    ),
    Panel(
        "Broker and database reachable",
        "Did the last readiness probe (every probe_interval_s) reach the broker and the database? "
        "0 means /readyz answers 503 and requests that need it answer 503 with Retry-After.",
        (Query("min by (dependency) (vroegsignaal_dependency_up)", "{{dependency}}"),),
        kind="stat",
        width=6,
    ),
    Panel(
        "HTTP answer time p95 per route",
        "How long do the pages, the API, ingest and the probes take to answer, per route template? "
        "A slow route points at the database or a large case; /healthz and /metrics stay near zero.",
        (Query(quantile(0.95, "vroegsignaal_http_request_duration_seconds", "route"), "{{route}}"),),
        unit="s",
    ),
    Panel(
        "HTTP 503s per dependency and 5xx per route",
        "How many requests per second were refused because the broker or the database did not answer "
        "in time (503 with Retry-After), and how many server errors each route answered?",
        (
            Query(
                zero_if_none(rate("vroegsignaal_http_unavailable_total", "dependency")), "503 {{dependency}}"
            ),
            Query(
                zero_if_none(
                    'sum by (route) (rate(vroegsignaal_http_request_duration_seconds_count{status_class="5xx"}[5m]))'
                ),
                "5xx {{route}}",
            ),
        ),
        unit="ops",
    ),
    Panel(
        "Rebalances per worker",
        "How often did the consumer group rebalance in the last 15 minutes? Each rebalance "
        "pauses processing; frequent ones mean workers crash or miss heartbeats.",
        (Query("sum by (instance) (increase(vroegsignaal_rebalances_total[15m]))", "{{instance}}"),),
        width=6,
    ),
    Panel(
        "Versions running",
        "Which version of vroegsignaal, on which Python and Faust, do the workers run, and how many of "
        "each? Two lines during a rolling update; two lines that stay mean a rollout got stuck.",
        (
            Query(
                "count by (version, python, faust) (vroegsignaal_build_info)",
                "{{version}} (Python {{python}}, Faust {{faust}})",
            ),
        ),
    ),
    Panel(
        "Memory per worker",
        "How much memory (resident) does each worker process use? Memory that only grows points at "
        'state held in memory (README "Performance": bytes per household).',
        (Query('max by (instance) (process_resident_memory_bytes{job="vroegsignaal"})', "{{instance}}"),),
        unit="bytes",
        width=6,
    ),
    Panel(
        "CPU per worker",
        "How many CPU cores does each worker process use? Near its limit while lag grows: add workers.",
        (
            Query(
                'sum by (instance) (rate(process_cpu_seconds_total{job="vroegsignaal"}[5m]))', "{{instance}}"
            ),
        ),
        width=6,
    ),
)

PROGRAMME = (
    Panel(
        "Signals raised per team",
        "How many early-warning signals did each neighbourhood team receive in the selected "
        "period? A signal with several kinds (e.g. crisis and multiple) counts once per kind.",
        (Query(zero_if_none(total("vroegsignaal_signals_raised_total", "team")), "{{team}}"),),
        kind="stat",
        width=8,
    ),
    Panel(
        "Signals raised per priority",
        "How urgent were the signals of the selected period (urgent, high, normal)? "
        "Counted once per kind, like the panel per team.",
        (Query(zero_if_none(total("vroegsignaal_signals_raised_total", "priority")), "{{priority}}"),),
        kind="stat",
        width=8,
    ),
    Panel(
        "Signals raised per kind",
        "Why were households signalled in the selected period: a single debt, multiple "
        "creditors, a consecutive signal within six months, or a crisis?",
        (Query(zero_if_none(total("vroegsignaal_signals_raised_total", "kind")), "{{kind}}"),),
        kind="stat",
        width=8,
    ),
    Panel(
        "Signals raised per hour, per priority",
        "How does the number of signals develop over time, per priority? "
        "Shows seasonal peaks and the effect of rule changes.",
        (
            Query(
                zero_if_none("sum by (priority) (increase(vroegsignaal_signals_raised_total[1h]))"),
                "{{priority}}",
            ),
        ),
        width=16,
    ),
    Panel(
        "Signals resolved per team",
        "How many signals were resolved in the selected period because every debt of the "
        "household was settled, per team?",
        (Query(zero_if_none(total("vroegsignaal_signals_resolved_total", "team")), "{{team}}"),),
        kind="stat",
        width=8,
    ),
    Panel(
        "Free reminders issued per source",
        "How many free payment reminders (14-dagenbrief) did the pipeline issue in the "
        "selected period, per creditor source?",
        (Query(zero_if_none(total("vroegsignaal_reminders_issued_total", "source")), "{{source}}"),),
        kind="stat",
    ),
    Panel(
        "Costs permitted per source",
        "For how many debts did the free-reminder term run out unpaid in the selected period, "
        "so that the creditor may now charge collection costs?",
        (Query(zero_if_none(total("vroegsignaal_costs_permitted_total", "source")), "{{source}}"),),
        kind="stat",
    ),
    Panel(
        "Cost violations per source and basis",
        "Which creditors charged what they may not in the selected period, and on what basis: "
        "the law (art. 6:96 lid 6 BW before the term ran out, BIK above the scale, WAHV above "
        "the raise, the winter rule for energy) or cabinet policy (CJIB: free reminder first)?",
        (
            Query(
                zero_if_none(total("vroegsignaal_cost_violations_total", "source, basis")),
                "{{source}}: {{basis}}",
            ),
        ),
        kind="stat",
    ),
    Panel(
        "Collection costs avoided",
        "How many euros of collection costs did households not have to pay in the selected "
        "period because they paid within the free reminder's term?",
        (Query(total("vroegsignaal_costs_avoided_euros_total"), "avoided"),),
        kind="stat",
        unit="currencyEUR",
        width=6,
    ),
    Panel(
        "Unrouted signals",
        "How many signals in the selected period had an address outside the routing map and "
        "went to the fallback team? Anything above 0 means the routing map needs updating.",
        (Query(total("vroegsignaal_signals_unrouted_total"), "unrouted"),),
        kind="stat",
        width=6,
    ),
)

DASHBOARDS = {
    "operations": ("vroegsignaal-operations", "vroegsignaal — operations", OPERATIONS, "now-6h"),
    "programme": ("vroegsignaal-programme", "vroegsignaal — programme", PROGRAMME, "now-30d"),
}


def panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    """One Grafana panel at grid position (x, y)."""
    body: dict[str, Any] = {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": PANEL_HEIGHT, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "datasource": DATASOURCE,
                "expr": query.expr,
                "legendFormat": query.legend,
                # A stat shows one number: one instant query instead of a range of them
                # (each step of a range query would re-read the whole $__range).
                "instant": panel.kind == "stat",
                "range": panel.kind != "stat",
            }
            for i, query in enumerate(panel.queries)
        ],
    }
    if panel.kind == "stat":
        body["options"] = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "none",
            "graphMode": "none",
            "textMode": "value_and_name",
        }
    else:
        body["options"] = {"legend": {"displayMode": "list", "placement": "bottom"}}
    return body


def datasource_variable() -> dict[str, Any]:
    """The `${datasource}` variable: any Prometheus datasource, the provisioned one by default."""
    return {
        "name": DATASOURCE_VARIABLE,
        "label": "Prometheus",
        "type": "datasource",
        "query": "prometheus",
        "current": {"text": "Prometheus", "value": PROVISIONED_DATASOURCE_UID},
        "hide": 0,
        "refresh": 1,
        "regex": "",
        "options": [],
    }


def dashboard_json(name: str) -> dict[str, Any]:
    """The whole dashboard: panels laid out left to right, wrapping at the grid width."""
    uid, title, panels, time_from = DASHBOARDS[name]
    laid_out = []
    x = y = 0
    for panel_id, panel in enumerate(panels, start=1):
        if x + panel.width > GRID_WIDTH:
            x, y = 0, y + PANEL_HEIGHT
        laid_out.append(panel_json(panel, panel_id, x, y))
        x += panel.width
    return {
        "uid": uid,
        "title": title,
        "tags": ["vroegsignaal"],
        "editable": True,
        "schemaVersion": 39,
        "version": 1,
        "timezone": "browser",
        "refresh": "1m",
        "time": {"from": time_from, "to": "now"},
        "annotations": {"list": []},
        "templating": {"list": [datasource_variable()]},
        "panels": laid_out,
    }


def render(name: str) -> str:
    """The dashboard's file content, byte for byte."""
    return json.dumps(dashboard_json(name), indent=2, ensure_ascii=False) + "\n"


def prometheus_expressions(range_: str = "1h") -> Iterator[tuple[str, str, str]]:
    """(dashboard, panel title, expression) with Grafana's $__range replaced, for plain Prometheus."""
    for name, (_, _, panels, _) in DASHBOARDS.items():
        for panel in panels:
            for query in panel.queries:
                yield name, panel.title, query.expr.replace(RANGE, range_)


def main() -> int:
    for name in DASHBOARDS:
        (OUT_DIR / f"{name}.json").write_text(render(name), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
