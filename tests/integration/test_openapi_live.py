"""docs/openapi.json against a live worker: served as checked in, and schemathesis finds no failure.

One demo worker (with its history, so a team has a case) answers every operation of the
document with bodies and parameters schemathesis generates from it (bounded, derandomized):
no 5xx, and every answer's status, content type and body are the ones the document describes.
Path parameters are real (the member's team, a case of it, its signal and household) so the
handlers get past the 404s; the bearer token is the right one for each operation.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from connectors.kafka.broker import EmbeddedBroker
from connectors.team_access import sha256_hex
from streams.worker.openapi import API_VERSION, document
from tests.integration.harness import Worker
from tests.integration.runs import run_demo_history
from tests.integration.team_client import DEMO_TOKENS, call

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

CREDITOR_TOKEN = "woonstad-" + uuid.uuid4().hex
READ_TOKEN = "test-read-token"  # the harness's operator token
DOCUMENT = document()
OPERATIONS = [
    (method.upper(), path) for path, operations in DOCUMENT["paths"].items() for method in operations
]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,  # API-Version on every answer, Retry-After on a 503
    response_schema_conformance,
]


@dataclass(frozen=True)
class Live:
    worker: Worker
    team: str
    values: dict[str, str]

    def token(self, path: str) -> str | None:
        security = next(iter(DOCUMENT["paths"][path].values()))["security"]
        scheme = next(iter(security[0])) if security else None
        return {
            "creditorToken": CREDITOR_TOKEN,
            "memberToken": DEMO_TOKENS[self.team],
            "readToken": READ_TOKEN,
        }.get(scheme or "")


@pytest.fixture(scope="module")
def live(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data_dir = Path(tmp_path_factory.mktemp("openapi-live"))
    tokens = {"woonstad": {"source": "housing", "token_sha256": sha256_hex(CREDITOR_TOKEN)}}
    env = {"VROEGSIGNAAL_CREDITOR_TOKENS": json.dumps(tokens)}
    run = run_demo_history(
        broker, data_dir, f"sqlite:///{data_dir / 'read.db'}", keep_running=True, extra_env=env
    )
    try:
        team, case = _a_team_with_a_case(run.worker)
        values = {
            "team": team,
            "case_id": case["case_id"],
            "signal_id": case["signals"][0]["signal_id"],
            "key": case["household_key"],
            "source": "housing",
        }
        yield Live(run.worker, team, values)
    finally:
        run.worker.stop()


def _a_team_with_a_case(worker: Worker) -> tuple[str, dict[str, Any]]:
    for team, token in sorted(DEMO_TOKENS.items()):
        answer = call(worker, "GET", f"/v1/teams/{team}/cases", token=token)
        if answer.status == 200 and answer.body["cases"]:
            return team, answer.body["cases"][0]
    raise AssertionError("no team has a case after the demo history")


def test_the_worker_serves_the_checked_in_document(live: Live) -> None:
    answer = call(live.worker, "GET", "/openapi.json")
    assert answer.status == 200
    assert answer.body == DOCUMENT
    assert answer.headers["API-Version"] == API_VERSION


@pytest.mark.parametrize(
    ("method", "path", "title"),
    [
        ("POST", "/v1/ingest/housing", "Unauthorized"),
        ("GET", "/v1/teams/{team}/cases", "Niet aangemeld"),
        ("GET", "/households/{key}", "Unauthorized"),
    ],
)
def test_a_refusal_is_a_problem_with_the_api_version(live: Live, method: str, path: str, title: str) -> None:
    answer = call(live.worker, method, path.format(**live.values), json_body={} if method == "POST" else None)
    assert answer.status == 401
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.headers["API-Version"] == API_VERSION
    assert answer.body["title"] == title
    assert answer.body["status"] == 401
    assert answer.body["type"] == "about:blank"
    assert answer.body["detail"]


@pytest.mark.parametrize(
    ("method", "old", "new"),
    [
        ("POST", "/ingest/housing", "/v1/ingest/housing"),
        ("GET", "/api/teams/{team}/cases?limit=5", "/v1/teams/{team}/cases?limit=5"),
        ("GET", "/api/households/{key}", "/v1/households/{key}"),
        (
            "POST",
            "/api/cases/{case_id}/signals/{signal_id}/status",
            "/v1/cases/{case_id}/signals/{signal_id}/status",
        ),
    ],
)
def test_a_path_before_version_1_answers_308_to_its_successor(
    live: Live, method: str, old: str, new: str
) -> None:
    # One release long: a client that follows redirects keeps working, with method and body (308).
    answer = call(live.worker, method, old.format(**live.values), json_body={} if method == "POST" else None)
    assert answer.status == 308
    successor = new.format(**live.values)
    assert answer.location == successor
    assert answer.headers["Deprecation"] == "true"
    assert answer.headers["Link"] == f'<{successor}>; rel="successor-version"'
    assert answer.headers["API-Version"] == API_VERSION


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_schemathesis_finds_no_failure(live: Live, method: str, path: str) -> None:
    operation = schemathesis.openapi.from_dict(DOCUMENT)[path][method]
    names = [
        p["name"] for p in DOCUMENT["paths"][path][method.lower()].get("parameters", []) if p["in"] == "path"
    ]
    strategy = operation.as_strategy(path_parameters={name: live.values[name] for name in names})
    token = live.token(path)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    base_url = live.worker.url("").rstrip("/")

    @settings(
        max_examples=25,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def answers_as_documented(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, timeout=15)

    answers_as_documented()
