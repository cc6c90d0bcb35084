"""One truth per id on a real worker: one outcome per case, and the same id with other content is a conflict."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from connectors.kafka.broker import EmbeddedBroker
from schemas.cases_v1 import CASE_EVENT, CreditorFeedback, OutcomeRecorded
from schemas.deadletter_v1 import DeadLetter
from signals.cases import feedback_status
from signals.retention import InactiveCase, close_inactive_case
from tests.integration.harness import Worker, collect, isolated_worker, publish, running
from tests.integration.team_client import DEMO_TOKENS, Answer, call
from tests.integration.test_ingest_http import end_offsets, post
from tests.unit import case_examples as ex
from tests.unit.contract_examples import event

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

TOKEN = DEMO_TOKENS[ex.TEAM]
HOUSING_TOKEN = "woonstad-" + uuid.uuid4().hex
READ_TOKEN = "test-read-token"  # the harness's


@pytest.fixture(scope="module")
def worker(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A worker whose read model holds one case of two signalled debts (a signal on the signals topic)."""
    tokens = {"woonstad": ("housing", HOUSING_TOKEN)}
    worker = isolated_worker(
        broker, tmp_path_factory.mktemp("conflicts"), "conflicts", creditor_tokens=tokens
    )
    with running(worker, topics_first=True) as w:
        both = ex.signal("sig-conflicts", debts=(ex.snapshot(ex.RENT), ex.snapshot(ex.POWER)))
        asyncio.run(
            publish(broker, [(w.names.signals, ex.HOUSEHOLD.encode(), both.model_dump_json().encode())])
        )
        _wait(lambda: _case(w) is not None, "the signal's case in the inbox")
        yield w


