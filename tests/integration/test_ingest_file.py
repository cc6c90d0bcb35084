"""`vroegsignaal ingest FILE --source SOURCE` as a real subprocess against the embedded broker."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.kafka.broker import EmbeddedBroker
from streams.worker.topics import TopicNames
from tests.integration.harness import PARTITIONS, Worker, collect

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

HEADER = (
    "event_id,type,source,creditor_id,creditor_name,debt_ref,occurred_at,debtor_name,debtor_bsn,"
    "postcode,house_number,house_letter,amount_cents,due_date,monthly_amount_cents,reminder_kind,term_days"
)
_COMMON = "wr,Woonstad,H-1,2024-03-01T09:30:00+01:00,J. de Vries"
# Line numbers are physical lines of the file, the header being line 1.
ROWS = {
    2: f"e1,debt.opened,housing,{_COMMON},111222333,3011 ab,12,a,95000,2024-02-01,95000,,",
    3: f"e2,reminder.sent,housing,{_COMMON},,3011AB,12,A,95000,,,free,14",
    4: f"e3,debt.opened,housing,{_COMMON},123456789,3011AB,12,A,95000,2024-02-01,95000,,",  # bad BSN
    5: f"x1,debt.opened,energy,{_COMMON},,3011AB,12,A,95000,2024-02-01,,,",  # another source
    6: f"e1,debt.opened,housing,{_COMMON},111222333,3011 ab,12,a,95000,2024-02-01,95000,,",  # duplicate
    7: f'e5,debt.opened,housing,{_COMMON},,3011AB,12,A,"950,00",2024-02-01,95000,,',  # not whole cents
    8: "e4,debt.opened,housing,wr,Woonstad,H-2,2024-03-01T10:00:00+01:00,A. Jansen,,9712CP,1,,"
    "50000,2024-02-01,50000,,",
}
ACCEPTED_LINES = (2, 3, 6, 8)
REJECTED_LINES = {4: "invalid", 5: "wrong_source", 7: "invalid"}


@dataclass(frozen=True)
class Run:
    """Exit code and output of one `vroegsignaal ingest` process."""

    code: int
    stdout: str
    stderr: str


def write_daily_file(directory: Path) -> Path:
    """The mixed CSV of one day: valid, invalid, wrong-source and duplicate rows."""
    path = directory / "woonstad-2024-03-01.csv"
    path.write_text("\n".join([HEADER, *ROWS.values()]) + "\n", encoding="utf-8")
    return path


def cli_env(broker: EmbeddedBroker, prefix: str, data_dir: Path) -> dict[str, str]:
    """The environment of an ingest run: only the broker and the topic names matter."""
    return {
        **os.environ,
        "VROEGSIGNAAL_BROKER_URL": broker.url,
        "VROEGSIGNAAL_TOPIC_PREFIX": prefix,
        "VROEGSIGNAAL_PARTITIONS": str(PARTITIONS),
        "VROEGSIGNAAL_DATA_DIR": str(data_dir),
    }


async def run_ingest(path: Path, source: str, env: dict[str, str]) -> Run:
    """`python -m streams.cli ingest PATH --source SOURCE` to completion."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "streams.cli",
        "ingest",
        str(path),
        "--source",
        source,
        env=env,
        cwd=path.parent,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=45)
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


def duplicates_counted(worker: Worker, source: str) -> float:
    """The worker's vroegsignaal_events_duplicate_total for one source (0 before the first)."""
    status, body = worker.get("/metrics")
    assert status == 200
    found = re.search(rf'^vroegsignaal_events_duplicate_total{{source="{source}"}} (\S+)$', body, re.M)
    return float(found.group(1)) if found else 0.0


def wait_for_duplicates(worker: Worker, source: str, expected: float, timeout_s: float = 30) -> None:
    """Poll /metrics until the duplicate count reaches `expected`; fail if it overshoots or stalls."""
    deadline = time.monotonic() + timeout_s
    seen = duplicates_counted(worker, source)
    while seen < expected and time.monotonic() < deadline:
        time.sleep(0.2)
        seen = duplicates_counted(worker, source)
    assert seen == expected, f"duplicates {seen}, expected {expected}\n{worker.log_tail()}"


def file_rejections(worker: Worker) -> dict[str, float]:
    """The worker's vroegsignaal_ingest_rejected_total{source="housing",path="file"} per reason, nonzero ones."""
    status, body = worker.get("/metrics")
    assert status == 200
    pattern = r'^vroegsignaal_ingest_rejected_total{path="file",reason="(\w+)",source="housing"} (\S+)$'
    return {reason: float(v) for reason, v in re.findall(pattern, body, re.M) if float(v)}


