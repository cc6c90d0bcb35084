"""A team's figures of one month for its coordinator: cases, signals, contact, reached and outcomes.

Counted from the same cases the DDAS report holds (connectors/readmodel/report_queries.py):
every case whose matching period overlaps the month. Signals, contact attempts and outcomes
count when they fall in the month (signals by the Amsterdam day they were raised).
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from connectors.readmodel.report_queries import ReportCase
from signals.calendar import local_day

__all__ = ["Bar", "MonthError", "TeamFigures", "bars", "figures_of", "month_period"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class MonthError(ValueError):
    """A month that is not JJJJ-MM or lies outside the years a report can cover."""


def month_period(text: str, today: date) -> tuple[date, date]:
    """The first and last day of a month `JJJJ-MM`; the current month when empty.

    >>> month_period("2026-02", date(2026, 12, 6))
    (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
    >>> month_period("", date(2026, 12, 6))
    (datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))
    """
    match = _MONTH.match(text.strip()) if text.strip() else _MONTH.match(f"{today:%Y-%m}")
    if match is None or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= today.year + 1:
        raise MonthError("Vul een maand in als JJJJ-MM, bijvoorbeeld 2026-09.")
    year, month = int(match[1]), int(match[2])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True, slots=True)
class TeamFigures:
    """What the team did with its cases in the period."""

    start: date
    end: date
    cases: int
    signals: int
    attempts: int
    reached: int  # cases with a contact attempt in the period that reached the household
    outcomes: tuple[tuple[str, int], ...]  # DDAS result -> cases, most first


def figures_of(cases: Iterable[ReportCase], start: date, end: date) -> TeamFigures:
    """Count the period's signals, attempts, reached cases and outcomes of these cases."""
    found = list(cases)
    within = lambda day: start <= day <= end  # noqa: E731 - one test, four uses
    outcomes = Counter(
        c.outcome.resultaat for c in found if c.outcome is not None and within(c.outcome.datum)
    )
    return TeamFigures(
        start=start,
        end=end,
        cases=len(found),
        signals=sum(1 for c in found for v in c.signals if within(local_day(v.signal.raised_at))),
        attempts=sum(1 for c in found for a in c.attempts if within(a.datum)),
        reached=sum(1 for c in found if any(a.bereikt and within(a.datum) for a in c.attempts)),
        outcomes=tuple(sorted(outcomes.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of the chart: its label, value and length in percent of the longest."""

    label: str
    value: int
    percent: int


def bars(figures: TeamFigures) -> list[Bar]:
    """The chart's bars, scaled to the largest value (at least a sliver for a non-zero value).

    >>> [(b.label, b.percent) for b in bars(TeamFigures(date(2026, 9, 1), date(2026, 9, 30), 4, 8, 2, 1, ()))]
    [('Zaken', 50), ('Signalen', 100), ('Contactpogingen', 25), ('Bereikt', 12)]
    """
    rows = [
        ("Zaken", figures.cases),
        ("Signalen", figures.signals),
        ("Contactpogingen", figures.attempts),
        ("Bereikt", figures.reached),
        *figures.outcomes,
    ]
    top = max((value for _, value in rows), default=0) or 1
    return [Bar(label, value, max(1, value * 100 // top) if value else 0) for label, value in rows]
