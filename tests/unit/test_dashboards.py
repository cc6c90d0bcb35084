"""The Grafana dashboards and alert rules: readable panels, and only metrics the service exports."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from streams.worker.metrics import Metrics

INFRA = Path(__file__).resolve().parents[2] / "infra"
DASHBOARD_DIR = INFRA / "grafana" / "dashboards"
ALERTS = INFRA / "prometheus" / "alerts.yml"
METRIC_NAME = re.compile(r"\bvroegsignaal_[a-z0-9_]*[a-z0-9]")
SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}


def _load_builder() -> ModuleType:
    path = INFRA / "grafana" / "build_dashboards.py"
    spec = importlib.util.spec_from_file_location("build_dashboards", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the module executes.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


BUILDER = _load_builder()
NAMES = sorted(BUILDER.DASHBOARDS)


def _dashboard(name: str) -> dict[str, Any]:
    return json.loads((DASHBOARD_DIR / f"{name}.json").read_text(encoding="utf-8"))


def _panels() -> list[tuple[str, dict[str, Any]]]:
    return [(name, panel) for name in NAMES for panel in _dashboard(name)["panels"]]


def _expressions() -> list[tuple[str, str]]:
    return [
        (f"{name}: {panel['title']}", target["expr"])
        for name, panel in _panels()
        for target in panel["targets"]
    ]


def exported_names() -> set[str]:
    """Every series name a fresh Metrics() exposes, suffixes included."""
    names: set[str] = set()
    for family in Metrics().registry.collect():
        names.update(family.name + suffix for suffix in SUFFIXES[family.type])
    return names


def test_exported_names_include_histogram_and_counter_suffixes() -> None:
    names = exported_names()
    assert "vroegsignaal_events_consumed_total" in names
    assert "vroegsignaal_processing_latency_seconds_bucket" in names
    assert "vroegsignaal_sink_up" in names


@pytest.mark.parametrize("name", NAMES)
def test_checked_in_dashboard_equals_generator_output(name: str) -> None:
    checked_in = (DASHBOARD_DIR / f"{name}.json").read_text(encoding="utf-8")
    assert checked_in == BUILDER.render(name), (
        f"infra/grafana/dashboards/{name}.json is stale: run python infra/grafana/build_dashboards.py"
    )


def test_every_dashboard_file_comes_from_the_generator() -> None:
    assert sorted(path.stem for path in DASHBOARD_DIR.glob("*.json")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_dashboard_uses_schema_39_and_only_timeseries_and_stat_panels(name: str) -> None:
    dashboard = _dashboard(name)
    assert dashboard["schemaVersion"] == 39
    assert {panel["type"] for panel in dashboard["panels"]} <= {"timeseries", "stat"}
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_every_panel_has_a_title_and_a_description_asking_its_question() -> None:
    for name, panel in _panels():
        assert panel.get("title", "").strip(), f"{name}: panel {panel['id']} has no title"
        description = panel.get("description", "")
        assert "?" in description, f"{name}: {panel['title']!r} does not say what question it answers"


def test_every_panel_and_query_reads_the_datasource_variable() -> None:
    expected = {"type": "prometheus", "uid": "${datasource}"}
    for name, panel in _panels():
        assert panel["datasource"] == expected, f"{name}: {panel['title']}"
        assert panel["targets"], f"{name}: {panel['title']} has no query"
        for target in panel["targets"]:
            assert target["datasource"] == expected, f"{name}: {panel['title']}"


def test_the_datasource_variable_offers_prometheus_and_defaults_to_the_provisioned_one() -> None:
    provisioned = (INFRA / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    uid = re.search(r"^\s*uid:\s*(\S+)\s*$", provisioned, re.MULTILINE)
    assert uid is not None
    for name in NAMES:
        variables = {v["name"]: v for v in _dashboard(name)["templating"]["list"]}
        variable = variables["datasource"]
        assert variable["type"] == "datasource", name
        assert variable["query"] == "prometheus", name
        assert variable["current"]["value"] == uid.group(1), name


def test_panels_fit_the_grid_without_overlapping() -> None:
    for name in NAMES:
        taken: set[tuple[int, int]] = set()
        for panel in _dashboard(name)["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] + pos["w"] <= 24, f"{name}: {panel['title']}"
            cells = {
                (x, y)
                for x in range(pos["x"], pos["x"] + pos["w"])
                for y in range(pos["y"], pos["y"] + pos["h"])
            }
            assert not cells & taken, f"{name}: {panel['title']} overlaps another panel"
            taken |= cells


def test_every_metric_in_the_dashboards_is_exported() -> None:
    exported = exported_names()
    for where, expr in _expressions():
        unknown = set(METRIC_NAME.findall(expr)) - exported
        assert not unknown, f"{where}: {sorted(unknown)} not exported by streams/worker/metrics.py"


def test_every_metric_in_the_alert_rules_is_exported() -> None:
    # The whole file, comments and annotations included: a stale name anywhere misleads.
    referenced = set(METRIC_NAME.findall(ALERTS.read_text(encoding="utf-8")))
    assert referenced, "no vroegsignaal_ metric found in alerts.yml"
    assert not referenced - exported_names(), (
        "alerts.yml names metrics streams/worker/metrics.py does not export"
    )


def test_every_exported_metric_is_on_a_dashboard() -> None:
    # Ours; prometheus_client's process and platform collectors are standard, shown where they help.
    families = {
        family.name for family in Metrics().registry.collect() if family.name.startswith("vroegsignaal_")
    }
    shown = " ".join(expr for _, expr in _expressions())
    missing = {name for name in families if not re.search(rf"\b{name}(_total|_bucket|_sum|_count)?\b", shown)}
    assert not missing, f"exported but on no dashboard: {sorted(missing)}"


def test_programme_totals_follow_the_dashboard_range() -> None:
    for panel in _dashboard("programme")["panels"]:
        if panel["type"] == "stat":
            assert all("[$__range]" in t["expr"] and t["instant"] for t in panel["targets"]), panel["title"]


def test_expressions_for_plain_prometheus_have_no_grafana_variables() -> None:
    expressions = list(BUILDER.prometheus_expressions("2h"))
    assert len(expressions) == len(_expressions())
    for dashboard, title, expr in expressions:
        assert "$" not in expr, f"{dashboard}: {title}"
