"""Table recovery reads a changelog to its last record, whatever end offset the broker reports."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from connectors.kafka.broker import EmbeddedBroker
from connectors.kafka.true_ends import true_ends


async def _one_batch_of_five(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 1, 1)])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    batch = producer.create_batch()
    for n in range(5):
        batch.append(key=b"household", value=b"state %d" % n, timestamp=None)
    await (await producer.send_batch(batch, topic, partition=0))
    await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets([TopicPartition(topic, 0)]))
    finally:
        await consumer.stop()


def test_the_states_of_a_last_batch_are_all_recovered(broker: EmbeddedBroker) -> None:
    topic = f"true-ends-{uuid.uuid4().hex[:8]}"
    reported = asyncio.run(_one_batch_of_five(broker.bootstrap, topic))
    # The development broker reports 1 here (the last batch's base offset + 1); Kafka says 5.
    corrected = asyncio.run(true_ends(broker.bootstrap, reported))
    assert corrected == {TopicPartition(topic, 0): 5}


def test_an_empty_changelog_is_left_alone(broker: EmbeddedBroker) -> None:
    tp = TopicPartition(f"true-ends-empty-{uuid.uuid4().hex[:8]}", 0)
    assert asyncio.run(true_ends(broker.bootstrap, {tp: 0})) == {tp: 0}
