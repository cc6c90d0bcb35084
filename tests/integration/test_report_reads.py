"""The report reads (the coordinator's overview and DDAS download, the CBS report) keep the read timeout.

Issue 16: every read for a page or the API runs within `read_timeout_s` and a stalled database
answers 503 instead of hanging the request. The reports' cases were read on a connection of
their own without that bound: a lock on one of the case tables held the coordinator's request
for as long as the lock lasted.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert

from connectors.errors import Unavailable
from connectors.readmodel import ReadModel
from connectors.readmodel.case_tables import CaseRow
from connectors.readmodel.report_queries import cases_in_period
from connectors.readmodel.tables import table_of
from tests.integration.test_outage import hold_lock

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.timeout(60)]

GEMEENTE = "GM0363"
MARCH = (date(2024, 3, 1), date(2024, 3, 31))


async def test_a_report_read_on_a_stalled_table_is_unavailable_within_the_read_timeout(
    postgres_db_url: str,
) -> None:
    rm = await ReadModel.open(postgres_db_url, read_timeout_s=1.0)
    await rm.migrate()
    at = datetime(2024, 3, 12, 9, tzinfo=UTC)
    async with rm.engine.begin() as conn:
        await conn.execute(
            insert(table_of(CaseRow)).values(
                case_id="case-1",
                household_key="1011AB-1",
                team_id="buurtteam-centrum",
                gemeente_code=GEMEENTE,
                period_start=MARCH[0],
                period_end=MARCH[1],
                first_signal_at=at,
                last_signal_at=at,
                priority_rank=2,
            )
        )
    locked, release = threading.Event(), threading.Event()
    # The cases are readable; their contact attempts, read next, are locked (a long write elsewhere).
    holder = threading.Thread(
        target=lambda: asyncio.run(hold_lock(postgres_db_url, "contact_attempts", locked, release))
    )
    holder.start()
    try:
        assert await asyncio.to_thread(locked.wait, 10)
        started = time.monotonic()
        with pytest.raises(Unavailable) as raised:
            async with asyncio.timeout(15):  # before the fix: still waiting on the lock here
                await cases_in_period(rm, GEMEENTE, *MARCH)
        assert raised.value.dependency == "database"
        assert time.monotonic() - started < 5
    finally:
        release.set()
        await asyncio.to_thread(holder.join, 10)
    [case] = await cases_in_period(rm, GEMEENTE, *MARCH)  # the lock gone: read again
    assert case.case_id == "case-1"
    await rm.close()
