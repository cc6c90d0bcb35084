"""A team works a case through the API on a real worker: events, read model, feedback, audit, replay."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.kafka.broker import EmbeddedBroker
from connectors.readmodel import ReadModel
from connectors.readmodel.case_writer import write_case_batch
from schemas.cases_v1 import CreditorFeedback
from streams.team.case_agents import decode
from tests.integration.harness import collect
from tests.integration.runs import Run, run_demo_history, table_rows
from tests.integration.team_client import DEMO_TOKENS, call

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

TEAM = "buurtteam-centrum"
TOKEN = DEMO_TOKENS[TEAM]
TWO_CREDITORS = "1011AB-1"
CASE_TABLES = ("cases", "signal_status", "contact_attempts", "case_outcomes", "audit_log")


@pytest.fixture(scope="module")
def run(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    data_dir = Path(tmp_path_factory.mktemp("case-flow"))
    done = run_demo_history(broker, data_dir, f"sqlite:///{data_dir / 'read.db'}", keep_running=True)
    yield done
    done.worker.stop()


def _case_of(run: Run, household: str) -> dict[str, Any]:
    answer = call(run.worker, "GET", f"/v1/teams/{TEAM}/cases", token=TOKEN)
    return next(c for c in answer.body["cases"] if c["household_key"] == household)


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


@pytest.fixture(scope="module")
def worked(run: Run) -> dict[str, Any]:
    """The two-creditor household's case after an attempt, a status change and an outcome."""
    case = _case_of(run, TWO_CREDITORS)
    cid, sid = case["case_id"], case["signals"][-1]["signal_id"]
    attempt = {
        "soort": "Huisbezoek",
        "bereikt": True,
        "datum": _today(),
        "dagdeel": "Middag",
        "request_id": "form-0001",
    }
    first = call(run.worker, "POST", f"/v1/cases/{cid}/contact-attempts", token=TOKEN, json_body=attempt)
    again = call(run.worker, "POST", f"/v1/cases/{cid}/contact-attempts", token=TOKEN, json_body=attempt)
    status = call(
        run.worker,
        "POST",
        f"/v1/cases/{cid}/signals/{sid}/status",
        token=TOKEN,
        json_body={"status": "Opgepakt"},
    )
    outcome = {"resultaat": "Vervolghulp en/of verwijzing financieel", "datum": _today()}
    recorded = call(run.worker, "POST", f"/v1/cases/{cid}/outcome", token=TOKEN, json_body=outcome)
    second = call(
        run.worker,
        "POST",
        f"/v1/cases/{cid}/outcome",
        token=TOKEN,
        json_body={"resultaat": "Inwoner is overleden"},
    )
    detail = call(run.worker, "GET", f"/v1/cases/{cid}", token=TOKEN)
    return {"case": case, "answers": (first, again, status, recorded, second), "detail": detail.body}


def test_changes_are_acknowledged_and_shown_after_the_sink_wrote_them(worked: dict[str, Any]) -> None:
    first, again, status, recorded, second = worked["answers"]
    assert [a.status for a in (first, status, recorded)] == [201, 201, 201]
    assert again.status == 201
    assert again.body["event_id"] == first.body["event_id"]
    assert second.status == 409
    detail = worked["detail"]
    assert [(a["soort"], a["bereikt"], a["dagdeel"]) for a in detail["contact_attempts"]] == [
        ("Huisbezoek", True, "Middag")
    ]
    assert detail["outcome"]["resultaat"] == "Vervolghulp en/of verwijzing financieel"
    assert detail["signals"][-1]["status"] == "Opgepakt"
    assert {d["debt"]["source"] for d in detail["overview"]["debts"]} == {"housing", "energy"}


def test_a_closed_case_leaves_the_inbox(run: Run, worked: dict[str, Any]) -> None:
    listed = call(run.worker, "GET", f"/v1/teams/{TEAM}/cases", token=TOKEN).body["cases"]
    assert worked["case"]["case_id"] not in {c["case_id"] for c in listed}


def test_creditors_hear_only_in_help_per_signalled_debt(run: Run, worked: dict[str, Any]) -> None:
    topics = run.worker.names.all_creditor_feedback
    records = asyncio.run(collect(run.worker.broker, topics, until=lambda r: len(r) >= 2, timeout_s=20))
    feedback = [CreditorFeedback.model_validate_json(r.value) for r in records]
    assert {(f.debt.source, f.status) for f in feedback} == {("housing", "in_help"), ("energy", "in_help")}
    for record, fb in zip(records, feedback, strict=True):
        assert record.key.decode() == f"{fb.debt.source}:{fb.debt.creditor_id}"
        assert record.topic == run.worker.names.creditor_feedback_for(fb.debt.source)  # its creditor's own
        assert set(orjson.loads(record.value)) == {"type", "v", "feedback_id", "debt", "status", "decided_on"}
        assert b"Vervolghulp" not in record.value
        assert TWO_CREDITORS.encode() not in record.value


def test_every_read_and_change_is_in_the_audit_log(run: Run, worked: dict[str, Any]) -> None:
    for _ in range(50):  # a read's audit event is acknowledged by the broker; the sink writes it soon after
        rows = asyncio.run(_rows(run.database_url))["audit_log"]
        mine = [r for r in rows if r[6] == worked["case"]["case_id"]]  # columns: see AuditEntry
        actions = sorted({r[4] for r in mine})
        if "overview_viewed" in actions:
            break
        time.sleep(0.2)
    assert actions == [
        "contact_attempt_recorded",
        "outcome_recorded",
        "overview_viewed",
        "signal_status_changed",
    ]
    assert {r[2] for r in mine} == {"centrum-01"}


def test_replaying_the_topics_rebuilds_the_same_case_tables(run: Run, worked: dict[str, Any]) -> None:
    names = run.worker.names
    topics = [f"{names.prefix}signals", names.case_events]
    records = asyncio.run(collect(run.worker.broker, topics, until=lambda r: False, timeout_s=3))
    items = [decode(r.topic, r.value, topics[0]) for r in records]
    expected = asyncio.run(_rows(run.database_url))
    for cut in (len(items), 1, 7):
        replayed = asyncio.run(_replay(run.worker.data_dir / f"replay-{cut}.db", items, cut))
        for table in CASE_TABLES:
            assert replayed[table] == expected[table], f"{table} differs after a replay in batches of {cut}"


async def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    read_model = await ReadModel.open(url)
    try:
        return await table_rows(read_model)
    finally:
        await read_model.close()


async def _replay(path: Path, items: list[Any], cut: int) -> dict[str, list[tuple[Any, ...]]]:
    read_model = await ReadModel.open(f"sqlite:///{path}")
    try:
        await read_model.migrate()
        for start in range(0, len(items), cut):
            await write_case_batch(read_model, items[start : start + cut])
        return await table_rows(read_model)
    finally:
        await read_model.close()
