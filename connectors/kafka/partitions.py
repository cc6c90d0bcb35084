"""Kafka's default partitioner, the one formula every part of vroegsignaal uses to place a key."""

from __future__ import annotations

from aiokafka.partitioner import murmur2

__all__ = ["partition_of_household", "partition_of_key"]


def partition_of_key(key: bytes, partitions: int) -> int:
    """Kafka's default partitioner (murmur2 of the key), as the Java and aiokafka clients use.

    >>> partition_of_key(b"1011AB-1", 4) == partition_of_household("1011AB-1", 4)
    True
    """
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def partition_of_household(household_key: str, partitions: int) -> int:
    """The partition of a household on every internal and output topic.

    >>> partition_of_household("1011AB-1", 4) in range(4)
    True
    """
    return partition_of_key(household_key.encode(), partitions)
