"""Team sessions in the real read model: two workers (two engines on one database) see a login and a logout."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.readmodel import ReadModel
from connectors.readmodel.sessions import SqlSessionStore, TeamSession

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def two_workers(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[ReadModel, ReadModel]]:
    """Two read models on one migrated database, as two workers open it."""
    url = (
        f"sqlite:///{tmp_path / 'rm.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_db_url")
    )
    first, second = await ReadModel.open(url), await ReadModel.open(url)
    await first.migrate()
    yield first, second
    await first.close()
    await second.close()


async def test_a_logout_on_one_worker_ends_the_session_on_the_other(
    two_workers: tuple[ReadModel, ReadModel],
) -> None:
    one, other = SqlSessionStore(two_workers[0]), SqlSessionStore(two_workers[1])
    await one.start(
        "sid-1", member_id="oost-01", team_id="buurtteam-oost", expires_at=NOW + timedelta(hours=8)
    )
    assert await other.active("sid-1", member_id="oost-01", now=NOW)
    assert not await other.active("sid-1", member_id="centrum-01", now=NOW)  # another member's id
    assert not await other.active("sid-1", member_id="oost-01", now=NOW + timedelta(hours=8, seconds=1))
    await other.end("sid-1")
    assert not await one.active("sid-1", member_id="oost-01", now=NOW)


async def test_the_table_holds_no_session_id_and_drops_expired_sessions(
    two_workers: tuple[ReadModel, ReadModel],
) -> None:
    store = SqlSessionStore(two_workers[0])
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    await store.start("old-sid", member_id="oost-01", team_id="buurtteam-oost", expires_at=long_ago)
    await store.start(
        "new-sid",
        member_id="oost-01",
        team_id="buurtteam-oost",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    async with two_workers[0].engine.connect() as conn:
        rows = (await conn.execute(TeamSession.__table__.select())).all()
    assert len(rows) == 1  # the expired one went when the new one started
    assert "new-sid" not in repr(rows)  # only its SHA-256: a database copy gives no cookie
