"""No BSN past intake, on every path: after a whole run, no topic of the deployment (but the creditors'
own inbound topics), no table, no file of the worker and no output or log line holds one of the
BSNs the creditors sent.

The BSNs arrive by all four paths, in valid and in rejected messages, also where a rejection's
reason would quote them (a BSN as event type, a BSN in a number column):
- agent: the creditors' inbound topics (the demo history, with BSNs);
- HTTP: `POST /v1/ingest/housing` (a valid request, and one the worker refuses with 400);
- file: `vroegsignaal ingest FILE` (valid rows go to inbound, rejected ones to dead-letter);
- replay: `vroegsignaal replay --from-topics` of the same inbound topics.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from connectors.kafka.broker import EmbeddedBroker
from connectors.team_access import sha256_hex
from schemas.contract_v1 import bsn_is_valid
from synthetic.demo_feed import FeedEvent, history
from tests.integration.harness import Worker, collect
from tests.integration.runs import Run, run_demo_history
from tests.integration.team_client import DEMO_TOKENS, call

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

CREDITOR_TOKEN = "woonstad-" + uuid.uuid4().hex
# Within the demo history's stream time (it ends 20 days after 2 October 2026): not future-dated.
LATE = "2026-10-05T10:00:00+02:00"


def valid_bsns(count: int, seed: int = 9) -> list[str]:
    """Distinct nine-digit numbers that pass the elfproef."""
    rng = random.Random(seed)
    found: list[str] = []
    while len(found) < count:
        candidate = f"{rng.randrange(100_000_000, 999_999_999)}"
        if bsn_is_valid(candidate) and candidate not in found:
            found.append(candidate)
    return found


@dataclass(frozen=True)
class Bsns:
    """The BSNs of each path: `valid` ones in accepted messages, `rejected` ones in rejected messages."""

    agent: list[str]
    agent_rejected: list[str]
    http: list[str]
    http_rejected: list[str]
    file: list[str]
    file_rejected: list[str]

    @property
    def everything(self) -> list[str]:
        return [
            *self.agent,
            *self.agent_rejected,
            *self.http,
            *self.http_rejected,
            *self.file,
            *self.file_rejected,
        ]


@dataclass
class Deployment:
    """The run and what every command and answer printed."""

    run: Run
    outputs: dict[str, str] = field(default_factory=dict)
    replay_out: Path | None = None


def history_with_bsns(bsns: Bsns) -> list[FeedEvent]:
    """The demo history with a BSN on every third event, plus rejected events that carry BSNs."""
    events = history()
    out: list[FeedEvent] = []
    for i, event in enumerate(events):
        if i % 3 == 0:
            debtor = dict(event.payload["debtor"], bsn=bsns.agent[i // 3 % len(bsns.agent)])
            event = replace(event, payload=dict(event.payload, debtor=debtor))
        out.append(event)
    first = events[0]
    not_dutch = dict(
        first.payload,
        event_id="rejected-with-bsn",
        debtor={"name": "X. Rejected", "bsn": bsns.agent_rejected[0]},
        address={"postcode": "0000AA", "house_number": 1},  # not a Dutch postcode: dead-lettered
    )
    # The reason of an unknown type quotes the type: here a BSN.
    bsn_as_type = dict(first.payload, event_id="rejected-bsn-type", type=bsns.agent_rejected[1])
    out += [FeedEvent(first.occurred_at, first.source, p) for p in (not_dutch, bsn_as_type)]
    return sorted(out, key=lambda e: (e.occurred_at, e.payload["event_id"]))


def _event(event_id: str, bsn: str, house_number: int, **overrides: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "debt.opened",
        "source": "housing",
        "creditor_id": "27123456",
        "creditor_name": "Woonstichting De Grachten",
        "debt_ref": f"HUUR-P-{event_id}",
        "occurred_at": LATE,
        "debtor": {"name": "P. Privacy", "bsn": bsn, "birth_date": "1970-01-31"},
        "address": {"postcode": "1011AB", "house_number": house_number},
        "amount_cents": 190000,
        "due_date": "2026-08-18",
        "monthly_amount_cents": 95000,
        **overrides,
    }


@pytest.fixture(scope="module")
def bsns() -> Bsns:
    found = valid_bsns(16)
    return Bsns(
        agent=found[:7],
        agent_rejected=found[7:9],
        http=found[9:10],
        http_rejected=found[10:12],
        file=found[12:13],
        file_rejected=found[13:16],
    )


@pytest.fixture(scope="module")
def deployment(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory, bsns: Bsns) -> Deployment:
    data_dir = Path(tmp_path_factory.mktemp("privacy"))
    inbox = Path(tmp_path_factory.mktemp("privacy-creditor"))  # the creditor's own files, not ours
    tokens = {"woonstad": {"source": "housing", "token_sha256": sha256_hex(CREDITOR_TOKEN)}}
    done = run_demo_history(
        broker,
        data_dir,
        f"sqlite:///{data_dir / 'read.db'}",
        keep_running=True,
        events=history_with_bsns(bsns),
        extra_env={"VROEGSIGNAAL_CREDITOR_TOKENS": json.dumps(tokens)},
    )
    deployment = Deployment(done)
    try:
        _work_a_case(done)
        _ingest_by_http(deployment, bsns)
        _ingest_a_file(deployment, bsns, inbox)
        _wait_for_households(done, ["1011AB-901", "1011AB-902"])
        _replay_from_topics(deployment, data_dir / "replay-out")
    finally:
        done.worker.stop()
    deployment.outputs["worker log"] = "".join(
        p.read_text(errors="replace") for p in data_dir.glob("worker-*.log")
    )
    return deployment


def _work_a_case(run: Run) -> None:
    """Team activity too: a read (audited) and a contact attempt."""
    token = DEMO_TOKENS["buurtteam-centrum"]
    case = call(run.worker, "GET", "/v1/teams/buurtteam-centrum/cases", token=token).body["cases"][0]
    assert call(run.worker, "GET", f"/v1/cases/{case['case_id']}", token=token).status == 200
    attempt = {"soort": "Brief", "bereikt": False, "datum": datetime.now(UTC).date().isoformat()}
    answer = call(
        run.worker, "POST", f"/v1/cases/{case['case_id']}/contact-attempts", token=token, json_body=attempt
    )
    assert answer.status == 201


def _post(worker: Worker, body: Any) -> tuple[int, str]:
    request = urllib.request.Request(
        worker.url("/v1/ingest/housing"), data=json.dumps(body).encode(), method="POST"
    )
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {CREDITOR_TOKEN}")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _ingest_by_http(deployment: Deployment, bsns: Bsns) -> None:
    """One valid request (published) and one with rejected items whose reasons quote a BSN (400)."""
    worker = deployment.run.worker
    assert _post(worker, _event("http-ok", bsns.http[0], 901))[0] == 202
    bad = [
        _event("http-bad-1", bsns.http_rejected[0], 903, type=bsns.http_rejected[0]),
        _event("http-bad-2", bsns.http_rejected[1], 904, source=bsns.http_rejected[1]),
    ]
    status, answer = _post(worker, bad)
    assert status == 400
    assert "*********" in answer  # the reasons quoted the BSNs, masked
    deployment.outputs["HTTP answer"] = answer


def _ingest_a_file(deployment: Deployment, bsns: Bsns, inbox: Path) -> None:
    """A daily CSV: a valid row, and rejected rows with BSNs in the row and quoted in the reasons."""
    header = (
        "event_id,type,source,creditor_id,creditor_name,debt_ref,occurred_at,debtor_name,debtor_bsn,"
        "debtor_birth_date,postcode,house_number,amount_cents,due_date,monthly_amount_cents"
    )
    common = f"27123456,Woonstichting De Grachten,HUUR-F,{LATE},F. File"
    good, *bad = bsns.file, *bsns.file_rejected
    rows = [
        f"file-ok,debt.opened,housing,{common},{good[0]},1969-12-31,1011AB,902,190000,2026-08-18,95000",
        f"file-bad-1,debt.opened,housing,{common},{bad[0]},1969-12-31,0000AA,1,190000,2026-08-18,95000",
        f"file-bad-2,{bad[1]},housing,{common},{bad[1]},,1011AB,905,190000,2026-08-18,95000",
        f"file-bad-3,debt.opened,housing,{common},{bad[2]},,1011AB,906,{bad[2]}x,2026-08-18,95000",
    ]
    path = inbox / "woonstad-2026-10-05.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "ingest", str(path), "--source", "housing"],
        env=deployment.run.worker.env(),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # rejected rows
    assert "rows read 4, accepted 1, rejected 3" in done.stdout
    assert "*********" in done.stderr  # a reason quoted a BSN, masked
    deployment.outputs["ingest stdout"], deployment.outputs["ingest stderr"] = done.stdout, done.stderr


def _wait_for_households(run: Run, keys: list[str], timeout_s: float = 60) -> None:
    """Until the HTTP and file events went all the way through to the read model."""
    deadline = time.monotonic() + timeout_s
    while True:
        with sqlite3.connect(run.database_url.removeprefix("sqlite:///")) as db:
            marks = ",".join("?" * len(keys))
            sql = f"SELECT household_key FROM households WHERE household_key IN ({marks})"
            found = {k for (k,) in db.execute(sql, keys)}
        if found == set(keys):
            return
        assert time.monotonic() < deadline, f"households {set(keys) - found} never reached the read model"
        time.sleep(0.5)


def _replay_from_topics(deployment: Deployment, out: Path) -> None:
    """The same inbound topics replayed: its dead letters are in its output files."""
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "replay", "--from-topics", "--out", str(out)],
        env=deployment.run.worker.env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    deployment.outputs["replay stdout"], deployment.outputs["replay stderr"] = done.stdout, done.stderr
    deployment.replay_out = out


def _found(blob: bytes, bsns: list[str]) -> list[str]:
    return [b for b in bsns if b.encode() in blob]


def test_the_creditors_did_send_bsns(deployment: Deployment, bsns: Bsns) -> None:
    names = deployment.run.worker.names
    records = asyncio.run(
        collect(deployment.run.worker.broker, names.all_inbound, until=lambda r: False, timeout_s=3)
    )
    sent = set(_found(b"".join(r.value for r in records), bsns.everything))
    # Rejected file rows and a refused HTTP request never reach the inbound topics.
    assert sent == {*bsns.agent, *bsns.agent_rejected, *bsns.http, *bsns.file}


async def _deployment_partitions(deployment: Deployment) -> list[TopicPartition]:
    """Every topic of the deployment on the broker (its prefix, its app's changelogs, whatever a replay
    left behind) but the creditors' own inbound topics; every topic TopicNames lists among them."""
    worker = deployment.run.worker
    consumer = AIOKafkaConsumer(bootstrap_servers=worker.broker.bootstrap)
    await consumer.start()
    try:
        inbound = set(worker.names.all_inbound)
        ours = (worker.prefix, f"{worker.app_id}-", "replay-")
        on_broker = await consumer.topics()
        topics = [t for t in on_broker if t.startswith(ours) and t not in inbound and ".inbound." not in t]
        assert set(worker.names.everything) - inbound <= set(topics), "a topic of the deployment is missing"
        return [
            TopicPartition(t, p)
            for t in sorted(topics)
            for p in sorted(consumer.partitions_for_topic(t) or {0})
        ]
    finally:
        await consumer.stop()


