"""kill -9 of the worker (ingest, household agent and sink) mid-run loses and doubles nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.broker import EmbeddedBroker
from tests.integration.runs import read_all, run_demo_history

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def _effect_ids(outputs: list[Any]) -> set[tuple[str, str]]:
    ids = set()
    for output in outputs:
        for field in ("signal_id", "resolution_id", "reminder_id", "decision_id", "violation_id"):
            if (
                field in type(output).model_fields and output.type != "signal_resolved"
            ) or field == "resolution_id":
                value = getattr(output, field, None)
                if value is not None:
                    ids.add((output.type, value))
    return ids


def test_killed_and_restarted_worker_leaves_the_same_rows_as_an_uninterrupted_run(
    broker: EmbeddedBroker, tmp_path: Path, postgres_db_url: str
) -> None:
    reference = run_demo_history(broker, tmp_path / "ref", f"sqlite:///{tmp_path / 'ref.db'}")
    crashed = run_demo_history(broker, tmp_path / "crash", postgres_db_url, kill_after_days=(3, 11))
    assert _effect_ids(crashed.outputs) == _effect_ids(reference.outputs)
    expected, got = read_all(reference.database_url), read_all(crashed.database_url)
    assert got.keys() == expected.keys()
    for table in expected:
        assert got[table] == expected[table], f"table {table} differs after the crashes"
