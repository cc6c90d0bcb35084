"""Mapping outputs to read-model rows, batch rules and retry policy, without a database."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Sequence
from datetime import timedelta

import pytest
from asyncpg import exceptions as pg
from sqlalchemy import exc as sa

from connectors.readmodel import Item, ReadModelError, async_url, is_transient, write_with_retry
from connectors.readmodel.retry import backoff_s
from connectors.readmodel.rows import (
    debt_rows,
    household_row,
    link_signal,
    overview_from_rows,
    plan_batch,
    reminder_row,
    signal_from_row,
    signal_row,
)
from tests.unit import readmodel_examples as ex


def test_overview_rows_map_back_to_the_same_overview() -> None:
    ov = ex.main_overview()
    assert overview_from_rows(household_row(ov), debt_rows(ov)) == ov


def test_debt_rows_keep_the_overview_order() -> None:
    ov = ex.main_overview()
    assert [(r["position"], r["source"]) for r in debt_rows(ov)] == [(0, "housing"), (1, "energy")]


def test_signal_row_maps_back_to_the_same_signal() -> None:
    sig = ex.signal(violations=(ex.violation(),))
    assert signal_from_row(signal_row(sig)) == sig


def test_signal_row_leaves_resolution_to_the_resolutions_table() -> None:
    assert not {"resolved_at", "resolution_id"} & set(signal_row(ex.signal()))


def test_reminder_row_flattens_contact_details_and_holds_no_bsn() -> None:
    row = reminder_row(ex.reminder())
    assert row["contact_phone"] == "+31612345678"
    assert row["source"] == "energy"
    assert not any("bsn" in key for key in row)


def test_the_same_id_twice_in_a_batch_keeps_the_last() -> None:
    first = ex.reminder()
    last = first.model_copy(update={"amount_cents": 1})
    assert plan_batch([first, last]).reminders["rem-1"]["amount_cents"] == 1


@pytest.mark.parametrize("order", [1, -1])
def test_the_newest_overview_of_a_household_wins_in_a_batch(order: int) -> None:
    new = ex.overview(ex.T0, ex.debt_view(ex.RENT, principal_cents=2, days_overdue=1))
    old = ex.overview(ex.T0 - timedelta(days=1), ex.debt_view(ex.POWER, principal_cents=1, days_overdue=1))
    rows = plan_batch([new, old][::order])
    assert rows.households[ex.HOUSEHOLD]["as_of"] == ex.T0
    assert [d["source"] for d in rows.debts[ex.HOUSEHOLD]] == ["housing"]


def test_on_an_equal_as_of_the_later_overview_wins() -> None:
    a = ex.overview(ex.T0, ex.debt_view(ex.RENT, principal_cents=2, days_overdue=1))
    b = ex.overview(ex.T0, ex.debt_view(ex.POWER, principal_cents=1, days_overdue=1))
    assert [d["source"] for d in plan_batch([a, b]).debts[ex.HOUSEHOLD]] == ["energy"]


@pytest.mark.parametrize("order", [1, -1])
def test_a_violation_links_to_the_smallest_signal_whatever_the_order(order: int) -> None:
    vio = ex.violation()
    batch: list[Item] = [ex.signal("sig-2", violations=(vio,)), vio, ex.signal("sig-1", violations=(vio,))]
    assert plan_batch(batch[::order]).violations["vio-1"]["signal_id"] == "sig-1"


def test_link_signal_keeps_a_link_over_none() -> None:
    assert link_signal(None, "b") == "b"
    assert link_signal("a", None) == "a"
    assert link_signal(None, None) is None


def test_plan_batch_refuses_what_is_not_an_output() -> None:
    with pytest.raises(TypeError, match="ReminderView"):
        plan_batch([ex.debt_view(ex.RENT, principal_cents=1, days_overdue=1).reminders[0]])  # type: ignore[list-item]  # deliberately wrong


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///var/lib/rm.db", "sqlite+aiosqlite:///var/lib/rm.db"),
        ("postgresql://u@db:5432/rm", "postgresql+asyncpg://u@db:5432/rm"),
        ("postgres://u@db/rm", "postgresql+asyncpg://u@db/rm"),
        ("postgresql+asyncpg://u@db/rm", "postgresql+asyncpg://u@db/rm"),
    ],
)
def test_async_url_maps_plain_urls_to_async_drivers(url: str, expected: str) -> None:
    assert async_url(url).render_as_string(hide_password=False) == expected


def test_async_url_refuses_sync_only_drivers() -> None:
    with pytest.raises(ReadModelError, match="psycopg2"):
        async_url("postgresql+psycopg2://u@db/rm")


def _wrapped(cls: type[sa.DBAPIError], orig: BaseException, **kw: bool) -> sa.DBAPIError:
    return cls("INSERT …", {}, orig, **kw)  # type: ignore[arg-type]  # orig may be any driver error


def _asyncpg_style(cause: BaseException) -> sa.DBAPIError:
    """How SQLAlchemy's asyncpg adapter wraps a driver error: a generic Error caused by it."""
    adapted = Exception(str(cause))
    adapted.__cause__ = cause
    return _wrapped(sa.DBAPIError, adapted)


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (_wrapped(sa.OperationalError, sqlite3.OperationalError("database is locked")), True),
        (_wrapped(sa.OperationalError, sqlite3.OperationalError("unable to open database file")), True),
        (_wrapped(sa.OperationalError, sqlite3.OperationalError("no such table: households")), False),
        (_wrapped(sa.OperationalError, sqlite3.OperationalError('near "SELEC": syntax error')), False),
        (_wrapped(sa.IntegrityError, sqlite3.IntegrityError("NOT NULL constraint failed")), False),
        (_wrapped(sa.DBAPIError, Exception("closed"), connection_invalidated=True), True),
        (_asyncpg_style(pg.ConnectionDoesNotExistError("closed in the middle of operation")), True),
        (_asyncpg_style(pg.CannotConnectNowError("the database system is starting up")), True),
        (_asyncpg_style(pg.UndefinedTableError('relation "households" does not exist')), False),
        (ConnectionRefusedError(111, "refused"), True),
        (TimeoutError(), True),
        (ValueError("bug"), False),
    ],
)
def test_only_unavailability_is_transient(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient


def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    rng = random.Random(7)
    delays = [backoff_s(n, 0.5, 4.0, rng) for n in range(1, 8)]
    caps = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert all(cap / 2 <= d <= cap for d, cap in zip(delays, caps, strict=True))
    assert backoff_s(10_000, 0.5, 30.0, rng) <= 30.0


class FlakyWriter:
    """A writer that fails with the given errors before it succeeds."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.batches: list[Sequence[Item]] = []

    async def write(self, batch: Sequence[Item]) -> None:
        """Fail with the next error, or record the batch."""
        if self.errors:
            raise self.errors.pop(0)
        self.batches.append(batch)


async def test_write_with_retry_retries_transient_errors_until_written() -> None:
    writer = FlakyWriter(ConnectionRefusedError(), TimeoutError())
    seen: list[tuple[int, str]] = []
    used = await write_with_retry(
        writer, [ex.reminder()], base_delay_s=0.001, on_retry=lambda n, e: seen.append((n, type(e).__name__))
    )
    assert used == 3
    assert seen == [(1, "ConnectionRefusedError"), (2, "TimeoutError")]
    assert writer.batches == [[ex.reminder()]]


async def test_write_with_retry_raises_a_programming_error_at_once() -> None:
    writer = FlakyWriter(_wrapped(sa.ProgrammingError, Exception("syntax")))
    with pytest.raises(sa.ProgrammingError):
        await write_with_retry(writer, [ex.reminder()], on_retry=lambda n, e: pytest.fail("retried"))


async def test_write_with_retry_gives_up_after_the_attempts_allowed() -> None:
    writer = FlakyWriter(ConnectionRefusedError(), ConnectionRefusedError())
    with pytest.raises(ConnectionRefusedError):
        await write_with_retry(writer, [ex.reminder()], attempts=2, base_delay_s=0.001)
    assert writer.batches == []