async def _collect_partitions(deployment: Deployment, parts: list[TopicPartition]) -> list[Any]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=deployment.run.worker.broker.bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        consumer.assign(parts)
        await consumer.seek_to_beginning()
        quiet = 0
        while quiet < 10:
            batches = await consumer.getmany(timeout_ms=200)
            got = [r for rs in batches.values() for r in rs]
            records.extend(got)
            quiet = 0 if got else quiet + 1
    finally:
        await consumer.stop()
    return records


def test_no_topic_holds_a_raw_bsn(deployment: Deployment, bsns: Bsns) -> None:
    names, app_id = deployment.run.worker.names, deployment.run.worker.app_id
    parts = asyncio.run(_deployment_partitions(deployment))
    topics = {tp.topic for tp in parts}
    assert names.case_events in topics
    assert names.events_by_household in topics
    assert any(t.startswith(app_id) and t.endswith("-changelog") for t in topics), topics
    records = asyncio.run(_collect_partitions(deployment, parts))
    dead = [r for r in records if r.topic in names.all_dead_letters]
    # Dead letters of the agent (from an inbound topic) and of the file ingest (from the file).
    origins = {json.loads(r.value)["topic"].split(":")[0] for r in dead}
    assert {names.inbound("housing"), "file"} <= origins, origins
    for record in records:
        blob = (record.key or b"") + (record.value or b"") + b"".join(v for _, v in record.headers or ())
        assert not _found(blob, bsns.everything), f"a raw BSN on topic {record.topic}"


