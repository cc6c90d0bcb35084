"""Independent audit of the calendar and cost rules against the law (issue 14).

Every expected value here is written by hand from the legal sources, never computed with the
code under test (see /work/coord/audit.md for the sources and the discrepancies found):

- Algemene termijnenwet (Atw) art. 1 lid 1 (a legal term ending on a Saturday, Sunday or generally
  recognised holiday runs on to the next day that is none of these); art. 3 lid 1 (New Year's Day,
  Easter Monday, Whit Monday, Christmas and Boxing Day, Ascension Day, the day the King's birthday
  is celebrated, 5 May - every year); art. 3 lid 2 ("Voor de toepassing van deze wet wordt de Goede
  Vrijdag met de in het vorige lid genoemde dagen gelijkgesteld"); art. 3 lid 3 (days equated by
  Royal Decree, e.g. "Besluit gelijkstelling van 2 januari 2026, 15 mei 2026, 7 mei 2027, 28 april
  2028 en 26 mei 2028 met een algemeen erkende feestdag").
- HR 25 November 2016, ECLI:NL:HR:2016:2704: receipt by post presumed on the second day after
  sending, a Sunday, Monday or official holiday not counted; the 14 days start the day after
  receipt; a letter naming too early a date has no effect, a later letter does not repair it.
- Besluit vergoeding voor buitengerechtelijke incassokosten art. 2 (scale, min EUR 40, max EUR
  6,775, lid 3 VAT); WAHV raises (+50%, then the raised amount +100%); Regeling afsluitbeleid
  ("van 1 oktober tot 1 april": 1 April itself is outside the winter period).

Easter Sundays are taken from the published Gregorian table (2024-03-31, 2025-04-20, 2026-04-05,
2027-03-28, 2028-04-16, 2029-04-01, 2030-04-21, 2031-04-13, 2032-03-28, 2033-04-17, 2034-04-09,
2035-03-25, 2036-04-13), not from the code's computus.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from schemas.address import normalise_house, split_house
from schemas.contract_v1 import Address
from schemas.household import household_key, parse_household
from schemas.outputs_v1 import CostViolation, ReminderIssued
from signals.calendar import (
    day_start,
    easter_sunday,
    is_working_day,
    kings_day,
    local_day,
    next_working_day,
    presumed_receipt,
    public_holidays,
    term_last_day,
)
from signals.figures import episode_starts
from signals.policy import CreditorSettings, FineRegime, Policy, WinterPeriod
from signals.reminders import bik_costs_cents, fine_raise_caps_cents, max_costs_cents, vat_cents
from signals.state import DebtState, ReminderFact
from signals.terms import gate_of_episode, legal_last_day, valid_free_reminders
from tests.unit.factories import ROUTE, event, fold, of_type, play

POLICY = Policy.default()
D = date


def utc(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=UTC)


# --- The Atw holiday list, written out by hand per year (art. 3 lid 1; Good Friday apart) -------

# year: (Easter Monday, King's Day, Ascension Day, Whit Monday)
_MOVABLE = {
    2024: (D(2024, 4, 1), D(2024, 4, 27), D(2024, 5, 9), D(2024, 5, 20)),
    2025: (D(2025, 4, 21), D(2025, 4, 26), D(2025, 5, 29), D(2025, 6, 9)),
    2026: (D(2026, 4, 6), D(2026, 4, 27), D(2026, 5, 14), D(2026, 5, 25)),
    2027: (D(2027, 3, 29), D(2027, 4, 27), D(2027, 5, 6), D(2027, 5, 17)),
    2028: (D(2028, 4, 17), D(2028, 4, 27), D(2028, 5, 25), D(2028, 6, 5)),
    2029: (D(2029, 4, 2), D(2029, 4, 27), D(2029, 5, 10), D(2029, 5, 21)),
    2030: (D(2030, 4, 22), D(2030, 4, 27), D(2030, 5, 30), D(2030, 6, 10)),
    2031: (D(2031, 4, 14), D(2031, 4, 26), D(2031, 5, 22), D(2031, 6, 2)),
    2032: (D(2032, 3, 29), D(2032, 4, 27), D(2032, 5, 6), D(2032, 5, 17)),
    2033: (D(2033, 4, 18), D(2033, 4, 27), D(2033, 5, 26), D(2033, 6, 6)),
    2034: (D(2034, 4, 10), D(2034, 4, 27), D(2034, 5, 18), D(2034, 5, 29)),
    2035: (D(2035, 3, 26), D(2035, 4, 27), D(2035, 5, 3), D(2035, 5, 14)),
}
_GOOD_FRIDAY = {
    2024: D(2024, 3, 29), 2025: D(2025, 4, 18), 2026: D(2026, 4, 3), 2027: D(2027, 3, 26),
    2028: D(2028, 4, 14), 2029: D(2029, 3, 30), 2030: D(2030, 4, 19), 2031: D(2031, 4, 11),
    2032: D(2032, 3, 26), 2033: D(2033, 4, 15), 2034: D(2034, 4, 7), 2035: D(2035, 3, 23),
}  # fmt: skip
_EASTER = {
    2024: D(2024, 3, 31), 2025: D(2025, 4, 20), 2026: D(2026, 4, 5), 2027: D(2027, 3, 28),
    2028: D(2028, 4, 16), 2029: D(2029, 4, 1), 2030: D(2030, 4, 21), 2031: D(2031, 4, 13),
    2032: D(2032, 3, 28), 2033: D(2033, 4, 17), 2034: D(2034, 4, 9), 2035: D(2035, 3, 25),
    2036: D(2036, 4, 13),
}  # fmt: skip


def _atw_list(year: int) -> set[date]:
    easter_monday, kings, ascension, whit_monday = _MOVABLE[year]
    fixed = {D(year, 1, 1), D(year, 5, 5), D(year, 12, 25), D(year, 12, 26)}
    return fixed | {easter_monday, kings, ascension, whit_monday}


@pytest.mark.parametrize("year", sorted(_EASTER))
def test_easter_sunday_matches_the_published_table(year: int) -> None:
    assert easter_sunday(year) == _EASTER[year]


@pytest.mark.parametrize("year", sorted(_MOVABLE))
def test_atw_art3_lid1_holidays_every_date(year: int) -> None:
    assert set(public_holidays(year)) == _atw_list(year)


@pytest.mark.parametrize("year", sorted(_MOVABLE))
def test_good_friday_added_when_set(year: int) -> None:
    assert set(public_holidays(year, good_friday=True)) == _atw_list(year) | {_GOOD_FRIDAY[year]}


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2024, D(2024, 4, 27)),  # Saturday: stays on the 27th (only a Sunday moves it)
        (2025, D(2025, 4, 26)),  # 27 April 2025 is a Sunday
        (2026, D(2026, 4, 27)),
        (2030, D(2030, 4, 27)),  # Saturday
        (2031, D(2031, 4, 26)),  # 27 April 2031 is a Sunday
        (2036, D(2036, 4, 26)),  # 27 April 2036 is a Sunday
    ],
)
def test_kings_day(year: int, expected: date) -> None:
    assert kings_day(year) == expected
    assert expected in public_holidays(year)
    assert D(year, 4, 27 if expected.day == 26 else 26) not in public_holidays(year)


@pytest.mark.parametrize("year", [2026, 2027, 2029, 2031, 2033])
def test_5_may_is_an_atw_holiday_every_year_not_only_lustrum_years(year: int) -> None:
    assert D(year, 5, 5) in public_holidays(year)
    assert not is_working_day(D(year, 5, 5))


# --- Presumed receipt (HR 25-11-2016): second day after sending; Sun, Mon, holidays not counted ---

_RECEIPT_BY_POST = [
    # a plain week in March 2026 (2 March is a Monday)
    (D(2026, 3, 2), D(2026, 3, 4)),  # Mon -> Wed
    (D(2026, 3, 3), D(2026, 3, 5)),  # Tue -> Thu
    (D(2026, 3, 4), D(2026, 3, 6)),  # Wed -> Fri
    (D(2026, 3, 5), D(2026, 3, 7)),  # Thu -> Sat (Saturday counts)
    (D(2026, 3, 6), D(2026, 3, 10)),  # Fri -> Sat(1), Sun, Mon skipped, Tue(2)
    (D(2026, 3, 7), D(2026, 3, 11)),  # Sat -> Tue(1), Wed(2)
    (D(2026, 3, 8), D(2026, 3, 11)),  # Sun -> Tue(1), Wed(2)
    # Easter 2026 (Good Friday 3 April not counted as a holiday by default; Easter Monday 6 April)
    (D(2026, 4, 2), D(2026, 4, 4)),  # Thu -> Fri(1), Sat(2)
    (D(2026, 4, 3), D(2026, 4, 7)),  # Fri -> Sat(1), Sun, Easter Monday, Tue(2)
    (D(2026, 4, 4), D(2026, 4, 8)),  # Sat -> Tue(1), Wed(2)
    # Ascension Day Thu 14 May 2026, Whit Monday 25 May 2026
    (D(2026, 5, 13), D(2026, 5, 16)),  # Wed -> Asc skipped, Fri(1), Sat(2)
    (D(2026, 5, 22), D(2026, 5, 26)),  # Fri -> Sat(1), Whit Sunday, Whit Monday, Tue(2)
    # Christmas 2026: Fri 25, Sat 26 December
    (D(2026, 12, 23), D(2026, 12, 29)),  # Wed -> Thu(1), Fri/Sat holidays, Sun, Mon, Tue(2)
    (D(2026, 12, 24), D(2026, 12, 30)),  # Thu -> Tue(1), Wed(2)
    # New Year 2027: Fri 1 January
    (D(2026, 12, 30), D(2027, 1, 2)),  # Wed -> Thu 31(1), New Year, Sat(2)
    (D(2026, 12, 31), D(2027, 1, 5)),  # Thu -> New Year, Sat(1), Sun, Mon, Tue(2)
    # King's Day Saturday 26 April 2025 and Thursday 27 April 2028
    (D(2025, 4, 24), D(2025, 4, 29)),  # Thu -> Fri(1), King's Day, Sun, Mon, Tue(2)
    (D(2028, 4, 25), D(2028, 4, 28)),  # Tue -> Wed(1), King's Day, Fri(2)
    # 5 May 2026 is a Tuesday
    (D(2026, 5, 1), D(2026, 5, 6)),  # Fri -> Sat(1), Sun, Mon, 5 May, Wed(2)
    (D(2026, 5, 4), D(2026, 5, 7)),  # Mon -> 5 May skipped, Wed(1), Thu(2)
]


@pytest.mark.parametrize(("sent", "received"), _RECEIPT_BY_POST, ids=[str(s) for s, _ in _RECEIPT_BY_POST])
def test_presumed_receipt_by_post(sent: date, received: date) -> None:
    assert presumed_receipt(sent) == received
    assert presumed_receipt(sent, "post") == received


def test_presumed_receipt_with_good_friday_set() -> None:
    # Thu 2 April 2026: Good Friday, Sat(1), Sun, Easter Monday, Tue 7 April (2)
    assert presumed_receipt(D(2026, 4, 2), good_friday=True) == D(2026, 4, 7)


@pytest.mark.parametrize("sent", [D(2026, 3, 6), D(2026, 3, 7), D(2026, 12, 25), D(2026, 4, 3)])
def test_email_and_portal_are_received_the_day_they_are_sent(sent: date) -> None:
    assert presumed_receipt(sent, "email") == sent
    assert presumed_receipt(sent, "portal") == sent


# --- Last day of the 14-day term and the first day costs may be charged -----------------------

_TERMS = [
    # (received, last day with Atw extension, last day without)
    (D(2026, 3, 5), D(2026, 3, 19), D(2026, 3, 19)),  # Thu -> Thu
    (D(2026, 3, 7), D(2026, 3, 23), D(2026, 3, 21)),  # 14th day a Saturday -> Monday
    (D(2026, 3, 8), D(2026, 3, 23), D(2026, 3, 22)),  # 14th day a Sunday -> Monday
    (D(2026, 4, 13), D(2026, 4, 28), D(2026, 4, 27)),  # King's Day (Mon 27 April) -> Tuesday
    (D(2026, 4, 11), D(2026, 4, 28), D(2026, 4, 25)),  # Sat, Sun, King's Day -> Tuesday
    (D(2026, 3, 23), D(2026, 4, 7), D(2026, 4, 6)),  # Easter Monday -> Tuesday
    (D(2026, 4, 21), D(2026, 5, 6), D(2026, 5, 5)),  # 5 May (Tue) -> Wednesday
    (D(2026, 4, 30), D(2026, 5, 15), D(2026, 5, 14)),  # Ascension -> Fri 15 May (see Besluit test)
    (D(2026, 5, 11), D(2026, 5, 26), D(2026, 5, 25)),  # Whit Monday -> Tuesday
    (D(2026, 12, 11), D(2026, 12, 28), D(2026, 12, 25)),  # Christmas Fri, Boxing Day Sat, Sun -> Mon
    (D(2026, 12, 18), D(2027, 1, 4), D(2027, 1, 1)),  # New Year Fri, Sat, Sun -> Mon 4 Jan
]


@pytest.mark.parametrize(("received", "extended", "plain"), _TERMS, ids=[str(r) for r, _, _ in _TERMS])
def test_term_last_day_and_first_cost_day(received: date, extended: date, plain: date) -> None:
    assert term_last_day(received, 14) == extended
    assert term_last_day(received, 14, extend_to_working_day=True) == extended
    assert term_last_day(received, 14, extend_to_working_day=False) == plain


def test_term_ending_on_good_friday_with_the_setting_runs_to_the_tuesday_after_easter() -> None:
    # received Fri 20 March 2026: 14th day Good Friday 3 April; Sat, Sun, Easter Monday -> Tue 7 April
    assert term_last_day(D(2026, 3, 20), 14, good_friday=True) == D(2026, 4, 7)
    assert term_last_day(D(2026, 3, 20), 14, good_friday=False) == D(2026, 4, 3)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 4, 24), D(2026, 4, 24)),  # a Friday working day is itself
        (D(2026, 4, 25), D(2026, 4, 28)),  # Sat -> Sun -> King's Day Mon -> Tue
        (D(2026, 12, 25), D(2026, 12, 28)),
        (D(2027, 1, 1), D(2027, 1, 4)),
    ],
)
def test_next_working_day(day: date, expected: date) -> None:
    assert next_working_day(day) == expected


# The instant "costs permitted": the start of the local Amsterdam day after the last day, in UTC.
_DAY_STARTS = [
    (D(2026, 3, 20), utc(2026, 3, 19, 23)),  # CET (+01:00)
    (D(2026, 3, 29), utc(2026, 3, 28, 23)),  # DST starts 29 March 2026 at 02:00: midnight is still CET
    (D(2026, 3, 30), utc(2026, 3, 29, 22)),  # first full CEST day (+02:00)
    (D(2026, 10, 25), utc(2026, 10, 24, 22)),  # DST ends 25 October 2026 at 03:00: midnight is CEST
    (D(2026, 10, 26), utc(2026, 10, 25, 23)),  # CET again
    (D(2025, 3, 30), utc(2025, 3, 29, 23)),
    (D(2025, 3, 31), utc(2025, 3, 30, 22)),
    (D(2025, 10, 26), utc(2025, 10, 25, 22)),
    (D(2025, 10, 27), utc(2025, 10, 26, 23)),
    (D(2024, 3, 31), utc(2024, 3, 30, 23)),
    (D(2024, 10, 28), utc(2024, 10, 27, 23)),
    (D(2027, 1, 1), utc(2026, 12, 31, 23)),
]


@pytest.mark.parametrize(("day", "instant"), _DAY_STARTS, ids=[str(d) for d, _ in _DAY_STARTS])
def test_day_start_in_utc_across_dst(day: date, instant: datetime) -> None:
    assert day_start(day) == instant
    assert local_day(instant) == day
    assert local_day(instant - timedelta(microseconds=1)) == day - timedelta(days=1)


@pytest.mark.parametrize(
    ("received", "costs_from"),
    [
        # received Mon 16 March 2026 -> last day Mon 30 March -> costs from Tue 31 March 00:00 CEST
        (D(2026, 3, 16), utc(2026, 3, 30, 22)),
        # received Fri 13 March 2026 -> last day Fri 27 March -> Sat 28 March 00:00 CET
        (D(2026, 3, 13), utc(2026, 3, 27, 23)),
        # received Sun 11 October 2026 -> 14th day Sun 25 Oct (DST ends) -> Mon 26 -> Tue 27 00:00 CET
        (D(2026, 10, 11), utc(2026, 10, 26, 23)),
        # received Sat 10 October 2026 -> 14th day Sat 24 October -> Mon 26 -> Tue 27 00:00 CET
        (D(2026, 10, 10), utc(2026, 10, 26, 23)),
    ],
)
def test_costs_permitted_instant_across_dst(received: date, costs_from: datetime) -> None:
    assert day_start(term_last_day(received, 14) + timedelta(days=1)) == costs_from


_LOCAL_DAYS = [
    (utc(2026, 1, 14, 23, 30), D(2026, 1, 15)),  # 00:30 CET
    (utc(2026, 1, 14, 22, 59), D(2026, 1, 14)),  # 23:59 CET
    (utc(2026, 7, 14, 22, 30), D(2026, 7, 15)),  # 00:30 CEST
    (utc(2026, 7, 14, 21, 59), D(2026, 7, 14)),  # 23:59 CEST
    (utc(2026, 3, 28, 23, 30), D(2026, 3, 29)),  # 00:30 CET on the DST day
    (utc(2026, 3, 29, 1, 30), D(2026, 3, 29)),  # 03:30 CEST, just after the switch
    (utc(2026, 3, 29, 21, 59), D(2026, 3, 29)),  # 23:59 CEST
    (utc(2026, 3, 29, 22, 30), D(2026, 3, 30)),  # 00:30 CEST
    (utc(2026, 10, 24, 22, 30), D(2026, 10, 25)),  # 00:30 CEST on the DST-end day
    (utc(2026, 10, 25, 0, 30), D(2026, 10, 25)),  # 02:30 CEST (first pass)
    (utc(2026, 10, 25, 1, 30), D(2026, 10, 25)),  # 02:30 CET (second pass)
    (utc(2026, 10, 25, 22, 59), D(2026, 10, 25)),  # 23:59 CET
    (utc(2026, 10, 25, 23, 30), D(2026, 10, 26)),  # 00:30 CET
    (utc(2026, 12, 31, 23, 0), D(2027, 1, 1)),  # New Year's midnight
]


@pytest.mark.parametrize(("instant", "day"), _LOCAL_DAYS, ids=[i.isoformat() for i, _ in _LOCAL_DAYS])
def test_local_day_of_instants_around_midnight_and_dst(instant: datetime, day: date) -> None:
    assert local_day(instant) == day


def test_local_day_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        local_day(datetime(2026, 3, 1, 12, 0))


# --- Legal expectations on the default policy (Atw art. 3 lid 2 and lid 3) -----------------------


def _letter(sent_on: date, channel: str = "email", pay_by: date | None = None) -> ReminderFact:
    return ReminderFact(
        at=day_start(sent_on) + timedelta(hours=10),
        event_id="audit",
        kind="free",
        sent_on=sent_on,
        term_days=14,
        issued_by="creditor",
        amount_cents=10_000,
        channel=channel,
        pay_by=pay_by,
    )


@pytest.mark.parametrize(
    ("sent_by_email", "legal_last"),
    [
        (D(2026, 4, 13), D(2026, 4, 28)),  # 14th day King's Day Monday 27 April -> Tuesday
        (D(2026, 12, 11), D(2026, 12, 28)),  # Christmas Friday -> Monday
        (D(2026, 3, 5), D(2026, 3, 19)),  # nothing to extend
    ],
)
def test_legal_last_day_on_the_default_policy(sent_by_email: date, legal_last: date) -> None:
    assert legal_last_day(_letter(sent_by_email), 14, POLICY) == legal_last


def test_atw_art3_lid2_good_friday_extends_a_legal_term_on_the_default_policy() -> None:
    # Atw art. 3 lid 2 itself equates Good Friday for the Atw (not a Besluit). A term whose 14th
    # day is Good Friday 3 April 2026 runs to Tuesday 7 April (Sat, Sun, Easter Monday).
    assert legal_last_day(_letter(D(2026, 3, 20)), 14, POLICY) == D(2026, 4, 7)


@pytest.mark.parametrize(
    ("sent_by_email", "legal_last"),
    [
        # Besluit gelijkstelling (Atw art. 3 lid 3) of 27 December 2024 and 30 May 2025
        (D(2024, 12, 13), D(2024, 12, 30)),  # 14th day Fri 27 Dec 2024 -> Mon 30 Dec
        (D(2025, 5, 16), D(2025, 6, 2)),  # 14th day Fri 30 May 2025 -> Mon 2 June
        # Besluit gelijkstelling of 2 January 2026, 15 May 2026, 7 May 2027, 28 April 2028, 26 May 2028
        (D(2025, 12, 19), D(2026, 1, 5)),  # 14th day Fri 2 Jan 2026 -> Mon 5 Jan
        (D(2026, 5, 1), D(2026, 5, 18)),  # 14th day Fri 15 May 2026 -> Mon 18 May
        (D(2027, 4, 23), D(2027, 5, 10)),  # 14th day Fri 7 May 2027 -> Mon 10 May
        (D(2028, 4, 14), D(2028, 5, 1)),  # 14th day Fri 28 Apr 2028 -> Mon 1 May
    ],
)
def test_atw_art3_lid3_equated_days_extend_a_legal_term(sent_by_email: date, legal_last: date) -> None:
    assert legal_last_day(_letter(sent_by_email), 14, POLICY) == legal_last


# --- Collection costs: BIK scale, VAT, WAHV raises ----------------------------------------------

_BIK = [
    (10_000, 4_000),  # EUR 100 -> 15% = 15 -> minimum 40
    (26_666, 4_000),  # 15% = 39.999 -> minimum 40
    (26_700, 4_005),  # 15% = 40.05
    (250_000, 37_500),  # 2,500 -> 375
    (266_700, 39_170),  # 2,667 -> 375 + 10% of 167 = 391.70
    (500_000, 62_500),  # 5,000 -> 375 + 250
    (1_000_000, 87_500),  # 10,000 -> 625 + 250
    (20_000_000, 277_500),  # 200,000 -> 875 + 1,900
    (100_000_000, 677_500),  # 1,000,000 -> 2,775 + 4,000 = the maximum 6,775
    (1_000_000_000, 677_500),  # very large -> maximum 6,775
]


@pytest.mark.parametrize(("principal", "costs"), _BIK, ids=[str(p) for p, _ in _BIK])
def test_bik_scale(principal: int, costs: int) -> None:
    assert bik_costs_cents(principal, POLICY) == costs


def _debt() -> DebtState:
    state = fold(event("debt.opened", occurred_at=utc(2026, 3, 3, 9), due_date=D(2026, 3, 2)))
    return state.debts[0]


@pytest.mark.parametrize(
    ("costs", "vat"),
    [(4_000, 840), (37_500, 7_875), (39_170, 8_226), (677_500, 142_275)],
)
def test_vat_21_percent_on_the_bik_amount_for_a_creditor_that_cannot_deduct_it(costs: int, vat: int) -> None:
    # 40 -> 8.40; 375 -> 78.75; 391.70 -> 82.257 -> 82.26; 6,775 -> 1,422.75
    debt = _debt()
    with_vat = POLICY.model_copy(
        update={
            "creditors": (
                CreditorSettings(source="housing", creditor_id=debt.creditor_id, vat_on_costs=True),
            )
        }
    )
    without_vat = POLICY.model_copy(
        update={
            "creditors": (
                CreditorSettings(source="housing", creditor_id=debt.creditor_id, vat_on_costs=False),
            )
        }
    )
    assert vat_cents(debt, costs, with_vat) == vat
    assert vat_cents(debt, costs, without_vat) == 0


def test_max_costs_with_vat_for_eur_100_is_48_40() -> None:
    debt = _debt()
    with_vat = POLICY.model_copy(
        update={
            "creditors": (
                CreditorSettings(source="housing", creditor_id=debt.creditor_id, vat_on_costs=True),
            )
        }
    )
    assert max_costs_cents(debt, with_vat, utc(2026, 4, 1), principal=10_000) == 4_840
    assert max_costs_cents(debt, with_vat, utc(2026, 4, 1), principal=266_700) == 47_396


@pytest.mark.parametrize(
    ("fine", "caps"),
    [
        (10_000, [5_000, 20_000]),  # EUR 100 -> 150 -> 300
        (5_000, [2_500, 10_000]),  # EUR 50 -> 75 -> 150 (CJIB figures)
        (31_000, [15_500, 62_000]),  # EUR 310 -> 465 -> 930
    ],
)
def test_wahv_raises(fine: int, caps: list[int]) -> None:
    assert fine_raise_caps_cents(fine, FineRegime()) == caps
    assert fine_raise_caps_cents(fine, POLICY.cjib_wahv) == caps


# --- Energy winter period: "van 1 oktober tot 1 april" -----------------------------------------


@pytest.mark.parametrize(
    ("day", "inside"),
    [
        (D(2026, 9, 30), False),
        (D(2026, 10, 1), True),
        (D(2026, 12, 31), True),
        (D(2027, 1, 1), True),
        (D(2027, 2, 28), True),
        (D(2028, 2, 29), True),
        (D(2027, 3, 31), True),
        (D(2027, 4, 1), False),  # "tot 1 april": 1 April itself is outside
    ],
)
def test_energy_winter_period(day: date, inside: bool) -> None:
    assert WinterPeriod().contains(day) is inside
    assert POLICY.energy_winter.contains(day) is inside


# --- One household, one key ---------------------------------------------------------------------

_ONE_HOME = [
    ("A", None),
    ("a", None),
    (None, "A"),
    (None, "a"),
    (None, " a "),
    (None, "-A"),
]


@pytest.mark.parametrize(("letter", "addition"), _ONE_HOME)
def test_house_letter_or_addition_a_is_one_home(letter: str | None, addition: str | None) -> None:
    assert normalise_house(letter, addition) == ("A", None)
    key = household_key(
        Address(postcode="1011AB", house_number=12, house_letter=letter, house_number_addition=addition)
    )
    assert key == "1011AB-12A"
    assert parse_household("1011 ab", "12a") == key == parse_household("1011AB", "012 A")


@pytest.mark.parametrize(
    ("typed", "parts"),
    [
        ("12", (12, None, None)),
        ("012", (12, None, None)),
        ("12-2", (12, None, "2")),
        ("12 2", (12, None, "2")),
        ("12-02", (12, None, "2")),
        ("12 II", (12, None, "II")),
        ("12-ii", (12, None, "II")),
        ("12a", (12, "A", None)),
        ("12-A", (12, "A", None)),
        ("12 A 2", (12, "A", "2")),
        ("12A-2", (12, "A", "2")),
    ],
)
def test_split_house_spellings(typed: str, parts: tuple[int, str | None, str | None]) -> None:
    assert split_house(typed) == parts


@pytest.mark.parametrize(
    ("letter", "addition"), [("A", None), (None, "2"), ("b", "02"), (None, "ii"), (None, "a2"), (None, "bis")]
)
def test_normalising_twice_changes_nothing(letter: str | None, addition: str | None) -> None:
    once = normalise_house(letter, addition)
    assert normalise_house(*once) == once


# --- Letters, default and episodes (HR 2016; art. 6:96 lid 6 BW "nadat ... in verzuim") -----------


def test_a_letter_naming_too_early_a_pay_by_has_no_effect_and_a_later_correct_letter_opens_its_own_term() -> (
    None
):
    # Due Mon 2 March 2026; creditor posts Tue 3 March: receipt Thu 5 March, last day Thu 19 March.
    # The letter names 17 March (14 days from sending): too early -> no effect ever.
    # A new letter posted Mon 9 March: receipt Wed 11 March, last day Wed 25 March, named 25 March.
    state = fold(
        event("debt.opened", occurred_at=utc(2026, 3, 3, 9), due_date=D(2026, 3, 2)),
        event("reminder.sent", occurred_at=utc(2026, 3, 3, 10), pay_by=D(2026, 3, 17), event_id="early"),
        event("reminder.sent", occurred_at=utc(2026, 3, 9, 10), pay_by=D(2026, 3, 25), event_id="good"),
    )
    debt = state.debts[0]
    (episode,) = episode_starts(debt)
    assert [r.event_id for r in valid_free_reminders(debt, POLICY, episode)] == ["good"]
    gate = gate_of_episode(debt, POLICY, episode)
    assert gate is not None
    assert gate[0] == utc(2026, 3, 25, 23)  # Thu 26 March 00:00 CET
    assert gate[1].event_id == "good"


def test_a_letter_naming_exactly_the_legal_last_day_counts() -> None:
    state = fold(
        event("debt.opened", occurred_at=utc(2026, 3, 3, 9), due_date=D(2026, 3, 2)),
        event("reminder.sent", occurred_at=utc(2026, 3, 3, 10), pay_by=D(2026, 3, 19), event_id="exact"),
    )
    debt = state.debts[0]
    (episode,) = episode_starts(debt)
    gate = gate_of_episode(debt, POLICY, episode)
    assert gate is not None
    assert gate[0] == utc(2026, 3, 19, 23)


def test_a_letter_naming_one_day_too_early_does_not_count() -> None:
    state = fold(
        event("debt.opened", occurred_at=utc(2026, 3, 3, 9), due_date=D(2026, 3, 2)),
        event("reminder.sent", occurred_at=utc(2026, 3, 3, 10), pay_by=D(2026, 3, 18), event_id="short"),
    )
    debt = state.debts[0]
    (episode,) = episode_starts(debt)
    assert valid_free_reminders(debt, POLICY, episode) == []


@pytest.mark.parametrize(
    ("sent_at", "counts", "gate"),
    [
        (utc(2026, 3, 3, 10), False, None),  # local 3 March = the due date: not yet in default
        (utc(2026, 3, 3, 22, 59), False, None),  # 23:59 local on the due date
        # 00:30 local on 4 March (in default): Wed -> receipt Fri 6, last day Fri 20 -> Sat 21 00:00 CET
        (utc(2026, 3, 3, 23, 30), True, utc(2026, 3, 20, 23)),
    ],
)
def test_a_reminder_sent_on_the_due_date_does_not_count(
    sent_at: datetime, counts: bool, gate: datetime | None
) -> None:
    state = fold(
        event("debt.opened", occurred_at=utc(2026, 3, 1, 9), due_date=D(2026, 3, 3)),
        event("reminder.sent", occurred_at=sent_at, event_id="r"),
    )
    debt = state.debts[0]
    (episode,) = episode_starts(debt)
    assert bool(valid_free_reminders(debt, POLICY, episode)) is counts
    found = gate_of_episode(debt, POLICY, episode)
    assert (found[0] if found else None) == gate


def test_a_settled_debt_owed_again_needs_a_new_reminder() -> None:
    state = fold(
        event("debt.opened", occurred_at=utc(2026, 3, 3, 9), due_date=D(2026, 3, 2)),
        event("reminder.sent", occurred_at=utc(2026, 3, 3, 10), event_id="old"),
        event("debt.closed", occurred_at=utc(2026, 3, 10, 9)),
        event("debt.opened", occurred_at=utc(2026, 4, 10, 9), due_date=D(2026, 4, 9)),
    )
    debt = state.debts[0]
    first, second = episode_starts(debt)
    assert [r.event_id for r in valid_free_reminders(debt, POLICY, first)] == ["old"]
    assert valid_free_reminders(debt, POLICY, second) == []
    assert gate_of_episode(debt, POLICY, second) is None


def test_pipeline_reminder_pay_by_follows_the_receipt_rule() -> None:
    # Debt in default from Wed 4 March 2026 (due 3 March), reported that day: the pipeline's letter
    # goes out Wed 4 March by post -> receipt Fri 6 March -> pay-by Fri 20 March.
    _, effects = play(event("debt.opened", occurred_at=utc(2026, 3, 4, 9), due_date=D(2026, 3, 3)))
    (issued,) = of_type(effects, ReminderIssued)
    assert local_day(issued.issued_at) == D(2026, 3, 4)
    assert issued.pay_by == D(2026, 3, 20)


def test_a_due_date_in_the_future_gives_no_reminder_yet() -> None:
    _, effects = play(event("debt.opened", occurred_at=utc(2026, 3, 3, 9), due_date=D(2026, 3, 10)))
    assert of_type(effects, ReminderIssued) == []


def test_cjib_raise_before_the_pilot_is_not_a_violation_of_law() -> None:
    # A WAHV fine of EUR 100, due 1 March 2026; the first raise (+50) on 20 April 2026, before the
    # pilot's start (1 July 2026): lawful without a free reminder.
    from signals.household import advance

    state, effects = play(
        event(
            "debt.opened",
            source="cjib",
            occurred_at=utc(2026, 3, 2, 9),
            due_date=D(2026, 3, 1),
            amount_cents=10_000,
        ),
        event(
            "costs.charged",
            source="cjib",
            occurred_at=utc(2026, 3, 10, 9),
            costs_cents=5_000,
            amount_cents=15_000,
        ),
    )
    outcome = advance(state, stream_time=utc(2026, 6, 1), policy=POLICY, route=ROUTE)
    violations = of_type([*effects, *outcome.effects], CostViolation)
    assert [v for v in violations if v.kind == "before_free_reminder"] == []
    assert [v for v in violations if v.kind == "before_pay_by"] == []


def test_a_future_due_date_gets_its_reminder_once_in_default_with_a_lawful_pay_by() -> None:
    from signals.household import advance, next_wakeup

    state, effects = play(event("debt.opened", occurred_at=utc(2026, 3, 3, 9), due_date=D(2026, 3, 10)))
    assert of_type(effects, ReminderIssued) == []
    wake = next_wakeup(state, POLICY)
    assert wake is not None
    assert wake >= day_start(D(2026, 3, 11))
    (issued,) = of_type(advance(state, stream_time=wake, policy=POLICY, route=ROUTE).effects, ReminderIssued)
    # hand-computed: sending day -> receipt by post -> 14th day -> Atw extension
    expected = {
        D(2026, 3, 11): D(2026, 3, 27),  # Wed -> Fri 13 -> Fri 27
        D(2026, 3, 12): D(2026, 3, 30),  # Thu -> Sat 14 -> Sat 28 -> Mon 30
        D(2026, 3, 13): D(2026, 3, 31),  # Fri -> Tue 17 -> Tue 31
        D(2026, 3, 14): D(2026, 4, 1),  # Sat -> Wed 18 -> Wed 1 April
    }
    assert issued.pay_by == expected[local_day(issued.issued_at)]


def test_cjib_raise_from_the_pilot_start_before_the_free_reminder_is_a_policy_violation() -> None:
    # Fine due Wed 1 July 2026, reported Thu 2 July: the free reminder goes out Thu 2 July by post,
    # receipt Sat 4 July, 14th day Sat 18 July -> Mon 20 July. A raise on 10 July breaks the pilot
    # (cabinet policy, not law).
    from signals.household import advance

    state, effects = play(
        event(
            "debt.opened",
            source="cjib",
            occurred_at=utc(2026, 7, 2, 9),
            due_date=D(2026, 7, 1),
            amount_cents=10_000,
        ),
        event(
            "costs.charged",
            source="cjib",
            occurred_at=utc(2026, 7, 10, 9),
            costs_cents=5_000,
            amount_cents=15_000,
        ),
    )
    (issued,) = of_type(effects, ReminderIssued)
    assert issued.pay_by == D(2026, 7, 20)
    outcome = advance(state, stream_time=utc(2026, 9, 1), policy=POLICY, route=ROUTE)
    violations = of_type([*effects, *outcome.effects], CostViolation)
    assert [(v.kind, v.basis) for v in violations] == [
        ("before_free_reminder", "policy: free reminder first")
    ]
