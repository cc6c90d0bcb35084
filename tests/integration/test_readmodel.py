"""The SQL read model against real databases: SQLite (file, WAL) and PostgreSQL (throwaway cluster)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, delete, select, text

from connectors.readmodel import Item, ReadModel, count_rows, overview, signals_for, write_with_retry
from connectors.readmodel.tables import Base
from tests.integration.pg import PostgresServer
from tests.unit import readmodel_examples as ex

pytestmark = pytest.mark.integration
Snapshot = dict[str, list[tuple[Any, ...]]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'readmodel.db'}"
    return str(request.getfixturevalue("postgres_db_url"))


@pytest.fixture
async def rm(db_url: str) -> AsyncIterator[ReadModel]:
    """A migrated read model on the database."""
    model = await ReadModel.open(db_url)
    await model.migrate()
    yield model
    await model.close()


async def snapshot(rm: ReadModel) -> Snapshot:
    """Every row of every table in key order, without the wall-clock `updated_at`."""
    out: Snapshot = {}
    async with rm.engine.connect() as conn:
        for name, table in Base.metadata.tables.items():
            cols = [c for c in table.columns if c.name != "updated_at"]
            stmt = select(*cols).order_by(*table.primary_key.columns)
            out[name] = [tuple(row) for row in await conn.execute(stmt)]
    return out


async def clear(rm: ReadModel) -> None:
    """Delete every row, keeping the schema."""
    async with rm.engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            await conn.execute(delete(table))


def order_test_batch() -> list[Item]:
    """Every output kind plus the cases where order could matter."""
    older = ex.overview(ex.T0 - timedelta(days=3), ex.debt_view(ex.POWER, principal_cents=1, days_overdue=1))
    also_carries_vio_1 = ex.signal("sig-2", violations=(ex.violation("vio-1"),))
    return [*ex.mixed_batch(), older, also_carries_vio_1, ex.resolved("sig-1")]


async def test_writing_the_same_batch_twice_gives_identical_rows(rm: ReadModel) -> None:
    await rm.write(ex.mixed_batch())
    first = await snapshot(rm)
    await rm.write(ex.mixed_batch())
    assert await snapshot(rm) == first
    assert (await count_rows(rm))["debts"] == 3


async def test_rows_do_not_depend_on_the_order_of_outputs(rm: ReadModel) -> None:
    batch = order_test_batch()
    await rm.write(batch)
    forward = await snapshot(rm)
    await clear(rm)
    for item in reversed(batch):  # one batch per output: a resolution before its signal, old after new
        await rm.write([item])
    assert await snapshot(rm) == forward
    assert forward["cost_violations"][0][-1] == "sig-1"  # the smallest signal that carried it


async def test_an_older_overview_does_not_overwrite_a_newer_one(rm: ReadModel) -> None:
    newer = ex.overview(ex.T0, ex.debt_view(ex.RENT, principal_cents=95_000, days_overdue=45))
    older = ex.overview(
        ex.T0 - timedelta(hours=1),
        ex.debt_view(ex.RENT, principal_cents=90_000, days_overdue=44),
        ex.debt_view(ex.POWER, principal_cents=12_345, days_overdue=31),
    )
    await rm.write([newer])
    await rm.write([older])
    assert await overview(rm, ex.HOUSEHOLD) == newer
    assert (await count_rows(rm))["debts"] == 1


async def test_a_newer_overview_removes_debts_it_no_longer_has(rm: ReadModel) -> None:
    rent = ex.debt_view(ex.RENT, principal_cents=95_000, days_overdue=45)
    await rm.write([ex.overview(ex.T0, rent, ex.debt_view(ex.POWER, principal_cents=1, days_overdue=31))])
    await rm.write([ex.overview(ex.T0 + timedelta(days=1), rent)])
    stored = await overview(rm, ex.HOUSEHOLD)
    assert stored is not None
    assert [d.debt for d in stored.debts] == [ex.RENT]


async def test_a_resolution_before_its_signal_is_still_applied(rm: ReadModel) -> None:
    await rm.write([ex.resolved("sig-1")])
    assert await signals_for(rm, ex.HOUSEHOLD) == []
    await rm.write([ex.signal("sig-1")])
    [record] = await signals_for(rm, ex.HOUSEHOLD)
    assert record.resolved_at == ex.resolved("sig-1").resolved_at
    assert record.resolution_id == "res-sig-1"


async def test_read_back_equals_what_was_written(rm: ReadModel) -> None:
    batch = ex.mixed_batch()
    await rm.write(batch)
    assert await overview(rm, ex.HOUSEHOLD) == ex.main_overview()
    assert await overview(rm, ex.OTHER) == ex.other_overview()
    assert await overview(rm, "9999ZZ-1") is None
    records = await signals_for(rm, ex.HOUSEHOLD)
    assert [r.signal for r in records] == [
        ex.signal("sig-0"),
        ex.signal("sig-1", violations=(ex.violation(),)),
    ]
    assert [r.resolution_id for r in records] == ["res-sig-0", None]


async def test_the_same_id_twice_in_a_batch_keeps_the_last(rm: ReadModel) -> None:
    first = ex.reminder()
    last = first.model_copy(update={"amount_cents": 99})
    await rm.write([first, last])
    async with rm.engine.connect() as conn:
        amounts = (await conn.execute(text("SELECT amount_cents FROM reminders"))).scalars().all()
    assert amounts == [99]


async def test_reminder_contact_details_are_stored_for_the_team(rm: ReadModel) -> None:
    await rm.write([ex.reminder()])
    async with rm.engine.connect() as conn:
        row = (await conn.execute(text("SELECT * FROM reminders"))).mappings().one()
    assert row["contact_name"] == "J. de Vries"
    assert row["contact_postcode"] == "1011AB"
    assert not any("bsn" in column for column in row)


async def test_migrations_match_the_models(rm: ReadModel) -> None:
    def diff(conn: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))

    async with rm.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_ping_answers_when_the_database_is_up(rm: ReadModel) -> None:
    assert await rm.ping()


async def test_a_missing_schema_is_raised_not_retried(db_url: str) -> None:
    unmigrated = await ReadModel.open(db_url)
    retries: list[int] = []
    try:
        with pytest.raises(Exception, match=r"(?i)no such table|does not exist"):
            await write_with_retry(unmigrated, ex.mixed_batch(), on_retry=lambda n, _e: retries.append(n))
    finally:
        await unmigrated.close()
    assert retries == []


async def test_sqlite_uses_write_ahead_logging(tmp_path: Path) -> None:
    model = await ReadModel.open(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        async with model.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
    finally:
        await model.close()


async def test_sqlite_write_waits_for_the_database_to_come_back(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    url = f"sqlite:///{volume / 'readmodel.db'}"
    setup = await ReadModel.open(url)
    await setup.migrate()
    await setup.close()
    unmounted = volume.rename(tmp_path / "elsewhere")  # the file really cannot be opened now
    errors: list[BaseException] = []

    def on_retry(attempt: int, exc: BaseException) -> None:
        errors.append(exc)
        if attempt == 2:
            unmounted.rename(volume)

    model = await ReadModel.open(url)
    try:
        assert not await model.ping()
        used = await write_with_retry(model, ex.mixed_batch(), base_delay_s=0.01, on_retry=on_retry)
        assert used == 3
        assert all("unable to open database" in str(e) for e in errors)
        assert await overview(model, ex.HOUSEHOLD) == ex.main_overview()
    finally:
        await model.close()


@pytest.mark.postgres
async def test_postgres_write_waits_for_the_server_to_come_back(
    postgres_server: PostgresServer, postgres_db_url: str
) -> None:
    model = await ReadModel.open(postgres_db_url)
    await model.migrate()
    await model.write([ex.reminder()])  # the pool now holds a connection the restart will kill
    errors: list[BaseException] = []

    async def on_retry(attempt: int, exc: BaseException) -> None:
        errors.append(exc)
        if attempt == 2:
            assert not await model.ping()
            await asyncio.to_thread(postgres_server.start)

    postgres_server.stop()
    try:
        used = await write_with_retry(model, ex.mixed_batch(), base_delay_s=0.05, on_retry=on_retry)
    finally:
        if not postgres_server.is_running():
            postgres_server.start()
    try:
        assert used == 3
        assert len(errors) == 2
        assert await model.ping()
        assert (await count_rows(model))["reminders"] == 1
        assert await overview(model, ex.HOUSEHOLD) == ex.main_overview()
    finally:
        await model.close()