def test_no_table_holds_a_raw_bsn(deployment: Deployment, bsns: Bsns) -> None:
    with sqlite3.connect(deployment.run.database_url.removeprefix("sqlite:///")) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {"signals", "cases", "audit_log", "contact_attempts", "households"} <= set(tables)
        for table in tables:
            rows = db.execute(f'SELECT * FROM "{table}"').fetchall()
            assert not _found(repr(rows).encode(), bsns.everything), f"a raw BSN in table {table}"


def test_no_file_of_the_worker_or_the_replay_holds_a_raw_bsn(deployment: Deployment, bsns: Bsns) -> None:
    files = [p for p in deployment.run.worker.data_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".log" for p in files)
    assert any(p.name == "read.db" for p in files)
    assert deployment.replay_out is not None
    replayed = [p for p in deployment.replay_out.rglob("*") if p.is_file()]
    assert any("dead-letters" in p.name and p.stat().st_size for p in replayed), replayed
    for path in files:
        assert not _found(path.read_bytes(), bsns.everything), f"a raw BSN in {path}"


def test_no_output_or_log_line_holds_a_raw_bsn(deployment: Deployment, bsns: Bsns) -> None:
    assert set(deployment.outputs) == {
        "HTTP answer",
        "ingest stdout",
        "ingest stderr",
        "replay stdout",
        "replay stderr",
        "worker log",
    }
    for what, text in deployment.outputs.items():
        assert not _found(text.encode(), bsns.everything), f"a raw BSN in the {what}"


def test_no_birth_date_past_intake(deployment: Deployment) -> None:
    """The creditors sent birth dates (HTTP, file): no rule uses them, so no table keeps one."""
    with sqlite3.connect(deployment.run.database_url.removeprefix("sqlite:///")) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            rows = repr(db.execute(f'SELECT * FROM "{table}"').fetchall())
            assert "1970-01-31" not in rows, table
            assert "1969-12-31" not in rows, table
    records = asyncio.run(
        collect(
            deployment.run.worker.broker,
            [deployment.run.worker.names.events_by_household],
            until=lambda r: False,
            timeout_s=3,
        )
    )
    assert records
    assert not any(b"1970-01-31" in r.value or b"1969-12-31" in r.value for r in records)
