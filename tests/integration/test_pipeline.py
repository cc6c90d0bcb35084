"""The whole pipeline in a real worker process: broker -> ingest -> household -> outputs -> SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.kafka.broker import EmbeddedBroker
from connectors.readmodel import ReadModel, count_rows, overview
from connectors.routing_files import default_routing
from schemas.contract_v1 import SOURCES
from schemas.deadletter_v1 import DeadLetter
from schemas.internal_v1 import HOUSEHOLD_MESSAGE, AcceptedEvent
from schemas.outputs_v1 import CostsPermitted, ReminderIssued, Signal
from signals.calendar import local_day
from synthetic.demo_feed import history
from tests.integration.harness import Worker, assert_conservation, collect, create_topics, publish
from tests.integration.runs import Run, run_demo_history

pytestmark = pytest.mark.integration

TWO_CREDITORS = "1011AB-1"  # rent 45 days + energy 35 days in the demo history


@pytest.fixture(scope="module")
def demo_run(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """One worker that processed the demo history in event-time order, with its outputs."""
    data_dir = Path(tmp_path_factory.mktemp("pipeline"))
    run = run_demo_history(broker, data_dir, f"sqlite:///{data_dir / 'read.db'}", keep_running=True)
    yield run
    run.worker.stop()


def test_two_creditor_household_gets_a_multiple_high_signal_routed_to_its_team(demo_run: Run) -> None:
    signals = [o for o in demo_run.outputs if isinstance(o, Signal) and o.household_key == TWO_CREDITORS]
    multiple = [s for s in signals if "multiple" in s.kinds]
    assert multiple, [s.kinds for s in signals]
    expected = default_routing().route(TWO_CREDITORS)
    assert {s.route.team_id for s in multiple} == {expected.team_id}
    assert multiple[0].priority in {"high", "urgent"}
    assert {d.debt.source for d in multiple[0].debts} == {"housing", "energy"}


def test_a_free_reminder_precedes_every_costs_permitted(demo_run: Run) -> None:
    reminders = {(o.debt, o.household_key): o for o in demo_run.outputs if isinstance(o, ReminderIssued)}
    permitted = [o for o in demo_run.outputs if isinstance(o, CostsPermitted)]
    assert permitted
    for decision in permitted:
        reminder = reminders.get((decision.debt, decision.household_key))
        assert reminder is not None, f"costs permitted without a reminder: {decision.debt}"
        # Costs from the start of the Amsterdam day after the last day of the term.
        assert local_day(decision.permitted_at) > reminder.pay_by
        assert decision.costs_from == local_day(decision.permitted_at)


def test_a_debt_paid_within_its_reminder_term_never_gets_costs_permitted(demo_run: Run) -> None:
    paid_refs = {e.payload["debt_ref"] for e in history() if e.payload["type"] == "payment.received"}
    assert paid_refs
    permitted_refs = {o.debt.debt_ref for o in demo_run.outputs if isinstance(o, CostsPermitted)}
    reminded_refs = {o.debt.debt_ref for o in demo_run.outputs if isinstance(o, ReminderIssued)}
    assert paid_refs <= reminded_refs
    assert not paid_refs & permitted_refs


def test_costs_charged_before_pay_by_are_reported_as_a_violation(demo_run: Run) -> None:
    violations = [o for o in demo_run.outputs if getattr(o, "type", "") == "cost_violation"]
    assert [(v.debt.debt_ref, v.kind) for v in violations] == [("W-3301", "before_pay_by")]


def test_a_housing_reminder_is_on_the_housing_reminders_topic_and_on_no_other(demo_run: Run) -> None:
    """One reminders topic per source, so a broker ACL can keep each creditor to its own."""
    names, prefix = demo_run.worker.names, demo_run.worker.names.prefix
    reminders = [o for o in demo_run.outputs if isinstance(o, ReminderIssued)]
    topics = [f"{prefix}reminders.{source}" for source in SOURCES]
    records = asyncio.run(
        collect(demo_run.worker.broker, topics, until=lambda r: len(r) >= len(reminders), timeout_s=20)
    )
    on_topic = {
        topic: [ReminderIssued.model_validate_json(r.value) for r in records if r.topic == topic]
        for topic in topics
    }
    housing = {r.reminder_id for r in reminders if r.debt.source == "housing"}
    assert housing
    assert {r.reminder_id for r in on_topic[f"{prefix}reminders.housing"]} == housing
    assert not housing & {r.reminder_id for r in on_topic[f"{prefix}reminders.energy"]}
    for source in SOURCES:
        assert all(r.debt.source == source for r in on_topic[f"{prefix}reminders.{source}"])
    assert f"{prefix}reminders" not in names.everything  # the topic all creditors shared is gone


def test_household_overview_api_needs_the_token_and_shows_both_debts(demo_run: Run) -> None:
    status, _ = demo_run.worker.get(f"/households/{TWO_CREDITORS}")
    assert status == 401
    status, _ = demo_run.worker.get(f"/households/{TWO_CREDITORS}", token="wrong")
    assert status == 401
    status, body = demo_run.worker.get(f"/households/{TWO_CREDITORS}", token="test-read-token")
    assert status == 200, body
    assert {d["debt"]["source"] for d in body["debts"]} == {"housing", "energy"}
    assert body["total_principal_cents"] == sum(d["principal_cents"] for d in body["debts"])
    status, _ = demo_run.worker.get("/households/9999ZZ-1", token="test-read-token")
    assert status == 404


def test_read_model_holds_every_signal_reminder_and_gate_decision(demo_run: Run) -> None:
    async def rows() -> tuple[dict[str, int], Any]:
        read_model = await ReadModel.open(demo_run.database_url)
        try:
            return await count_rows(read_model), await overview(read_model, TWO_CREDITORS)
        finally:
            await read_model.close()

    counts, found = asyncio.run(rows())
    ids = lambda kind: {o.model_dump()[kind] for o in demo_run.outputs if kind in type(o).model_fields}  # noqa: E731
    assert counts["signals"] == len(ids("signal_id"))
    assert counts["reminders"] == len(ids("reminder_id"))
    assert counts["cost_gate_decisions"] == len(ids("decision_id"))
    assert found is not None
    assert len(found.debts) == 2


def test_health_and_metrics_endpoints_answer(demo_run: Run) -> None:
    assert demo_run.worker.get("/healthz") == (200, {"status": "ok"})
    status, body = demo_run.worker.get("/readyz")
    assert status == 200
    assert body["ready"] is True
    status, text = demo_run.worker.get("/metrics")
    assert status == 200
    assert 'vroegsignaal_signals_raised_total{kind="multiple"' in text


def _mixed_input() -> tuple[list[tuple[str, bytes]], set[str], int]:
    """(source, raw) messages: every demo event, 3 duplicates and 7 kinds of bad input."""
    events = history()
    valid = [(e.source, orjson.dumps(e.payload)) for e in events]
    with_bsn = dict(events[0].payload, event_id="with-bsn", debtor={"name": "B. Sn", "bsn": "111222333"})
    valid.append((events[0].source, orjson.dumps(with_bsn)))
    duplicates = [valid[0], valid[5], valid[9]]
    bad_bsn = dict(events[1].payload, event_id="bad-bsn", debtor={"name": "X", "bsn": "123456789"})
    bad_postcode = dict(
        events[2].payload, event_id="bad-pc", address={"postcode": "1234SS", "house_number": 1}
    )
    invalid = [
        ("housing", orjson.dumps(bad_bsn)),
        ("energy", orjson.dumps(bad_postcode)),
        ("energy", orjson.dumps(events[0].payload | {"event_id": "wrong-source"})),  # a housing event
        ("water", b"this is not json"),
        ("water", b'{"type": "debt.exploded", "event_id": "x"}'),
        ("health", b'{"event_id": "trunc", "type": "debt.op'),
        ("cjib", bytes(range(256)) * 5000),  # binary garbage, > 1 MiB
    ]
    keys = {f"{s}|{orjson.loads(v)['creditor_id']}|{orjson.loads(v)['event_id']}" for s, v in valid}
    return valid + duplicates + invalid, keys, len(invalid)


def test_mixed_input_ends_with_exactly_the_valid_events_keyed_by_household(
    broker: EmbeddedBroker, tmp_path: Path, unique: str
) -> None:
    worker = Worker(
        broker=broker,
        prefix=f"m{unique}.",
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'read.db'}",
        app_id=f"m{unique}",
    )
    messages, valid_keys, invalid_count = _mixed_input()
    asyncio.run(create_topics(broker, worker.names))
    worker.start()
    try:
        worker.wait_ready()
        asyncio.run(publish(broker, [(worker.names.inbound(s), None, v) for s, v in messages]))
        expected = len(valid_keys) + invalid_count
        topics = [worker.names.events_by_household, *worker.names.all_dead_letters]
        records = asyncio.run(collect(broker, topics, until=lambda r: len(r) >= expected, timeout_s=60))
        # A moment longer: nothing more may arrive (no duplicate slips through).
        records = asyncio.run(collect(broker, topics, until=lambda r: False, timeout_s=2))
        assert_conservation(worker, len(messages))
    finally:
        worker.stop()
    internal_topic = worker.names.events_by_household
    internal = [r for r in records if r.topic == internal_topic]
    accepted = [HOUSEHOLD_MESSAGE.validate_json(r.value) for r in internal]
    assert all(isinstance(a, AcceptedEvent) for a in accepted)
    assert sorted(a.event.dedup_key for a in accepted) == sorted(valid_keys)  # type: ignore[union-attr]
    assert all(r.key.decode() == a.household_key for r, a in zip(internal, accepted, strict=True))  # type: ignore[union-attr]
    assert all(b"111222333" not in r.value for r in internal), "a raw BSN reached the internal topic"
    letters = [
        (r.topic, DeadLetter.model_validate_json(r.value)) for r in records if r.topic != internal_topic
    ]
    # Each on the dead-letter topic of the source it arrived for, readable by that creditor only.
    assert all(topic == worker.names.dead_letter_for(d.source) for topic, d in letters)
    dead = [d for _, d in letters]
    energy = [d for topic, d in letters if topic == f"{worker.names.prefix}dead-letter.energy"]
    assert sorted(d.reason_class for d in energy) == ["invalid", "wrong_source"]
    assert all(d.source == "energy" for d in energy)
    assert sorted(d.reason_class for d in dead) == sorted(
        ["invalid", "invalid", "wrong_source", "not_json", "unknown_type", "not_json", "too_large"]
    )
    assert all(d.errors and d.offset >= 0 and d.topic.startswith(worker.names.prefix) for d in dead)
    bsn_letter = next(d for d in dead if any(e.path == "debtor.bsn" for e in d.errors))
    assert bsn_letter.value_utf8 is not None  # the raw message is kept whole


def test_garbage_on_the_clock_and_internal_topics_is_dead_lettered_not_a_crash_loop(
    broker: EmbeddedBroker, tmp_path: Path, unique: str
) -> None:
    worker = Worker(
        broker=broker,
        prefix=f"g{unique}.",
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'read.db'}",
        app_id=f"g{unique}",
    )
    asyncio.run(create_topics(broker, worker.names))
    worker.start()
    try:
        worker.wait_ready()
        garbage = [
            (worker.names.clock, b"k", b"not a tick"),
            (worker.names.events_by_household, b"k", b"\xff"),
        ]
        asyncio.run(publish(broker, garbage))
        records = asyncio.run(
            collect(broker, [worker.names.dead_letter_unrouted], until=lambda r: len(r) >= 2, timeout_s=30)
        )
        assert worker.process is not None, worker.log_tail()
        assert worker.process.poll() is None, worker.log_tail()
        assert worker.get("/healthz")[0] == 200
    finally:
        worker.stop()
    letters = sorted((DeadLetter.model_validate_json(r.value) for r in records), key=lambda d: d.source)
    assert [(d.source, d.reason_class) for d in letters] == [("clock", "invalid"), ("internal", "invalid")]
