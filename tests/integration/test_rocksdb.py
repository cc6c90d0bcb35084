"""The production table store (rocksdb://, via rocksdict): state survives restarts on local disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.kafka.broker import EmbeddedBroker
from tests.integration.runs import read_all, run_demo_history

pytestmark = pytest.mark.integration


def test_rocksdb_store_killed_and_restarted_gives_the_same_rows_as_the_memory_store(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    memory = run_demo_history(broker, tmp_path / "mem", f"sqlite:///{tmp_path / 'mem.db'}")
    rocks = run_demo_history(
        broker,
        tmp_path / "rocks",
        f"sqlite:///{tmp_path / 'rocks.db'}",
        kill_after_days=(9,),
        extra_env={"VROEGSIGNAAL_STORE": "rocksdb://"},
    )
    # The store really was RocksDB on disk, not a silent fallback to memory.
    assert any((tmp_path / "rocks" / "faust").rglob("*.sst")) or any(
        (tmp_path / "rocks" / "faust").rglob("CURRENT")
    )
    assert read_all(rocks.database_url) == read_all(memory.database_url)
