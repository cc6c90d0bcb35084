"""Pages of the inbox and the case page (issue 16): plain links, Dutch, a 400 for a bad page number."""

from __future__ import annotations

import re

import pytest

from connectors.readmodel.case_queries import CASE_SIGNALS_PAGE_SIZE, INBOX_PAGE_SIZE, CaseDetail, SignalView
from streams.team import html as pages
from streams.team.paging import PagingError, limit_of, offset_of, page_of
from tests.unit import case_examples as ex
from tests.unit.test_team_pages import WHO, summary


def _links(page: str) -> dict[str, str]:
    return dict(re.findall(r'<a rel="(prev|next)" href="([^"]+)"', page))


def test_the_inbox_links_to_the_previous_and_next_page() -> None:
    total = 2 * INBOX_PAGE_SIZE + 7  # three pages
    first = pages.inbox_page(WHO, "T", [summary()], total=total, page=1)
    assert f"{total} open zaken. Pagina 1 van 3." in first
    assert _links(first) == {"next": f"/team/{ex.TEAM}/zaken?pagina=2"}
    middle = pages.inbox_page(WHO, "T", [summary()], total=total, page=2)
    assert _links(middle) == {
        "prev": f"/team/{ex.TEAM}/zaken?pagina=1",
        "next": f"/team/{ex.TEAM}/zaken?pagina=3",
    }
    last = pages.inbox_page(WHO, "T", [summary()], total=total, page=3)
    assert _links(last) == {"prev": f"/team/{ex.TEAM}/zaken?pagina=2"}
    assert "<script" not in first.lower()


def test_one_page_of_cases_has_no_page_links() -> None:
    page = pages.inbox_page(WHO, "T", [summary()], total=1)
    assert _links(page) == {}
    assert "Pagina" not in page


def test_the_case_page_shows_one_page_of_signals_with_a_link_to_more() -> None:
    views = tuple(
        SignalView(ex.signal(f"s{n}"), "Nog niet opgepakt", None) for n in range(CASE_SIGNALS_PAGE_SIZE)
    )
    count = CASE_SIGNALS_PAGE_SIZE + 5
    first = summary(signals=views, signal_count=count, unresolved_count=count)
    page = pages.case_page(
        WHO, "T", CaseDetail(summary=first, attempts=(), overview=None), "req-12345678", None
    )
    assert f"Signalen 6 tot en met {count} van {count}" in page
    assert _links(page) == {"next": f"/zaken/{ex.case_of()}?signalen=2"}
    older = summary(signals=views[:5], signal_count=count, signals_offset=CASE_SIGNALS_PAGE_SIZE)
    page = pages.case_page(
        WHO, "T", CaseDetail(summary=older, attempts=(), overview=None), "req-12345678", None
    )
    assert f"Signalen 1 tot en met 5 van {count}" in page
    assert _links(page) == {"prev": f"/zaken/{ex.case_of()}?signalen=1"}


@pytest.mark.parametrize("raw", ["0", "-1", "x", "1.5", "٣", "99999999", " 2"])
def test_a_page_number_that_is_not_a_plain_number_in_range_is_refused(raw: str) -> None:
    with pytest.raises(PagingError):
        page_of({"pagina": raw})


def test_api_limits_are_bounded_by_the_page_size() -> None:
    assert limit_of({}, 50) == 50
    assert limit_of({"limit": "10"}, 50) == 10
    with pytest.raises(PagingError):
        limit_of({"limit": "51"}, 50)
    assert offset_of({"offset": "100"}) == 100
    with pytest.raises(PagingError):
        offset_of({"offset": "-5"})
