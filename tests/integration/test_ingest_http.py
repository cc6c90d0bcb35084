"""`POST /v1/ingest/{source}` on a real worker: authentication, all-or-nothing validation, publishing."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from connectors.kafka.broker import EmbeddedBroker
from tests.integration.harness import PARTITIONS, Worker, collect, isolated_worker, running
from tests.unit.contract_examples import event

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

HOUSING_TOKEN = "woonstad-" + uuid.uuid4().hex
ENERGY_TOKEN = "energie-west-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def worker(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """One worker for this module (start-up is the slow part); each test uses its own event ids."""
    tokens = {"woonstad": ("housing", HOUSING_TOKEN), "energie-west": ("energy", ENERGY_TOKEN)}
    worker = isolated_worker(
        broker, tmp_path_factory.mktemp("ingest-http"), "ingest-http", creditor_tokens=tokens
    )
    with running(worker) as w:
        yield w


def post(worker: Worker, path: str, body: Any, token: str | None) -> tuple[int, Any]:
    """POST a JSON body (bytes are sent as they are) and return (status, decoded JSON answer)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(worker.url(path), data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


async def end_offsets(broker: EmbeddedBroker, topic: str) -> dict[int, int]:
    """The next offset of every partition: equal before and after means nothing was published."""
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        return {tp.partition: offset for tp, offset in (await consumer.end_offsets(partitions)).items()}
    finally:
        await consumer.stop()


def wait_for_accepted(worker: Worker, source: str, at_least: float, timeout_s: float = 20) -> bool:
    """Poll /metrics until vroegsignaal_events_accepted_total for `source` reaches `at_least`."""
    pattern = re.compile(rf'^vroegsignaal_events_accepted_total{{source="{source}"}} (\S+)$', re.M)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = pattern.search(worker.get("/metrics")[1])
        if found and float(found.group(1)) >= at_least:
            return True
        time.sleep(0.2)
    return False


def housing_events(tag: str, count: int) -> list[dict[str, Any]]:
    """`count` valid housing events with ids unique to one test."""
    return [event(event_id=f"{tag}-{i}", debt_ref=f"HUUR-{tag}-{i}") for i in range(count)]


async def test_valid_events_are_published_to_the_inbound_topic_and_answered_202(
    broker: EmbeddedBroker, worker: Worker
) -> None:
    tag = uuid.uuid4().hex[:8]
    single, batch = housing_events(tag, 1)[0], housing_events(tag, 4)[1:]

    assert await asyncio.to_thread(post, worker, "/v1/ingest/housing", single, HOUSING_TOKEN) == (
        202,
        {"accepted": 1},
    )
    assert await asyncio.to_thread(post, worker, "/v1/ingest/housing", batch, HOUSING_TOKEN) == (
        202,
        {"accepted": 3},
    )

    def ours(records: list[Any]) -> list[dict[str, Any]]:
        return [v for v in (json.loads(r.value) for r in records) if v["event_id"].startswith(tag)]

    topic = worker.names.inbound("housing")
    records = await collect(broker, [topic], lambda rs: len(ours(rs)) >= 4, timeout_s=20)
    assert sorted(ours(records), key=lambda v: v["event_id"]) == sorted(
        [single, *batch], key=lambda v: v["event_id"]
    )
    # And the worker's own ingest agent took them in, as it would from Kafka.
    assert await asyncio.to_thread(wait_for_accepted, worker, "housing", 4)


async def test_one_invalid_item_rejects_the_whole_request_with_per_item_errors(
    broker: EmbeddedBroker, worker: Worker
) -> None:
    tag = uuid.uuid4().hex[:8]
    good, bad_bsn, wrong_source = housing_events(tag, 3)
    bad_bsn["debtor"] = {"name": "J. de Vries", "bsn": "123456789"}
    wrong_source["source"] = "energy"
    topic = worker.names.inbound("housing")
    before = await end_offsets(broker, topic)

    status, answer = await asyncio.to_thread(
        post, worker, "/v1/ingest/housing", [good, bad_bsn, wrong_source], HOUSING_TOKEN
    )

    assert status == 400
    assert answer["accepted"] == 0
    by_index = {item["index"]: item for item in answer["items"]}
    assert set(by_index) == {1, 2}
    assert by_index[1]["reason_class"] == "invalid"
    assert [e["path"] for e in by_index[1]["errors"]] == ["debtor.bsn"]
    assert by_index[2]["reason_class"] == "wrong_source"
    assert [e["path"] for e in by_index[2]["errors"]] == ["source"]
    # A publish would have been acknowledged before the answer: the offsets prove none happened.
    assert await end_offsets(broker, topic) == before


@pytest.mark.parametrize(
    ("token", "status"),
    [(None, 401), ("not-a-known-token", 401), (ENERGY_TOKEN, 403)],
    ids=["no-token", "unknown-token", "token-of-another-source"],
)
async def test_a_request_without_the_right_creditor_token_is_refused(
    worker: Worker, token: str | None, status: int
) -> None:
    body = housing_events(uuid.uuid4().hex[:8], 1)[0]
    answer_status, answer = await asyncio.to_thread(post, worker, "/v1/ingest/housing", body, token)
    assert answer_status == status
    assert (answer["status"], answer["title"]) == (status, HTTPStatus(status).phrase)  # RFC 9457
    assert "token" in answer["detail"]


async def test_an_unknown_source_is_not_found(worker: Worker) -> None:
    body = housing_events(uuid.uuid4().hex[:8], 1)[0]
    status, answer = await asyncio.to_thread(post, worker, "/v1/ingest/gas", body, HOUSING_TOKEN)
    assert status == 404
    assert "unknown source" in answer["detail"]


async def test_an_event_above_the_message_limit_is_too_large(worker: Worker) -> None:
    body = housing_events(uuid.uuid4().hex[:8], 1)[0]
    body["address"]["street"] = "x" * 1_100_000  # the default limit is 1 MiB per event
    status, answer = await asyncio.to_thread(post, worker, "/v1/ingest/housing", body, HOUSING_TOKEN)
    assert status == 413
    assert answer["accepted"] == 0
