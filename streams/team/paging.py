"""Page numbers of the team pages and offsets of the API (issue 16): parsed totally, bounded.

The inbox lists `INBOX_PAGE_SIZE` cases per page (`?pagina=N`, from 1), the case page
`CASE_SIGNALS_PAGE_SIZE` signals (`?signalen=N`, pages from the newest); the API takes
`?limit=&offset=`. Anything else than a plain number in range is a 400, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["MAX_OFFSET", "PagingError", "limit_of", "offset_of", "page_of"]

MAX_OFFSET = 1_000_000
_MAX_PAGE = 100_000


class PagingError(ValueError):
    """A page, limit or offset that is not a number in range (a 400 with this Dutch message)."""


def _number(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 7 or not low <= int(raw) <= high:
        raise PagingError(f"{name} moet een getal van {low} tot en met {high} zijn.")
    return int(raw)


def page_of(query: Mapping[str, str], name: str = "pagina") -> int:
    """The page number (1 when absent).

    >>> page_of({"pagina": "3"}), page_of({})
    (3, 1)
    """
    return _number(query, name, 1, 1, _MAX_PAGE)


def limit_of(query: Mapping[str, str], default: int) -> int:
    """The API's `limit`: at most `default` (the page size), at least 1."""
    return _number(query, "limit", default, 1, default)


def offset_of(query: Mapping[str, str]) -> int:
    """The API's `offset` (0 when absent)."""
    return _number(query, "offset", 0, 0, MAX_OFFSET)
