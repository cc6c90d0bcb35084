"""The one calendar of the rules: Europe/Amsterdam days, public holidays, working days, legal terms.

Instants are UTC; every day-based rule reads the local day of an instant on the Europe/Amsterdam
calendar, and a day-based deadline is reached at the start of that local day (expressed in UTC,
so a daylight-saving change never moves a deadline to another day). Nothing else in `signals`
calls `.date()` on a UTC instant.

Sources:
- Algemene termijnenwet (Atw) art. 1 lid 1: a term set by law that ends on a Saturday, Sunday or
  generally recognised holiday is extended to the next day that is none of these; art. 3 lid 1 lists
  the holidays (New Year's Day, Easter Monday and Whit Monday, Christmas Day and Boxing Day,
  Ascension Day, the day the King's birthday is celebrated, 5 May); art. 3 lid 2 puts Good Friday
  on a par for the Atw, and art. 3 lid 3 lets a Royal Decree ("Besluit gelijkstelling", every three
  years) equate further days. Both are settings (`extra` days / `good_friday`): they count for the
  extension of a term, not for the presumed receipt of a letter (post is delivered on them).
- HR 25 November 2016, ECLI:NL:HR:2016:2704: a letter by post is presumed received on the second
  day after sending, Sundays, Mondays and official public holidays not counted as such a day; the
  14-day term of art. 6:96 lid 6 BW starts on the day after receipt.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Final, Literal
from zoneinfo import ZoneInfo

__all__ = [
    "AMSTERDAM",
    "Channel",
    "day_start",
    "easter_sunday",
    "is_public_holiday",
    "is_working_day",
    "kings_day",
    "local_day",
    "next_working_day",
    "presumed_receipt",
    "public_holidays",
    "term_last_day",
]

AMSTERDAM: Final = ZoneInfo("Europe/Amsterdam")
# How a letter reached the debtor: by post it is presumed received later; e-mail and a portal
# message are received the day they are sent (see docs/rules.md for the reading of "portal").
Channel = Literal["post", "email", "portal"]
_SATURDAY, _SUNDAY, _MONDAY = 5, 6, 0


def local_day(instant: datetime) -> date:
    """The Europe/Amsterdam calendar day of an aware instant.

    >>> local_day(datetime(2024, 3, 1, 23, 30, tzinfo=UTC))  # 00:30 local time, the next day
    datetime.date(2024, 3, 2)
    >>> local_day(datetime(2024, 7, 1, 21, 59, tzinfo=UTC)), local_day(datetime(2024, 7, 1, 22, 0, tzinfo=UTC))
    (datetime.date(2024, 7, 1), datetime.date(2024, 7, 2))
    """
    if instant.tzinfo is None:
        raise ValueError("local_day needs an aware datetime")
    return _local_day(instant)


# The rules ask for the same few instants' and days' conversions over and over (every fact's
# day, every deadline's start): remembered per value. Equal aware datetimes are the same instant,
# so they have the same local day whatever their offset; the conversions themselves are unchanged.
@lru_cache(maxsize=1 << 12)
def _local_day(instant: datetime) -> date:
    return instant.astimezone(AMSTERDAM).date()


def day_start(day: date) -> datetime:
    """The instant (UTC) at which the local day `day` starts in Europe/Amsterdam.

    >>> day_start(date(2024, 1, 15)).isoformat(), day_start(date(2024, 7, 15)).isoformat()
    ('2024-01-14T23:00:00+00:00', '2024-07-14T22:00:00+00:00')
    """
    return _day_start(day)


@lru_cache(maxsize=1 << 12)
def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=AMSTERDAM).astimezone(UTC)


def easter_sunday(year: int) -> date:
    """Easter Sunday of a Gregorian year (the anonymous Gregorian computus, "Meeus/Jones/Butcher").

    >>> easter_sunday(2024), easter_sunday(2025), easter_sunday(2038)
    (datetime.date(2024, 3, 31), datetime.date(2025, 4, 20), datetime.date(2038, 4, 25))
    """
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the computus' own letter
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def kings_day(year: int) -> date:
    """The day the King's birthday is celebrated: 27 April, or 26 April when the 27th is a Sunday.

    >>> kings_day(2025), kings_day(2026)
    (datetime.date(2025, 4, 26), datetime.date(2026, 4, 27))
    """
    day = date(year, 4, 27)
    return day - timedelta(days=1) if day.weekday() == _SUNDAY else day


@lru_cache(maxsize=256)
def public_holidays(year: int, *, good_friday: bool = False) -> dict[date, str]:
    """The Algemene termijnenwet's generally recognised holidays of a year (art. 3), by date.

    >>> sorted(public_holidays(2026).values())[:3]
    ['5 May', 'Ascension Day', 'Boxing Day']
    >>> date(2026, 4, 3) in public_holidays(2026), date(2026, 4, 3) in public_holidays(2026, good_friday=True)
    (False, True)
    """
    easter = easter_sunday(year)
    days = {
        date(year, 1, 1): "New Year's Day",
        easter + timedelta(days=1): "Easter Monday",
        kings_day(year): "King's Day",
        date(year, 5, 5): "5 May",
        easter + timedelta(days=39): "Ascension Day",
        easter + timedelta(days=50): "Whit Monday",
        date(year, 12, 25): "Christmas Day",
        date(year, 12, 26): "Boxing Day",
    }
    if good_friday:
        days[easter - timedelta(days=2)] = "Good Friday"
    return days


def is_public_holiday(day: date, *, good_friday: bool = False) -> bool:
    """The day is a generally recognised holiday of the Algemene termijnenwet."""
    return day in public_holidays(day.year, good_friday=good_friday)


def is_working_day(day: date, *, good_friday: bool = False, extra: Collection[date] = ()) -> bool:
    """Not a Saturday, Sunday, public holiday or `extra` (equated) day: a day a legal term may end on.

    >>> is_working_day(date(2026, 4, 27)), is_working_day(date(2026, 4, 28))
    (False, True)
    >>> is_working_day(date(2026, 5, 15), extra=(date(2026, 5, 15),))
    False
    """
    if day.weekday() >= _SATURDAY or day in extra:
        return False
    return not is_public_holiday(day, good_friday=good_friday)


def next_working_day(day: date, *, good_friday: bool = False, extra: Collection[date] = ()) -> date:
    """`day` itself when it is a working day, else the first working day after it.

    >>> next_working_day(date(2026, 4, 25))  # Saturday, Sunday, then King's Day on Monday
    datetime.date(2026, 4, 28)
    """
    if isinstance(extra, tuple | frozenset):  # hashable (the policy's days are a tuple): remembered
        return _next_working_day(day, good_friday, extra)
    while not is_working_day(day, good_friday=good_friday, extra=extra):
        day += timedelta(days=1)
    return day


@lru_cache(maxsize=1 << 12)
def _next_working_day(day: date, good_friday: bool, extra: tuple[date, ...] | frozenset[date]) -> date:
    while not is_working_day(day, good_friday=good_friday, extra=extra):
        day += timedelta(days=1)
    return day


def presumed_receipt(sent_on: date, channel: Channel = "post", *, good_friday: bool = False) -> date:
    """The day a letter is presumed received (HR 25-11-2016, ECLI:NL:HR:2016:2704).

    By post: the second day after sending, where Sundays, Mondays and public holidays are not
    counted as such a day. By e-mail or portal: the day of sending.

    >>> [presumed_receipt(date(2026, 3, d)) for d in (3, 5, 6, 7)]  # Tue, Thu, Fri, Sat
    [datetime.date(2026, 3, 5), datetime.date(2026, 3, 7), datetime.date(2026, 3, 10), datetime.date(2026, 3, 11)]
    >>> presumed_receipt(date(2026, 3, 6), "email")
    datetime.date(2026, 3, 6)
    """
    if channel != "post":
        return sent_on
    return _presumed_receipt_by_post(sent_on, good_friday)


@lru_cache(maxsize=1 << 12)
def _presumed_receipt_by_post(sent_on: date, good_friday: bool) -> date:
    day, counted = sent_on, 0
    while counted < 2:
        day += timedelta(days=1)
        if day.weekday() not in (_SUNDAY, _MONDAY) and not is_public_holiday(day, good_friday=good_friday):
            counted += 1
    return day


def term_last_day(
    received_on: date,
    term_days: int,
    *,
    extend_to_working_day: bool = True,
    good_friday: bool = True,
    extra: Collection[date] = (),
) -> date:
    """The last day of a term of `term_days` days that starts on the day after receipt.

    With `extend_to_working_day` (Algemene termijnenwet art. 1), a last day on a Saturday, Sunday,
    public holiday, Good Friday (art. 3 lid 2) or an `extra` equated day (art. 3 lid 3) moves to the
    next working day.

    >>> term_last_day(date(2026, 3, 5), 14)  # received Thursday: 14 days end on Thursday 19 March
    datetime.date(2026, 3, 19)
    >>> term_last_day(date(2026, 3, 7), 14), term_last_day(date(2026, 3, 7), 14, extend_to_working_day=False)
    (datetime.date(2026, 3, 23), datetime.date(2026, 3, 21))
    """
    last = received_on + timedelta(days=term_days)
    if not extend_to_working_day:
        return last
    return next_working_day(last, good_friday=good_friday, extra=extra)