def _wait(condition: Any, what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {timeout_s}s")


def _case(worker: Worker) -> dict[str, Any] | None:
    answer = call(worker, "GET", f"/v1/teams/{ex.TEAM}/cases", token=TOKEN)
    return next((c for c in answer.body.get("cases", []) if c["household_key"] == ex.HOUSEHOLD), None)


def _recent(**fields: Any) -> dict[str, Any]:
    """An event that happened just now: the worker's wall-clock ticks move the household's clock to today,
    and an id older than the dedup horizon (90 days) before it is a plain duplicate, never a conflict."""
    return event(occurred_at=datetime.now(UTC).isoformat(), **fields)


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def test_two_outcomes_at_once_one_is_stored_the_other_answered_409_and_creditors_hear_only_the_stored(
    broker: EmbeddedBroker, worker: Worker
) -> None:
    case_id = ex.case_of()
    results = ("Niet opgepakt: andere reden", "Vervolghulp en/of verwijzing financieel")
    start = threading.Barrier(len(results))

    def record(resultaat: str) -> Answer:
        start.wait()  # both leave together: each sees a case without an outcome
        body = {"resultaat": resultaat, "datum": _today()}
        return call(worker, "POST", f"/v1/cases/{case_id}/outcome", token=TOKEN, json_body=body)

    with ThreadPoolExecutor(len(results)) as pool:
        answers = dict(zip(results, pool.map(record, results), strict=True))

    assert sorted(a.status for a in answers.values()) == [201, 409]
    winner = next(r for r, a in answers.items() if a.status == 201)
    loser = next(a for a in answers.values() if a.status == 409)
    assert "ander eindresultaat" in loser.body["detail"]
    detail = call(worker, "GET", f"/v1/cases/{case_id}", token=TOKEN).body
    assert detail["outcome"]["resultaat"] == winner

    names = worker.names
    feedback_records = asyncio.run(
        collect(broker, names.all_creditor_feedback, until=lambda r: False, timeout_s=5)
    )
    feedback = [CreditorFeedback.model_validate_json(r.value) for r in feedback_records]
    assert sorted((f.debt.source, f.status) for f in feedback) == [
        ("energy", feedback_status(winner)),  # type: ignore[arg-type]
        ("housing", feedback_status(winner)),  # type: ignore[arg-type]
    ]
    assert len({f.feedback_id for f in feedback}) == 2
    # How many outcome events the race put on the topic (2 when both passed the first check): the sink decided.
    case_events = asyncio.run(collect(broker, [names.case_events], until=lambda r: False, timeout_s=2))
    outcomes = [
        e for e in (CASE_EVENT.validate_json(r.value) for r in case_events) if isinstance(e, OutcomeRecorded)
    ]
    assert 1 <= len(outcomes) <= 2
    print(f"outcome events on case-events: {len(outcomes)}")

    again = call(
        worker,
        "POST",
        f"/v1/cases/{case_id}/outcome",
        token=TOKEN,
        json_body={"resultaat": winner, "datum": _today()},
    )
    assert again.status == 201  # the same outcome again: the same answer, nothing new
    other = next(r for r in results if r != winner)
    form = call(worker, "POST", f"/zaken/{case_id}/resultaat", token=TOKEN, form={"resultaat": other})
    assert form.status == 409
    assert f"Deze zaak heeft al een ander eindresultaat: &#x27;{winner}&#x27;" in form.body
    lost = _conflicts(worker, "outcome")
    assert lost >= 1

    # The retention job closes an inactive case with the system's outcome under the same id: it loses too.
    inactive = InactiveCase(ex.case_of(), ex.HOUSEHOLD, ex.TEAM, ex.SEPT, False, (ex.RENT, ex.POWER))
    closed = close_inactive_case(inactive, now=datetime.now(UTC), days=90)
    assert closed is not None
    asyncio.run(
        publish(broker, [(names.case_events, ex.HOUSEHOLD.encode(), closed.model_dump_json().encode())])
    )
    _wait(lambda: _conflicts(worker, "outcome") > lost, "the system's outcome judged by the case sink")
    assert call(worker, "GET", f"/v1/cases/{case_id}", token=TOKEN).body["outcome"]["resultaat"] == winner
    records = asyncio.run(collect(broker, names.all_creditor_feedback, until=lambda r: False, timeout_s=3))
    assert sorted(r.value for r in records) == sorted(r.value for r in feedback_records)


def _conflicts(worker: Worker, kind: str) -> float:
    found = re.search(
        rf'^vroegsignaal_conflicts_total{{kind="{kind}"}} (\S+)$', worker.get("/metrics")[1], re.M
    )
    return float(found.group(1)) if found else 0.0


def test_a_contact_attempt_resent_with_other_content_is_409_and_only_the_first_is_stored(
    worker: Worker,
) -> None:
    case_id = ex.case_of()
    path = f"/v1/cases/{case_id}/contact-attempts"
    first = {
        "soort": "Huisbezoek",
        "bereikt": True,
        "datum": _today(),
        "dagdeel": "Middag",
        "request_id": "conflict-0001",
    }
    other = {**first, "soort": "Telefoon", "bereikt": False}

    stored = call(worker, "POST", path, token=TOKEN, json_body=first)
    retried = call(worker, "POST", path, token=TOKEN, json_body=first)
    conflicting = call(worker, "POST", path, token=TOKEN, json_body=other)

    assert (stored.status, retried.status, conflicting.status) == (201, 201, 409)
    assert retried.body["event_id"] == stored.body["event_id"]
    assert conflicting.body["field"] == "request_id"
    attempts = call(worker, "GET", f"/v1/cases/{case_id}", token=TOKEN).body["contact_attempts"]
    ours = [a for a in attempts if a["attempt_id"] == stored.body["event_id"]]
    assert [(a["soort"], a["bereikt"]) for a in ours] == [("Huisbezoek", True)]


def _principal(worker: Worker, household: str) -> int | None:
    status, body = worker.get(f"/households/{household}", token=READ_TOKEN)
    return sum(d["principal_cents"] for d in body["debts"]) if status == 200 else None


def _conflict_letters(records: list[Any], event_id: str) -> list[DeadLetter]:
    letters = [DeadLetter.model_validate_json(r.value) for r in records]
    return [
        x for x in letters if x.reason_class == "conflicting_duplicate" and event_id in (x.value_utf8 or "")
    ]


def test_an_event_resent_over_kafka_with_another_amount_is_dead_lettered_and_the_first_amount_stands(
    broker: EmbeddedBroker, worker: Worker
) -> None:
    tag = uuid.uuid4().hex[:8]
    address = {"postcode": "3011AB", "house_number": 40, "house_letter": None}
    first = _recent(event_id=f"{tag}-1", debt_ref=f"HUUR-{tag}", address=address, amount_cents=95_000)
    other = {**first, "amount_cents": 120_000}
    inbound, household = worker.names.inbound("housing"), "3011AB-40"
    key = first["debt_ref"].encode()

    asyncio.run(publish(broker, [(inbound, key, orjson.dumps(first))]))
    _wait(lambda: _principal(worker, household) == 95_000, "first amount in the read model")
    asyncio.run(publish(broker, [(inbound, key, orjson.dumps(other)), (inbound, key, orjson.dumps(first))]))

    dead = worker.names.dead_letter_for("housing")
    records = asyncio.run(
        collect(broker, [dead], until=lambda r: bool(_conflict_letters(r, first["event_id"])))
    )
    (letter,) = _conflict_letters(records, first["event_id"])
    assert json.loads(letter.value_utf8 or "{}")["amount_cents"] == 120_000
    assert letter.errors[0].path == "event_id"
    assert letter.topic == worker.names.events_by_household
    time.sleep(1)  # the identical re-send after it: a duplicate, no second letter, no change
    records = asyncio.run(collect(broker, [dead], until=lambda r: False, timeout_s=2))
    assert len(_conflict_letters(records, first["event_id"])) == 1
    assert _principal(worker, household) == 95_000
    assert _conflicts(worker, "event_id") >= 1


def test_http_ingest_answers_409_for_an_id_it_published_with_other_content_and_publishes_nothing(
    broker: EmbeddedBroker, worker: Worker
) -> None:
    tag = uuid.uuid4().hex[:8]
    first = event(event_id=f"{tag}-1", debt_ref=f"HUUR-{tag}", amount_cents=95_000)
    other = {**first, "amount_cents": 120_000}
    inbound = worker.names.inbound("housing")

    assert post(worker, "/v1/ingest/housing", first, HOUSING_TOKEN) == (202, {"accepted": 1})
    before = asyncio.run(end_offsets(broker, inbound))
    status, answer = post(worker, "/v1/ingest/housing", other, HOUSING_TOKEN)
    assert status == 409
    assert answer["accepted"] == 0
    assert [(i["index"], i["reason_class"]) for i in answer["items"]] == [(0, "conflicting_duplicate")]
    in_one_body = event(event_id=f"{tag}-2", debt_ref=f"HUUR-{tag}-2")
    status, answer = post(
        worker, "/v1/ingest/housing", [in_one_body, {**in_one_body, "amount_cents": 1}], HOUSING_TOKEN
    )
    assert (status, [i["index"] for i in answer["items"]]) == (409, [1])
    assert asyncio.run(end_offsets(broker, inbound)) == before  # nothing of either request was published
    # The same event again, written differently, is an identical retry: accepted; the stream drops it.
    assert post(worker, "/v1/ingest/housing", json.dumps(first, indent=2).encode(), HOUSING_TOKEN) == (
        202,
        {"accepted": 1},
    )


def test_an_id_http_cannot_know_is_accepted_and_then_dead_lettered_by_the_stream(
    broker: EmbeddedBroker, worker: Worker
) -> None:
    tag = uuid.uuid4().hex[:8]
    address = {"postcode": "3011AB", "house_number": 41, "house_letter": None}
    first = _recent(event_id=f"{tag}-1", debt_ref=f"HUUR-{tag}", address=address, amount_cents=95_000)
    inbound, household = worker.names.inbound("housing"), "3011AB-41"
    asyncio.run(publish(broker, [(inbound, first["debt_ref"].encode(), orjson.dumps(first))]))  # over Kafka
    _wait(lambda: _principal(worker, household) == 95_000, "first amount in the read model")

    # This worker never saw the id over HTTP: it cannot tell at once, so it accepts; the stream refuses.
    assert post(worker, "/v1/ingest/housing", {**first, "amount_cents": 1}, HOUSING_TOKEN) == (
        202,
        {"accepted": 1},
    )
    dead = worker.names.dead_letter_for("housing")
    records = asyncio.run(
        collect(broker, [dead], until=lambda r: bool(_conflict_letters(r, first["event_id"])))
    )
    assert len(_conflict_letters(records, first["event_id"])) == 1
    assert _principal(worker, household) == 95_000
