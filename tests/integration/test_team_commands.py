"""`vroegsignaal audit` and `vroegsignaal retention` as an operator runs them, on a SQLite read model."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.readmodel import ReadModel
from connectors.readmodel.case_rows import CaseItem
from connectors.readmodel.case_writer import write_case_batch
from schemas.outputs_v1 import Signal
from tests.integration.runs import read_all
from tests.unit import case_examples as ex

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

LONG_AGO = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)  # closed more than 12 months before any test run


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A case closed long ago and one closed recently, with reads and changes of both."""
    url = f"sqlite:///{tmp_path / 'read.db'}"
    old: list[CaseItem] = [
        ex.signal("old-1", LONG_AGO),
        ex.viewed("v-old", ex.later(LONG_AGO, 1)).model_copy(update={"case_id": ex.case_of(LONG_AGO)}),
        ex.attempt("r-old", ex.later(LONG_AGO, 1), case_at=LONG_AGO),
        ex.outcome("Vervolghulp en/of verwijzing financieel", ex.later(LONG_AGO, 2), case_at=LONG_AGO),
    ]
    recent: list[CaseItem] = [ex.signal("new-1"), ex.outcome("Inwoner is overleden", ex.later(ex.SEPT, 2))]

    async def build() -> None:
        read_model = await ReadModel.open(url)
        try:
            await read_model.migrate()
            await read_model.write([i for i in old + recent if isinstance(i, Signal)])
            await write_case_batch(read_model, old + recent)
        finally:
            await read_model.close()

    asyncio.run(build())
    return url


def vroegsignaal(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VROEGSIGNAAL_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_audit_lists_who_read_and_changed_a_household_filtered(database: str) -> None:
    done = vroegsignaal(
        database, "audit", "--member", "centrum-01", "--household", ex.HOUSEHOLD, "--since", "2024-01-01"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "overview_viewed" in done.stdout
    assert "contact_attempt_recorded" in done.stdout
    assert lines[-1] == "4 entries"
    later = vroegsignaal(database, "audit", "--since", "2026-09-01")
    assert later.stdout.splitlines()[-1] == "1 entry"
    bad = vroegsignaal(database, "audit", "--since", "yesterday")
    assert bad.returncode == 2
    assert "--since" in bad.stderr


def test_retention_dry_run_changes_nothing_and_the_real_run_keeps_only_counts(database: str) -> None:
    before = read_all(database)
    dry = vroegsignaal(database, "retention", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would delete 1 case(s), 1 signal(s), 1 contact attempt(s)" in dry.stdout
    assert read_all(database) == before
    done = vroegsignaal(database, "retention")
    assert done.returncode == 0
    assert "deleted 1 case(s)" in done.stdout
    assert "GM0363 2024-03 Vervolghulp en/of verwijzing financieel: 1 case(s)" in done.stdout
    after = read_all(database)
    assert [r[0] for r in after["cases"]] == [ex.case_of()]  # the recent case stays
    assert "old-1" not in repr(after["signals"]) + repr(after["signal_status"])
    assert after["anonymous_counts"]
    assert not after["contact_attempts"]
    assert all(r[5] is None for r in after["audit_log"] if r[6] == ex.case_of(LONG_AGO))
    assert "deleted 0 case(s)" in vroegsignaal(database, "retention").stdout
