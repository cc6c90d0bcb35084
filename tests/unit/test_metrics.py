"""What a fresh worker's /metrics shows before the first event: zeros, not missing series, and what runs."""

from __future__ import annotations

import platform
from typing import get_args

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from schemas.contract_v1 import SOURCES
from schemas.deadletter_v1 import ReasonClass
from schemas.outputs_v1 import VIOLATION_BASIS
from streams.worker.ingest_http import BadRequest, count_rejected, split_body, validate
from streams.worker.metrics import CONFLICT_KINDS, Metrics, version_of
from streams.worker.problem import problem_body


def _scraped(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the registry as a scrape returns it: (name, labels) -> value."""
    text = generate_latest(metrics.registry).decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    assert key in scraped, f"{name}{labels} is not exposed"
    return scraped[key]


def test_dead_letters_duplicates_and_bounds_are_zero_for_every_source_before_the_first_event() -> None:
    scraped = _scraped(Metrics())
    for source in SOURCES:
        assert _value(scraped, "vroegsignaal_events_duplicate_total", source=source) == 0
        assert _value(scraped, "vroegsignaal_reminders_issued_total", source=source) == 0
        assert _value(scraped, "vroegsignaal_costs_permitted_total", source=source) == 0
        for reason in get_args(ReasonClass):
            assert (
                _value(scraped, "vroegsignaal_events_dead_lettered_total", source=source, reason=reason) == 0
            )
            for path in ("http", "file"):
                assert (
                    _value(
                        scraped, "vroegsignaal_ingest_rejected_total", source=source, path=path, reason=reason
                    )
                    == 0
                )
        for limit in ("open_debts", "signals_per_case"):
            assert _value(scraped, "vroegsignaal_household_limit_total", source=source, limit=limit) == 0
        for kind, basis in VIOLATION_BASIS.items():
            assert (
                _value(scraped, "vroegsignaal_cost_violations_total", source=source, kind=kind, basis=basis)
                == 0
            )
    assert _value(scraped, "vroegsignaal_household_limit_total", source="tick", limit="signals_per_case") == 0
    for conflict in CONFLICT_KINDS:
        assert _value(scraped, "vroegsignaal_conflicts_total", kind=conflict) == 0
    for dependency in ("broker", "database"):
        assert _value(scraped, "vroegsignaal_http_unavailable_total", dependency=dependency) == 0


def test_a_consumed_source_is_not_invented_so_the_never_seen_alert_still_works() -> None:
    # alerts.yml: VroegsignaalSourceNeverSeen relies on absent(vroegsignaal_events_consumed_total{source=...}).
    scraped = _scraped(Metrics())
    assert not [key for key in scraped if key[0] == "vroegsignaal_events_consumed_total"]
    # Nor a dependency whose 0 would mean "down" before its first probe.
    assert not [key for key in scraped if key[0] == "vroegsignaal_dependency_up"]


def test_teams_of_the_routing_table_start_at_zero_once_known() -> None:
    metrics = Metrics()
    metrics.know_teams(["buurtteam-oost", "schuldhulp-centraal"])
    scraped = _scraped(metrics)
    for team in ("buurtteam-oost", "schuldhulp-centraal"):
        assert _value(scraped, "vroegsignaal_signals_resolved_total", team=team) == 0
        assert (
            _value(scraped, "vroegsignaal_signals_raised_total", team=team, priority="urgent", kind="crisis")
            == 0
        )


def test_build_info_names_the_version_python_and_faust() -> None:
    scraped = _scraped(Metrics())
    labels = {
        "version": version_of("vroegsignaal"),
        "python": platform.python_version(),
        "faust": version_of("faust-streaming"),
    }
    assert _value(scraped, "vroegsignaal_build_info", **labels) == 1
    assert labels["version"] != "unknown"  # installed with pip install -e, as make does
    assert labels["faust"].startswith("0.")


def test_process_and_platform_collectors_are_on_the_registry() -> None:
    scraped = _scraped(Metrics())
    names = {name for name, _ in scraped}
    assert "python_info" in names
    if platform.system() == "Linux":  # the process collector reads /proc
        assert {"process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds"} <= names


def test_two_registries_do_not_collide() -> None:
    first, second = Metrics(), Metrics()
    first.events_duplicate.labels("water").inc()
    assert _value(_scraped(second), "vroegsignaal_events_duplicate_total", source="water") == 0


def _refusal(body: bytes, source: str = "water") -> BadRequest:
    with pytest.raises(BadRequest) as raised:
        validate(split_body(body, max_message_bytes=1024), source)
    return raised.value


def test_rows_refused_at_http_ingest_count_per_source_and_reason_class() -> None:
    metrics = Metrics()
    refused = _refusal(b'[{"not": "an event"}, {"type": "debt.opened"}]')
    assert refused.status == 400
    count_rejected(metrics, "water", refused)
    count_rejected(metrics, "water", _refusal(b"this is not json"))
    count_rejected(metrics, "water", _refusal(b"[" + b'{"a": 1},' * 1000 + b'{"a": 1}]'))  # 1,001 events: 413
    scraped = _scraped(metrics)
    labels = {"source": "water", "path": "http"}
    assert _value(scraped, "vroegsignaal_ingest_rejected_total", **labels, reason="unknown_type") == 1
    assert _value(scraped, "vroegsignaal_ingest_rejected_total", **labels, reason="invalid") == 1
    assert _value(scraped, "vroegsignaal_ingest_rejected_total", **labels, reason="not_json") == 1
    assert _value(scraped, "vroegsignaal_ingest_rejected_total", **labels, reason="too_large") == 1
    assert (
        _value(scraped, "vroegsignaal_ingest_rejected_total", source="energy", path="http", reason="invalid")
        == 0
    )


def test_refusals_that_are_no_rows_of_a_known_source_are_not_counted() -> None:
    metrics = Metrics()
    count_rejected(metrics, "water", BadRequest(401, problem_body(401, "a creditor token is required")))
    count_rejected(metrics, "nonsense", _refusal(b"this is not json"))
    scraped = _scraped(metrics)
    assert sum(v for (name, _), v in scraped.items() if name == "vroegsignaal_ingest_rejected_total") == 0
