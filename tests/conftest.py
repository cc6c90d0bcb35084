"""Fixtures shared by every test layer: the embedded broker and unique names."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.kafka.broker import EmbeddedBroker


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """One Tansu broker per test session on a free loopback port, stopped by pid at the end."""
    log = Path(tmp_path_factory.mktemp("broker")) / "broker.log"
    with EmbeddedBroker(log_path=log) as running:
        yield running


@pytest.fixture
def unique() -> str:
    """A short unique token for topic prefixes and app ids of one test."""
    return uuid.uuid4().hex[:10]
