"""Fixtures for integration tests: a throwaway PostgreSQL server for the whole session."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from connectors.kafka.broker import EmbeddedBroker
from connectors.readmodel import ReadModel
from tests.integration.pg import PostgresServer, PostgresUnavailable
from tests.integration.scenario import Outcome, reference_outcome


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster started once per session (skips when the binaries are missing)."""
    try:
        server = PostgresServer().init()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """URL of a database created once per session on the session's server."""
    return postgres_server.create_database("vroegsignaal")


@pytest.fixture
def postgres_db_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a fresh database for one test, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name)
    yield url
    if postgres_server.is_running():
        postgres_server.drop_database(name)


@pytest.fixture(scope="session")
def scenario_reference(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """The uninterrupted run of the fault scenario, made once and compared with by every fault test."""
    return reference_outcome(broker, Path(tmp_path_factory.mktemp("reference")))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def rm(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ReadModel]:
    """A migrated read model on SQLite and on PostgreSQL (a test module may define its own `rm`)."""
    url = (
        f"sqlite:///{tmp_path / 'readmodel.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_db_url")
    )
    model = await ReadModel.open(url)
    await model.migrate()
    yield model
    await model.close()