def wait_for_file_rejections(worker: Worker, expected: dict[str, float], timeout_s: float = 30) -> None:
    """Poll /metrics until the file rows counted are `expected` (each letter once, never more)."""
    deadline = time.monotonic() + timeout_s
    while file_rejections(worker) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    assert file_rejections(worker) == expected, worker.log_tail()


@pytest.fixture
def worker(broker: EmbeddedBroker, tmp_path: Path, unique: str) -> Iterator[Worker]:
    """A ready worker with its own prefix, app id and SQLite read model."""
    running = Worker(
        broker=broker,
        prefix=f"f{unique}.",
        data_dir=tmp_path / "worker",
        database_url=f"sqlite:///{tmp_path / 'readmodel.db'}",
        app_id=f"ingest-file-{unique}",
    ).start()
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


async def test_valid_rows_go_to_inbound_and_rejected_rows_to_dead_letter_with_their_lines(
    broker: EmbeddedBroker, tmp_path: Path, unique: str
) -> None:
    path = write_daily_file(tmp_path)
    names = TopicNames(f"f{unique}.")
    run = await run_ingest(path, "housing", cli_env(broker, names.prefix, tmp_path))

    assert run.code == 1, run.stderr
    assert "rows read 7, accepted 4, rejected 3" in run.stdout
    reported = {
        int(n): reason for n, reason in re.findall(r"^line (\d+): rejected \((\w+)\)", run.stderr, re.M)
    }
    assert reported == REJECTED_LINES
    assert "debtor.bsn" in run.stderr
    assert "amount_cents" in run.stderr

    inbound = await collect(broker, [names.inbound("housing")], lambda rs: len(rs) >= 4, timeout_s=20)
    assert sorted(json.loads(r.value)["event_id"] for r in inbound) == ["e1", "e1", "e2", "e4"]
    assert all(r.key == json.loads(r.value)["debt_ref"].encode() for r in inbound)

    letters = await collect(broker, [names.dead_letter_for("housing")], lambda rs: len(rs) >= 3, timeout_s=20)
    envelopes = {json.loads(r.value)["offset"]: json.loads(r.value) for r in letters}
    assert {line: e["reason_class"] for line, e in envelopes.items()} == REJECTED_LINES
    for envelope in envelopes.values():
        assert (envelope["topic"], envelope["partition"], envelope["source"]) == (
            f"file:{path}",
            -1,
            "housing",
        )
        assert envelope["errors"]
        assert envelope["value_utf8"]
    assert json.loads(envelopes[5]["value_utf8"])["source"] == "energy"


async def test_an_unknown_column_rejects_the_whole_file_with_exit_2(
    broker: EmbeddedBroker, tmp_path: Path, unique: str
) -> None:
    path = tmp_path / "daily.csv"
    path.write_text(f"{HEADER},iban\n{ROWS[2]},NL00BANK0123456789\n", encoding="utf-8")
    run = await run_ingest(path, "housing", cli_env(broker, f"f{unique}.", tmp_path))

    assert run.code == 2
    (message,) = [line for line in run.stderr.splitlines() if line.startswith("vroegsignaal:")]
    assert "unknown column(s) 'iban'" in message
    assert "nothing was published" in message
    assert "rows read" not in run.stdout


async def test_rerunning_a_file_publishes_again_and_the_household_stage_drops_the_duplicates(
    broker: EmbeddedBroker, worker: Worker, tmp_path: Path
) -> None:
    path = write_daily_file(tmp_path)
    env = cli_env(broker, worker.prefix, tmp_path)

    first = await run_ingest(path, "housing", env)
    assert first.code == 1
    assert "accepted 4, rejected 3" in first.stdout
    await asyncio.to_thread(wait_for_duplicates, worker, "housing", 1)  # e1 twice in the file
    # The rejected rows are on the worker's /metrics too, read back from the dead-letter topic.
    await asyncio.to_thread(wait_for_file_rejections, worker, {"invalid": 2, "wrong_source": 1})

    again = await run_ingest(path, "housing", env)
    assert again.code == 1
    assert "accepted 4, rejected 3" in again.stdout
    # Every accepted row of the second run was already folded in; its rejected rows count again.
    await asyncio.to_thread(wait_for_duplicates, worker, "housing", 1 + len(ACCEPTED_LINES))
    await asyncio.to_thread(wait_for_file_rejections, worker, {"invalid": 4, "wrong_source": 2})
