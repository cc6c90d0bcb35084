"""Retention forgets: a history aged past its periods leaves no personal data in tables, state or changelogs.

A real worker on the embedded broker processes the demo history (signals, cases, reminders with
contact data, cost decisions) and the creditors' closing of every debt; a team records a contact
attempt. The clock is then driven past `household_forget_days`, and `vroegsignaal retention` runs
twice: first it closes the cases nobody worked on (an outcome by the system), then, the retention
period later, it deletes them and the quiet households. What must be left of the households: none
of their keys, addresses, names, references or amounts in any read-model table, no household in the
worker's state table, and a tombstone (or nothing) as the newest record of every household key of
every compacted topic, which is what Kafka's compaction keeps. Tansu does no compaction, so the
test computes the newest record per key itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from connectors.kafka.broker import EmbeddedBroker
from schemas.cases_v1 import ContactAttemptRecorded
from signals.calendar import local_day
from signals.retention import NO_CONTACT, NO_REACTION, SYSTEM_ACTOR, household_forget_at
from streams.cli.retention import run_retention
from streams.worker.settings import load_settings
from synthetic.demo_feed import START, FeedEvent, history
from tests.integration.harness import PARTITIONS, OrderedFeeder, Worker, publish
from tests.integration.runs import Run, read_all, run_demo_history

pytestmark = [pytest.mark.integration, pytest.mark.timeout(400)]

CLOSED_ON_DAY = 40  # every debt closed (paid) after the history's last deadline (day 21)


def _closures(events: list[FeedEvent]) -> list[FeedEvent]:
    """The creditors close every debt of the history, paid, on one later day."""
    at = START + timedelta(days=CLOSED_ON_DAY)
    debts: dict[tuple[str, str], dict[str, Any]] = {}
    for e in events:
        debts[(e.source, e.payload["debt_ref"])] = e.payload
    return [
        FeedEvent(
            at,
            source,
            {
                **{
                    k: last[k]
                    for k in ("source", "creditor_id", "creditor_name", "debt_ref", "debtor", "address")
                },
                "event_id": f"closed-{source}-{ref}",
                "type": "debt.closed",
                "occurred_at": at.isoformat(),
                "amount_cents": 0,
                "reason": "paid",
            },
        )
        for (source, ref), last in sorted(debts.items())
    ]


@dataclass
class Aged:
    run: Run
    households: list[str]
    personal: set[str]  # strings that would identify a household: keys, postcodes, names, references
    rows_before: dict[str, list[tuple[Any, ...]]]
    tracked_before: float
    closed_by_system: list[str]
    rows_after: dict[str, list[tuple[Any, ...]]]
    tracked_after: float


def _personal_data(events: list[FeedEvent], households: list[str]) -> set[str]:
    found = set(households)
    for e in events:
        p = e.payload
        found |= {p["debtor"]["name"], p["debtor"]["email"], p["debt_ref"], p["address"]["postcode"]}
    return found


def _tracked(worker: Worker) -> float:
    text = worker.get("/metrics")[1]
    lines = [line for line in text.splitlines() if line.startswith("vroegsignaal_households_tracked ")]
    return float(lines[0].rsplit(" ", 1)[1]) if lines else -1.0


def _wait(condition: Any, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


async def _tick(broker: EmbeddedBroker, worker: Worker, at: datetime) -> None:
    async with OrderedFeeder(broker, worker.names) as feeder:
        await feeder.resync(quiet_s=0.5)  # count what ingest already wrote, then wait for this tick
        await feeder.tick(at)


def _contact_attempt(rows: dict[str, list[tuple[Any, ...]]]) -> ContactAttemptRecorded:
    """A team member phones the household of the first case and reaches nobody."""
    case_id, household_key, team_id = rows["cases"][0][:3]
    return ContactAttemptRecorded(
        event_id="attempt-1",
        household_key=household_key,
        actor="centrum-01",
        occurred_at=START + timedelta(days=25),
        case_id=case_id,
        team_id=team_id,
        soort="Telefoon",
        bereikt=False,
        datum=local_day(START + timedelta(days=25)),
    )


@pytest.fixture(scope="module")
def aged(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Aged]:
    data_dir = Path(tmp_path_factory.mktemp("retention"))
    url = f"sqlite:///{data_dir / 'read.db'}"
    events = history()
    events = sorted([*events, *_closures(events)], key=lambda e: (e.occurred_at, e.payload["event_id"]))
    run = run_demo_history(broker, data_dir, url, keep_running=True, events=events)
    worker = run.worker
    try:
        rows = read_all(url)
        attempt = _contact_attempt(rows)
        asyncio.run(
            publish(
                broker,
                [
                    (
                        worker.names.case_events,
                        attempt.household_key.encode(),
                        attempt.model_dump_json().encode(),
                    )
                ],
            )
        )
        _wait(lambda: bool(read_all(url)["contact_attempts"]), "the contact attempt in the read model")
        before = read_all(url)
        households = sorted(r[0] for r in before["households"])
        tracked_before = _tracked(worker)
        settings = load_settings(
            broker_url=worker.broker.url, database_url=url, topic_prefix=worker.prefix, partitions=PARTITIONS
        )
        # Age the history: the clock passes the forget boundary of the last quiet household.
        last_activity = max(datetime.fromisoformat(r[1]) for r in before["households"])
        forget = household_forget_at(last_activity, settings.household_forget_days)
        asyncio.run(_tick(broker, worker, forget + timedelta(hours=1)))
        _wait(lambda: _tracked(worker) == 0, "the worker to forget every household")
        # The daily job, a day after: closes the cases nobody worked on for 90 days ...
        first = asyncio.run(run_retention(settings, dry_run=False, now=forget + timedelta(days=1)))
        cases = len(before["cases"])
        _wait(lambda: len(read_all(url)["case_outcomes"]) == cases, "the system's outcomes in the read model")
        # ... and, the retention period after their closing, deletes them and forgets the households.
        asyncio.run(run_retention(settings, dry_run=False, now=forget + timedelta(days=1 + 31 * 13)))
        yield Aged(
            run=run,
            households=households,
            personal=_personal_data(events, households),
            rows_before=before,
            tracked_before=tracked_before,
            closed_by_system=[e.case_id for e in first.closed],
            rows_after=read_all(url),
            tracked_after=_tracked(worker),
        )
    finally:
        worker.stop()


def test_the_history_had_personal_data_everywhere_before_it_aged(aged: Aged) -> None:
    before = aged.rows_before
    assert len(aged.households) >= 5
    for table in (
        "households",
        "debts",
        "reminders",
        "cost_gate_decisions",
        "signals",
        "cases",
        "contact_attempts",
    ):
        assert before[table], table
    assert aged.tracked_before == len(aged.households)
    everything = repr(before)
    # Names, e-mail addresses, postcodes and references: what the later checks must not find.
    assert {p for p in aged.personal if p in everything} >= {*aged.households, "J. de Vries", "HUUR-1001"}


def test_cases_nobody_closed_are_closed_by_the_system_with_the_ddas_no_reaction_result(aged: Aged) -> None:
    assert sorted(aged.closed_by_system) == sorted(r[0] for r in aged.rows_before["cases"])
    audit = aged.rows_after["audit_log"]
    closings = [r for r in audit if r[4] == "outcome_recorded"]
    assert len(closings) == len(aged.closed_by_system)
    assert {r[2] for r in closings} == {SYSTEM_ACTOR}  # attributed to the system, not to a member
    counts = {r[2] for r in aged.rows_after["anonymous_counts"]}
    assert counts <= {NO_REACTION, NO_CONTACT}
    assert NO_CONTACT in counts  # the phoned household was never reached


def test_no_personal_data_is_left_in_any_read_model_table(aged: Aged) -> None:
    after = aged.rows_after
    for table in (
        "households",
        "debts",
        "reminders",
        "cost_gate_decisions",
        "cost_violations",
        "signals",
        "signal_resolutions",
        "cases",
        "signal_status",
        "contact_attempts",
        "case_outcomes",
    ):
        assert after[table] == [], table
    everything = repr(after)
    assert not [p for p in aged.personal if p in everything]
    assert all(r[5] is None for r in after["audit_log"])  # who did what and when stays, not for whom
    assert sum(r[3] for r in after["anonymous_counts"]) == len(aged.rows_before["cases"])  # the counts stay


def test_the_state_store_holds_no_household(aged: Aged) -> None:
    assert aged.tracked_after == 0


def test_the_newest_record_of_every_household_key_of_every_compacted_topic_is_a_tombstone(
    aged: Aged, broker: EmbeddedBroker
) -> None:
    newest = asyncio.run(_newest_per_key(broker, aged.run.worker.app_id))
    assert newest, "no changelog topics found"
    state = newest[f"{aged.run.worker.app_id}-state_by_household-changelog"]
    assert sorted(k.decode() for k in state) == aged.households  # every household was written ...
    assert all(value is None for value in state.values())  # ... and its last record is a tombstone
    for topic, records in newest.items():
        live = [v for v in records.values() if v is not None] + [
            k for k, v in records.items() if v is not None
        ]
        leaked = [p for p in aged.personal for blob in live if p.encode() in blob]
        assert not leaked, (topic, leaked)


async def _newest_per_key(broker: EmbeddedBroker, app_id: str) -> dict[str, dict[bytes, bytes | None]]:
    """Every changelog topic of the app (Faust creates them compacted): the newest value per key."""
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        topics = sorted(
            t for t in await consumer.topics() if t.startswith(f"{app_id}-") and t.endswith("-changelog")
        )
        partitions = [TopicPartition(t, p) for t in topics for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning()
        ends = await consumer.end_offsets(partitions)
        newest: dict[str, dict[bytes, bytes | None]] = {t: {} for t in topics}
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                for record in records:
                    newest[tp.topic][record.key] = record.value
        return newest
    finally:
        await consumer.stop()


def test_a_dry_run_after_all_this_finds_nothing_left(aged: Aged) -> None:
    settings = load_settings(
        broker_url=aged.run.worker.broker.url,
        database_url=aged.run.database_url,
        topic_prefix=aged.run.worker.prefix,
        partitions=PARTITIONS,
    )
    again = asyncio.run(run_retention(settings, dry_run=True, now=datetime.now(UTC) + timedelta(days=3650)))
    assert (again.cases, again.households, again.closed, again.forgotten) == (0, 0, (), ())
