"""The one calendar: Atw holidays 2024-2035, presumed receipt, term ends, Amsterdam days across DST.

Expected dates are written out by hand from the published calendars (Easter table, Atw art. 3),
never computed by the code under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from signals.calendar import (
    day_start,
    is_working_day,
    local_day,
    next_working_day,
    presumed_receipt,
    public_holidays,
    term_last_day,
)

D = date
# year: (Easter Monday, King's Day, Ascension Day, Whit Monday, Good Friday)
MOVABLE = {
    2024: (D(2024, 4, 1), D(2024, 4, 27), D(2024, 5, 9), D(2024, 5, 20), D(2024, 3, 29)),
    2025: (D(2025, 4, 21), D(2025, 4, 26), D(2025, 5, 29), D(2025, 6, 9), D(2025, 4, 18)),
    2026: (D(2026, 4, 6), D(2026, 4, 27), D(2026, 5, 14), D(2026, 5, 25), D(2026, 4, 3)),
    2027: (D(2027, 3, 29), D(2027, 4, 27), D(2027, 5, 6), D(2027, 5, 17), D(2027, 3, 26)),
    2028: (D(2028, 4, 17), D(2028, 4, 27), D(2028, 5, 25), D(2028, 6, 5), D(2028, 4, 14)),
    2029: (D(2029, 4, 2), D(2029, 4, 27), D(2029, 5, 10), D(2029, 5, 21), D(2029, 3, 30)),
    2030: (D(2030, 4, 22), D(2030, 4, 27), D(2030, 5, 30), D(2030, 6, 10), D(2030, 4, 19)),
    2031: (D(2031, 4, 14), D(2031, 4, 26), D(2031, 5, 22), D(2031, 6, 2), D(2031, 4, 11)),
    2032: (D(2032, 3, 29), D(2032, 4, 27), D(2032, 5, 6), D(2032, 5, 17), D(2032, 3, 26)),
    2033: (D(2033, 4, 18), D(2033, 4, 27), D(2033, 5, 26), D(2033, 6, 6), D(2033, 4, 15)),
    2034: (D(2034, 4, 10), D(2034, 4, 27), D(2034, 5, 18), D(2034, 5, 29), D(2034, 4, 7)),
    2035: (D(2035, 3, 26), D(2035, 4, 27), D(2035, 5, 3), D(2035, 5, 14), D(2035, 3, 23)),
}  # fmt: skip


@pytest.mark.parametrize("year", sorted(MOVABLE))
def test_the_atw_holidays_of_each_year_2024_to_2035(year: int) -> None:
    easter_monday, kings, ascension, whit_monday, good_friday = MOVABLE[year]
    fixed = {D(year, 1, 1), D(year, 5, 5), D(year, 12, 25), D(year, 12, 26)}
    expected = fixed | {easter_monday, kings, ascension, whit_monday}
    assert set(public_holidays(year)) == expected
    assert set(public_holidays(year, good_friday=True)) == expected | {good_friday}


@pytest.mark.parametrize(
    ("sent_on", "received_on"),
    [
        (D(2026, 3, 2), D(2026, 3, 4)),  # Monday -> Wednesday
        (D(2026, 3, 3), D(2026, 3, 5)),  # Tuesday -> Thursday
        (D(2026, 3, 4), D(2026, 3, 6)),  # Wednesday -> Friday
        (D(2026, 3, 5), D(2026, 3, 7)),  # Thursday -> Saturday (Saturdays count)
        (D(2026, 3, 6), D(2026, 3, 10)),  # Friday -> Saturday, (Sunday, Monday), Tuesday
        (D(2026, 3, 7), D(2026, 3, 11)),  # Saturday -> (Sunday, Monday), Tuesday, Wednesday
        (D(2026, 3, 8), D(2026, 3, 11)),  # Sunday -> (Monday), Tuesday, Wednesday
        (D(2026, 4, 2), D(2026, 4, 4)),  # Thursday before Easter: Good Friday counts, Saturday
        (D(2026, 4, 3), D(2026, 4, 7)),  # Good Friday: Sat 4, (Sun 5, Easter Monday 6), Tue 7
        (D(2026, 4, 24), D(2026, 4, 28)),  # Friday: Sat 25, (Sun 26, King's Day Mon 27), Tue 28
        (D(2026, 5, 13), D(2026, 5, 16)),  # Wednesday: (Ascension 14), Fri 15, Sat 16
        (D(2026, 12, 23), D(2026, 12, 29)),  # Wednesday: Thu 24, (25, 26, Sun 27, Mon 28), Tue 29
    ],
)
def test_a_posted_letter_is_presumed_received_on_the_second_counted_day(
    sent_on: date, received_on: date
) -> None:
    assert presumed_receipt(sent_on) == received_on


@pytest.mark.parametrize("channel", ["email", "portal"])
def test_an_email_or_portal_message_is_received_the_day_it_is_sent(channel: str) -> None:
    assert presumed_receipt(D(2026, 3, 6), channel) == D(2026, 3, 6)  # type: ignore[arg-type]


def test_good_friday_is_not_skipped_for_receipt_unless_configured() -> None:
    assert presumed_receipt(D(2026, 4, 1)) == D(2026, 4, 3)
    assert presumed_receipt(D(2026, 4, 1), good_friday=True) == D(2026, 4, 4)


@pytest.mark.parametrize(
    ("received_on", "last_day"),
    [
        (D(2026, 3, 5), D(2026, 3, 19)),  # Thursday: nothing to extend
        (D(2026, 3, 6), D(2026, 3, 20)),  # day before a weekend end
        (D(2026, 3, 7), D(2026, 3, 23)),  # ends Saturday 21 -> Monday 23
        (D(2026, 3, 8), D(2026, 3, 23)),  # ends Sunday 22 -> Monday 23
        (D(2026, 3, 9), D(2026, 3, 23)),  # ends Monday 23 itself
        (D(2026, 4, 12), D(2026, 4, 28)),  # ends King's Day Monday 27 April -> Tuesday
        (D(2026, 4, 13), D(2026, 4, 28)),  # ends Tuesday 28 itself
        (D(2026, 3, 20), D(2026, 4, 7)),  # ends Good Friday 3 April -> Sat, Sun, Easter Monday -> Tuesday 7
        (D(2026, 4, 21), D(2026, 5, 6)),  # ends 5 May (Tuesday) -> Wednesday 6 May
        (D(2026, 12, 11), D(2026, 12, 28)),  # ends Christmas Friday -> Monday 28
    ],
)
def test_a_term_that_ends_on_a_weekend_or_holiday_runs_on_to_the_next_working_day(
    received_on: date, last_day: date
) -> None:
    assert term_last_day(received_on, 14) == last_day


def test_the_extension_can_be_switched_off() -> None:
    assert term_last_day(D(2026, 3, 7), 14, extend_to_working_day=False) == D(2026, 3, 21)


def test_an_equated_day_extends_a_term_only_when_given() -> None:
    assert term_last_day(D(2026, 5, 1), 14) == D(2026, 5, 15)
    assert term_last_day(D(2026, 5, 1), 14, extra=(D(2026, 5, 15),)) == D(2026, 5, 18)
    assert next_working_day(D(2026, 5, 15)) == D(2026, 5, 15)
    assert not is_working_day(D(2026, 5, 14))  # Ascension Day


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        # Winter time (UTC+1): 00:30 local is 23:30 UTC the day before.
        (datetime(2026, 1, 14, 22, 59, tzinfo=UTC), D(2026, 1, 14)),
        (datetime(2026, 1, 14, 23, 0, tzinfo=UTC), D(2026, 1, 15)),
        (datetime(2026, 1, 14, 23, 30, tzinfo=UTC), D(2026, 1, 15)),
        # Summer time (UTC+2): 00:30 local is 22:30 UTC the day before.
        (datetime(2026, 7, 14, 21, 59, tzinfo=UTC), D(2026, 7, 14)),
        (datetime(2026, 7, 14, 22, 30, tzinfo=UTC), D(2026, 7, 15)),
        # Last Sunday of March 2026 (29th): clocks go from 02:00 to 03:00.
        (datetime(2026, 3, 28, 22, 59, tzinfo=UTC), D(2026, 3, 28)),
        (datetime(2026, 3, 28, 23, 0, tzinfo=UTC), D(2026, 3, 29)),
        (datetime(2026, 3, 29, 21, 59, tzinfo=UTC), D(2026, 3, 29)),
        (datetime(2026, 3, 29, 22, 0, tzinfo=UTC), D(2026, 3, 30)),
        # Last Sunday of October 2026 (25th): clocks go from 03:00 back to 02:00.
        (datetime(2026, 10, 24, 21, 59, tzinfo=UTC), D(2026, 10, 24)),
        (datetime(2026, 10, 24, 22, 0, tzinfo=UTC), D(2026, 10, 25)),
        (datetime(2026, 10, 25, 22, 59, tzinfo=UTC), D(2026, 10, 25)),
        (datetime(2026, 10, 25, 23, 0, tzinfo=UTC), D(2026, 10, 26)),
    ],
)
def test_the_local_day_of_an_instant_is_the_amsterdam_day(instant: datetime, day: date) -> None:
    assert local_day(instant) == day


@pytest.mark.parametrize(
    ("day", "starts_at"),
    [
        (D(2026, 3, 28), datetime(2026, 3, 27, 23, tzinfo=UTC)),
        (D(2026, 3, 29), datetime(2026, 3, 28, 23, tzinfo=UTC)),  # the DST day still starts at CET
        (D(2026, 3, 30), datetime(2026, 3, 29, 22, tzinfo=UTC)),
        (D(2026, 10, 25), datetime(2026, 10, 24, 22, tzinfo=UTC)),
        (D(2026, 10, 26), datetime(2026, 10, 25, 23, tzinfo=UTC)),  # the 25-hour day ends an hour later
    ],
)
def test_a_day_starts_at_local_midnight_whatever_the_offset(day: date, starts_at: datetime) -> None:
    assert day_start(day) == starts_at
    assert local_day(starts_at) == day


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        local_day(datetime(2026, 1, 1, 12))
