"""A fresh worker's /metrics as Grafana first sees it, and HTTP ingest refusals counted there (issue 18)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connectors.kafka.broker import EmbeddedBroker
from connectors.team_access import default_team_directory
from schemas.contract_v1 import SOURCES
from schemas.deadletter_v1 import ReasonClass
from tests.integration.harness import Worker, create_topics

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

WATER_TOKEN = "waternet-" + uuid.uuid4().hex
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def worker(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    unique = uuid.uuid4().hex[:10]
    data_dir: Path = tmp_path_factory.mktemp("ops-metrics")
    tokens = {
        "waternet": {"source": "water", "token_sha256": hashlib.sha256(WATER_TOKEN.encode()).hexdigest()}
    }
    started = Worker(
        broker=broker,
        prefix=f"o{unique}.",
        data_dir=data_dir / "worker",
        database_url=f"sqlite:///{data_dir / 'readmodel.db'}",
        app_id=f"ops-metrics-{unique}",
        extra_env={"VROEGSIGNAAL_CREDITOR_TOKENS": json.dumps(tokens)},
    )
    asyncio.run(create_topics(broker, started.names))
    started.start()
    try:
        started.wait_ready()
        yield started
    finally:
        started.stop()


def _samples(worker: Worker) -> Samples:
    status, body = worker.get("/metrics")
    assert status == 200, body
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def _post(worker: Worker, source: str, body: bytes, token: str) -> int:
    request = urllib.request.Request(worker.url(f"/v1/ingest/{source}"), data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _rejected(samples: Samples, reason: str) -> float:
    key = (
        "vroegsignaal_ingest_rejected_total",
        frozenset({"source": "water", "path": "http", "reason": reason}.items()),
    )
    return samples[key]


def test_a_fresh_worker_shows_zeros_for_dead_letters_and_resolved_signals_and_says_what_runs(
    worker: Worker,
) -> None:
    samples = _samples(worker)
    for source in SOURCES:
        for reason in get_args(ReasonClass):
            key = frozenset({"source": source, "reason": reason}.items())
            assert samples[("vroegsignaal_events_dead_lettered_total", key)] == 0, (source, reason)
        assert samples[("vroegsignaal_events_duplicate_total", frozenset({"source": source}.items()))] == 0
    for team in default_team_directory().team_names:  # the worker under test routes to the sample teams
        assert samples[("vroegsignaal_signals_resolved_total", frozenset({"team": team}.items()))] == 0, team
    build = [labels for name, labels in samples if name == "vroegsignaal_build_info"]
    assert len(build) == 1
    assert {label for label, _ in build[0]} == {"version", "python", "faust"}
    names = {name for name, _ in samples}
    assert {"process_resident_memory_bytes", "process_cpu_seconds_total", "python_info"} <= names


def test_rows_refused_over_http_are_counted_per_reason_class(worker: Worker) -> None:
    before = _samples(worker)
    assert _post(worker, "water", b"this is not json", WATER_TOKEN) == 400
    assert _post(worker, "water", b'[{"type": "debt.opened"}, {"type": "nonsense"}]', WATER_TOKEN) == 400
    assert (
        _post(worker, "water", b"not json either", "a-wrong-token") == 401
    )  # no row of a creditor: not counted
    after = _samples(worker)
    assert _rejected(after, "not_json") - _rejected(before, "not_json") == 1
    assert (
        _rejected(after, "invalid")
        + _rejected(after, "unknown_type")
        - (_rejected(before, "invalid") + _rejected(before, "unknown_type"))
        == 2
    )
