"""Alembic environment of the read model: runs on the connection `ReadModel.migrate` hands over."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from connectors.readmodel.tables import Base


def run_migrations(connection: Connection) -> None:
    """Run the pending revisions on one connection."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url(url: str) -> None:
    """Run the revisions on a fresh engine, for the `alembic` command line with `sqlalchemy.url` set."""
    from connectors.readmodel.writer import async_url

    engine = create_async_engine(async_url(url))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run_migrations)
    finally:
        await engine.dispose()


def main() -> None:
    """Migrate on the connection handed over, or else on `sqlalchemy.url`."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
    else:
        asyncio.run(run_from_url(context.config.get_main_option("sqlalchemy.url") or ""))


# Alembic provides `context.config` only while it runs this file; a doctest collector merely imports it.
if hasattr(context, "config"):
    main()
