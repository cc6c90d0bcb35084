"""The inbox and the case page read one page in SQL (issue 16): LIMIT/OFFSET and a window per case."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.readmodel import ReadModel
from connectors.readmodel.case_queries import case_detail, open_cases, open_cases_page
from connectors.readmodel.case_writer import write_case_batch
from schemas.outputs_v1 import Signal
from tests.unit import case_examples as ex

pytestmark = pytest.mark.integration


async def _write(rm: ReadModel, signals: list[Signal]) -> None:
    await rm.write(signals)
    await write_case_batch(rm, signals)


async def test_the_inbox_pages_through_every_open_case_once_in_order(rm: ReadModel) -> None:
    households = [f"1011AB-{n}" for n in range(1, 121)]
    await _write(
        rm,
        [ex.signal(f"s{n}", ex.SEPT + timedelta(minutes=n), household=h) for n, h in enumerate(households)],
    )
    pages = [await open_cases_page(rm, ex.TEAM, limit=50, offset=o) for o in (0, 50, 100)]
    assert [len(p.cases) for p in pages] == [50, 50, 20]
    assert {p.total for p in pages} == {120}
    assert [p.next_offset for p in pages] == [50, 100, None]
    assert [p.previous_offset for p in pages] == [None, 0, 50]
    paged = [c.case_id for p in pages for c in p.cases]
    assert paged == [c.case_id for c in await open_cases(rm, ex.TEAM)]
    assert len(set(paged)) == 120
    beyond = await open_cases_page(rm, ex.TEAM, limit=50, offset=150)
    assert beyond.cases == ()
    assert beyond.total == 120


async def test_the_case_page_reads_a_page_of_the_newest_signals(rm: ReadModel) -> None:
    signals = [ex.signal(f"s{n:02}", ex.SEPT + timedelta(hours=n)) for n in range(45)]
    await _write(rm, signals)
    case_id = ex.case_of()
    first = await case_detail(rm, case_id, signals_limit=20)
    assert first is not None
    assert [v.signal.signal_id for v in first.summary.signals] == [f"s{n:02}" for n in range(25, 45)]
    assert first.summary.signal_count == 45
    assert first.summary.reasons == signals[-1].reasons  # the newest signal says why
    last = await case_detail(rm, case_id, signals_limit=20, signals_offset=40)
    assert last is not None
    assert [v.signal.signal_id for v in last.summary.signals] == [f"s{n:02}" for n in range(5)]
    assert not last.summary.resolved
    inbox = await open_cases_page(rm, ex.TEAM)
    assert len(inbox.cases) == 1
    assert len(inbox.cases[0].signals) == 3  # the inbox needs only the newest for its reasons and total
    assert inbox.cases[0].total_cents == signals[-1].total_cents
