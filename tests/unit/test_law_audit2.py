"""Second independent audit of the calendar and cost rules (session 5, helper "law").

Every expected value is worked out by hand from the legal source named next to it, never computed
with the code under test; it covers what tests/unit/test_law_audit.py does not: far years, year
ends and holidays on a Saturday (no substitute day in the Netherlands), chains of closed days,
instants near local midnight and on the daylight-saving days, BIK amounts one cent either side of
each bracket, and the CJIB pilot's boundaries as instants. /work/coord/s5/law.md has the findings.

Sources (see docs/rules.md for where each was checked):
- Algemene termijnenwet (Atw) art. 1 lid 1 ("verlengd tot en met de eerstvolgende dag die niet een
  zaterdag, zondag of algemeen erkende feestdag is"), art. 3 lid 1 (the holidays, King's Day 26
  April when the 27th is a Sunday, 5 May every year), art. 3 lid 2 (Good Friday), art. 3 lid 3
  (Besluit gelijkstelling 2026-2028: 2 January 2026, 15 May 2026, 7 May 2027, 28 April 2028, 26 May
  2028).
- HR 25 November 2016, ECLI:NL:HR:2016:2704: by post received on the second day after sending, a
  Sunday, Monday or official holiday not counted; the 14 days start the day after receipt; a letter
  naming too early a date has no effect.
- Art. 6:96 lid 6 BW: costs only after the 14 days have run out; the day after the last day starts
  at 00:00 Europe/Amsterdam (CET +01:00, CEST +02:00 from the last Sunday of March to the last
  Sunday of October).
- Besluit vergoeding voor buitengerechtelijke incassokosten (BIK) art. 2 lid 1-3 (stb-2012-141).
- WAHV: +50% after the payment term, the raised amount +100% four weeks after the first aanmaning;
  CJIB pilot of a free reminder from 1 July 2026 for 18 months (policy, not law).
- Easter by the Gregorian computus; the dates below are the published Easter Sundays.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from schemas.internal_v1 import AcceptedEvent
from schemas.outputs_v1 import CostsPermitted, CostViolation, Effect, ReminderIssued
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
from signals.household import advance, handle_event
from signals.overview import HouseholdState
from signals.policy import CreditorSettings, FineRegime, Policy
from signals.reminders import bik_costs_cents, fine_raise_caps_cents, max_costs_cents, vat_cents
from signals.state import ReminderFact
from signals.terms import gate_of_episode, legal_last_day, valid_free_reminders
from tests.unit.factories import ROUTE, event, fold, of_type

POLICY = Policy.default()
D = date


def utc(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, s, tzinfo=UTC)


# --- Easter and the movable Atw holidays in far years (Gregorian computus) ----------------------

# Published Easter Sundays, including the earliest (22 March: 1818, 2285) and latest (25 April:
# 1886, 1943, 2038) possible dates.
_EASTER_FAR = {
    1818: D(1818, 3, 22), 1886: D(1886, 4, 25), 1943: D(1943, 4, 25), 1954: D(1954, 4, 18),
    1961: D(1961, 4, 2), 1981: D(1981, 4, 19), 2000: D(2000, 4, 23), 2008: D(2008, 3, 23),
    2011: D(2011, 4, 24), 2019: D(2019, 4, 21), 2038: D(2038, 4, 25), 2045: D(2045, 4, 9),
    2049: D(2049, 4, 18), 2050: D(2050, 4, 10), 2076: D(2076, 4, 19), 2100: D(2100, 3, 28),
    2160: D(2160, 3, 23), 2285: D(2285, 3, 22),
}  # fmt: skip


@pytest.mark.parametrize("year", sorted(_EASTER_FAR))
def test_easter_sunday_in_far_years(year: int) -> None:
    assert easter_sunday(year) == _EASTER_FAR[year]


@pytest.mark.parametrize(
    ("year", "easter_monday", "ascension", "whit_monday"),
    [
        # Easter + 1, + 39 (Thursday), + 50 (Monday), written out from the Easter table above
        (2008, D(2008, 3, 24), D(2008, 5, 1), D(2008, 5, 12)),  # earliest Ascension of the century
        (2038, D(2038, 4, 26), D(2038, 6, 3), D(2038, 6, 14)),  # latest Easter: Whit Monday 14 June
        (2100, D(2100, 3, 29), D(2100, 5, 6), D(2100, 5, 17)),
        (2285, D(2285, 3, 23), D(2285, 4, 30), D(2285, 5, 11)),
    ],
)
def test_movable_atw_holidays_in_far_years(
    year: int, easter_monday: date, ascension: date, whit_monday: date
) -> None:
    holidays = public_holidays(year)
    assert {easter_monday, ascension, whit_monday} <= set(holidays)
    # Easter Sunday and Whit Sunday are Sundays, not holidays of the list; Good Friday only when set
    assert easter_monday - timedelta(days=3) not in holidays
    assert easter_monday - timedelta(days=3) in public_holidays(year, good_friday=True)
    assert whit_monday + timedelta(days=1) not in holidays


def test_ascension_on_5_may_is_one_day_off_not_two() -> None:
    # 2016: Easter 27 March, Ascension Thursday 5 May = the Atw's 5 May. Seven distinct days.
    days = set(public_holidays(2016))
    assert D(2016, 5, 5) in days
    assert D(2016, 5, 6) not in days  # Friday: no substitute day
    assert len(days) == 7


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        # Atw art. 3 lid 1: the day the King's birthday is celebrated: 26 April when the 27th is a Sunday
        (2042, D(2042, 4, 26)),
        (2053, D(2053, 4, 26)),
        (2059, D(2059, 4, 26)),
        (2064, D(2064, 4, 26)),
        (2041, D(2041, 4, 27)),  # Saturday 27 April stays
        (2043, D(2043, 4, 27)),  # Monday
    ],
)
def test_kings_day_in_far_years(year: int, expected: date) -> None:
    assert kings_day(year) == expected
    other = D(year, 4, 27) if expected.day == 26 else D(year, 4, 26)
    assert expected in public_holidays(year)
    assert other not in public_holidays(year)


# --- No substitute holidays: a holiday on a weekend does not move to the Monday ------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2027, 12, 24), True),  # Friday before a Saturday Christmas
        (D(2027, 12, 25), False),  # Christmas on Saturday
        (D(2027, 12, 26), False),  # Boxing Day on Sunday
        (D(2027, 12, 27), True),  # Monday: no substitute day (Atw art. 3 names dates, not weekdays)
        (D(2028, 1, 3), True),  # Monday after New Year's Day on Saturday
        (D(2029, 5, 7), True),  # Monday after 5 May on Saturday
        (D(2025, 4, 28), True),  # Monday after King's Day on Saturday 26 April 2025
    ],
)
def test_no_substitute_day_for_a_holiday_on_a_weekend(day: date, working: bool) -> None:
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2027, 12, 25), D(2027, 12, 27)),  # Sat Christmas, Sun Boxing Day -> Mon 27
        (D(2028, 1, 1), D(2028, 1, 3)),  # Sat New Year -> Mon
        (D(2038, 4, 24), D(2038, 4, 28)),  # Sat, Easter Sunday, Easter Monday, King's Day Tue -> Wed
        (D(2038, 4, 28), D(2038, 4, 28)),  # a working day is itself
    ],
)
def test_next_working_day_over_chains(day: date, expected: date) -> None:
    assert next_working_day(day) == expected


# --- Presumed receipt by post over year ends and holidays on a Saturday (HR 25-11-2016) ----------

_RECEIPT = [
    (D(2027, 12, 23), D(2027, 12, 28)),  # Thu -> Fri(1), Sat Xmas, Sun, Mon not counted, Tue(2)
    (D(2027, 12, 30), D(2028, 1, 4)),  # Thu -> Fri 31(1), Sat New Year, Sun, Mon, Tue 4(2)
    (D(2027, 12, 31), D(2028, 1, 5)),  # Fri -> Sat New Year, Sun, Mon, Tue(1), Wed(2)
    (D(2022, 12, 30), D(2023, 1, 3)),  # Fri -> Sat 31(1), Sun New Year, Mon, Tue 3(2)
    (D(2025, 12, 24), D(2025, 12, 30)),  # Wed -> Xmas, Boxing Day, Sat 27(1), Sun, Mon, Tue(2)
    (D(2025, 12, 31), D(2026, 1, 3)),  # Wed -> New Year, Fri 2 Jan(1: equated for the Atw only), Sat(2)
    (D(2029, 5, 3), D(2029, 5, 8)),  # Thu -> Fri(1), Sat 5 May, Sun, Mon, Tue(2)
    (D(2028, 4, 26), D(2028, 4, 29)),  # Wed -> King's Day Thu, Fri 28 (1: post is delivered), Sat(2)
    (D(2027, 5, 5), D(2027, 5, 8)),  # Wed -> Ascension, Fri 7 May (1), Sat(2)
    (D(2027, 3, 25), D(2027, 3, 27)),  # Thu -> Good Friday (1: not an official holiday here), Sat(2)
    (D(2027, 5, 15), D(2027, 5, 19)),  # Sat -> Sun, Whit Monday, Tue(1), Wed(2)
    (D(2026, 4, 6), D(2026, 4, 8)),  # sent on Easter Monday -> Tue(1), Wed(2)
    (D(2026, 12, 25), D(2026, 12, 30)),  # sent on Christmas Fri -> Boxing Sat, Sun, Mon, Tue(1), Wed(2)
    (D(2026, 4, 25), D(2026, 4, 29)),  # Sat -> Sun, King's Day Mon 27, Tue(1), Wed(2)
    (D(2031, 4, 24), D(2031, 4, 29)),  # Thu -> Fri(1), King's Day Sat 26, Sun, Mon, Tue(2)
    (D(2038, 4, 23), D(2038, 4, 28)),  # Fri -> Sat(1), Easter, Easter Monday, King's Day Tue, Wed(2)
    (D(2016, 5, 4), D(2016, 5, 7)),  # Wed -> Ascension = 5 May, Fri(1), Sat(2)
    (D(2027, 4, 24), D(2027, 4, 29)),  # Sat -> Sun, Mon, King's Day Tue 27, Wed(1), Thu(2)
    (D(2029, 12, 22), D(2029, 12, 28)),  # Sat -> Sun, Mon 24, Xmas Tue, Boxing Wed, Thu(1), Fri(2)
    (D(2029, 12, 29), D(2030, 1, 3)),  # Sat -> Sun, Mon 31, New Year Tue, Wed(1), Thu(2)
]


@pytest.mark.parametrize(("sent", "received"), _RECEIPT, ids=[str(s) for s, _ in _RECEIPT])
def test_presumed_receipt_by_post_over_year_ends_and_saturday_holidays(sent: date, received: date) -> None:
    assert presumed_receipt(sent, "post") == received
    # the day before receipt it is not yet received: receipt is never earlier than 2 days after sending
    assert received >= sent + timedelta(days=2)


def test_good_friday_skipped_for_receipt_only_when_set_2027() -> None:
    # Thu 25 March 2027 with Good Friday not counted: Sat 27 (1), Sun, Easter Monday 29, Tue 30 (2)
    assert presumed_receipt(D(2027, 3, 25), good_friday=True) == D(2027, 3, 30)


@pytest.mark.parametrize("channel", ["email", "portal"])
@pytest.mark.parametrize("sent", [D(2027, 12, 25), D(2028, 1, 1), D(2027, 12, 31)])
def test_email_received_the_day_of_sending_even_on_a_holiday(sent: date, channel: Any) -> None:
    assert presumed_receipt(sent, channel) == sent


# --- Last day of the term: chains of Saturday, Sunday and holidays (Atw art. 1 lid 1) -------------

_TERM = [
    # (received, last day run on, 14th day itself)
    (D(2027, 12, 11), D(2027, 12, 27), D(2027, 12, 25)),  # Sat Xmas, Sun Boxing Day -> Mon 27
    (D(2027, 12, 18), D(2028, 1, 3), D(2028, 1, 1)),  # Sat New Year -> Mon 3 Jan
    (D(2029, 4, 21), D(2029, 5, 7), D(2029, 5, 5)),  # Sat 5 May -> Mon 7 May
    (D(2027, 3, 12), D(2027, 3, 30), D(2027, 3, 26)),  # Good Friday, Sat, Sun, Easter Monday -> Tue
    (D(2028, 5, 22), D(2028, 6, 6), D(2028, 6, 5)),  # Whit Monday -> Tue
    (D(2031, 4, 12), D(2031, 4, 28), D(2031, 4, 26)),  # King's Day Sat 26, Sun 27 -> Mon 28
    (D(2025, 12, 11), D(2025, 12, 29), D(2025, 12, 25)),  # Xmas Thu, Boxing Fri, Sat, Sun -> Mon
    (D(2026, 12, 17), D(2026, 12, 31), D(2026, 12, 31)),  # Thu 31 December is a working day
    (D(2038, 4, 12), D(2038, 4, 28), D(2038, 4, 26)),  # Easter Monday, King's Day Tue -> Wed
    (D(2038, 4, 10), D(2038, 4, 28), D(2038, 4, 24)),  # Sat, Easter, Easter Mon, King's Day -> Wed
    (D(2035, 4, 21), D(2035, 5, 7), D(2035, 5, 5)),  # 5 May Sat, Sun -> Mon 7 (Ascension was Thu 3)
]


@pytest.mark.parametrize(("received", "last", "plain"), _TERM, ids=[str(r) for r, _, _ in _TERM])
def test_term_last_day_runs_on_over_chains(received: date, last: date, plain: date) -> None:
    assert term_last_day(received, 14) == last
    assert term_last_day(received, 14, extend_to_working_day=False) == plain
    # the day before receipt gives a last day no later, the day after no earlier (monotone)
    assert (
        term_last_day(received - timedelta(days=1), 14)
        <= last
        <= term_last_day(received + timedelta(days=1), 14)
    )


def _letter(sent_on: date, channel: str = "email", pay_by: date | None = None) -> ReminderFact:
    return ReminderFact(
        at=day_start(sent_on) + timedelta(hours=10),
        event_id="audit2",
        kind="free",
        sent_on=sent_on,
        term_days=14,
        issued_by="creditor",
        amount_cents=20_000,
        channel=channel,
        pay_by=pay_by,
    )


@pytest.mark.parametrize(
    ("sent", "channel", "legal_last"),
    [
        # Atw art. 3 lid 3 (Besluit gelijkstelling 2026-2028) chained with an art. 3 lid 1 holiday
        (D(2028, 4, 13), "email", D(2028, 5, 1)),  # King's Day Thu 27, equated Fri 28, Sat, Sun -> Mon 1 May
        (D(2027, 4, 22), "email", D(2027, 5, 10)),  # Ascension Thu 6, equated Fri 7, Sat, Sun -> Mon 10
        (D(2026, 4, 30), "email", D(2026, 5, 18)),  # Ascension Thu 14, equated Fri 15, Sat, Sun -> Mon 18
        (D(2025, 12, 18), "email", D(2026, 1, 5)),  # New Year Thu 1, equated Fri 2, Sat, Sun -> Mon 5
        (D(2028, 5, 12), "email", D(2028, 5, 29)),  # Ascension Thu 25 May, equated Fri 26, Sat, Sun -> Mon 29
        # by post over the year end: receipt Tue 28 Dec 2027 -> Tue 11 Jan 2028
        (D(2027, 12, 23), "post", D(2028, 1, 11)),
        # by post: receipt Tue 4 Jan 2028 -> Tue 18 Jan 2028
        (D(2027, 12, 30), "post", D(2028, 1, 18)),
    ],
)
def test_legal_last_day_over_equated_days_and_year_ends(sent: date, channel: str, legal_last: date) -> None:
    assert legal_last_day(_letter(sent, channel), 14, POLICY) == legal_last


# --- The instant costs are permitted: 00:00 Amsterdam of the day after the last day ---------------

_STARTS = [
    # the last Sundays of March and October in far years (EU summer time)
    (D(2040, 3, 25), utc(2040, 3, 24, 23)),  # DST starts at 02:00: midnight still CET
    (D(2040, 3, 26), utc(2040, 3, 25, 22)),
    (D(2040, 10, 28), utc(2040, 10, 27, 22)),  # DST ends at 03:00: midnight still CEST
    (D(2040, 10, 29), utc(2040, 10, 28, 23)),
    (D(2028, 1, 1), utc(2027, 12, 31, 23)),
    (D(2028, 2, 29), utc(2028, 2, 28, 23)),
]


@pytest.mark.parametrize(("day", "instant"), _STARTS, ids=[str(d) for d, _ in _STARTS])
def test_day_start_in_far_years(day: date, instant: datetime) -> None:
    assert day_start(day) == instant
    assert local_day(instant - timedelta(microseconds=1)) == day - timedelta(days=1)
    assert local_day(instant) == day


def run(*events: AcceptedEvent, policy: Policy = POLICY) -> tuple[HouseholdState, list[Effect]]:
    """Handle the events in order, stream time advanced to each event, then 400 days on."""
    state: HouseholdState | None = None
    effects: list[Effect] = []
    for accepted in events:
        if state is not None:
            outcome = advance(state, stream_time=accepted.event.occurred_at, policy=policy, route=ROUTE)
            state, effects = outcome.state, [*effects, *outcome.effects]
        outcome = handle_event(state, accepted, policy=policy, route=ROUTE)
        state, effects = outcome.state, [*effects, *outcome.effects]
    assert state is not None
    # a clock tick the next day (the pipeline's letter goes out when stream time reaches its
    # moment, as with the clock topic), then far on
    for later in (timedelta(days=1), timedelta(days=400)):
        outcome = advance(state, stream_time=events[-1].event.occurred_at + later, policy=policy, route=ROUTE)
        state, effects = outcome.state, [*effects, *outcome.effects]
    return state, effects


def _opened(
    at: datetime, due: date, source: Any = "water", amount: int = 20_000, **fields: Any
) -> AcceptedEvent:
    return event("debt.opened", source=source, occurred_at=at, due_date=due, amount_cents=amount, **fields)


@pytest.mark.parametrize(
    ("opened_at", "due", "pay_by", "permitted_at"),
    [
        # Default Thu 30 Dec 2027; posted that day: receipt Tue 4 Jan 2028; last day Tue 18 Jan;
        # costs from Wed 19 Jan 00:00 CET = 18 Jan 23:00 UTC.
        (utc(2027, 12, 30, 9), D(2027, 12, 29), D(2028, 1, 18), utc(2028, 1, 18, 23)),
        # Default Sat 28 Mar 2026; posted Sat: Tue 31 (1), Wed 1 Apr (2); last day Wed 15 Apr (CEST).
        (utc(2026, 3, 28, 9), D(2026, 3, 27), D(2026, 4, 15), utc(2026, 4, 15, 22)),
        # 21:30 UTC on Sat 10 Oct 2026 is 23:30 CEST, still Saturday: Tue 13 (1), Wed 14 (2);
        # last day Wed 28 Oct; 29 Oct starts 23:00 UTC (CET after 25 October).
        (utc(2026, 10, 10, 21, 30), D(2026, 10, 9), D(2026, 10, 28), utc(2026, 10, 28, 23)),
        # 22:30 UTC on Tue 14 Jul 2026 is 00:30 CEST on Wed 15 July: in default (due the 14th);
        # posted Wed 15: Thu 16 (1), Fri 17 (2); last day Fri 31 Jul.
        (utc(2026, 7, 14, 22, 30), D(2026, 7, 14), D(2026, 7, 31), utc(2026, 7, 31, 22)),
        # Default Thu 23 Dec 2027: receipt Tue 28 Dec (Xmas Sat, Sun, Mon) -> last day Tue 11 Jan 2028.
        (utc(2027, 12, 23, 9), D(2027, 12, 22), D(2028, 1, 11), utc(2028, 1, 11, 23)),
    ],
)
def test_pipeline_reminder_and_gate_over_year_ends_dst_and_local_midnight(
    opened_at: datetime, due: date, pay_by: date, permitted_at: datetime
) -> None:
    _, effects = run(_opened(opened_at, due))
    (reminder,) = of_type(effects, ReminderIssued)
    (permitted,) = of_type(effects, CostsPermitted)
    assert local_day(reminder.issued_at) > due  # never before default (art. 6:96 lid 6: "in verzuim")
    assert reminder.pay_by == pay_by
    assert permitted.permitted_at == permitted_at
    assert permitted.costs_from == pay_by + timedelta(days=1)
    assert permitted.max_costs_cents == 4_000  # BIK minimum on EUR 200


def _charge(at: datetime, cents: int = 4_000) -> AcceptedEvent:
    return event("costs.charged", source="water", occurred_at=at, amount_cents=20_000, costs_cents=cents)


def _reminder(at: datetime, **fields: Any) -> AcceptedEvent:
    return event(
        "reminder.sent", source="water", occurred_at=at, amount_cents=20_000, reminder_kind="free", **fields
    )


@pytest.mark.parametrize(
    ("letter_at", "pay_by", "charged_at", "violation"),
    [
        # E-mail Fri 13 Mar 2026: legal last day Fri 27 Mar; the letter names Sat 28 March (later:
        # the creditor's own promise). Costs from Sun 29 March 00:00 CET (the DST day) = 28 Mar 23:00 UTC.
        (utc(2026, 3, 13, 9), D(2026, 3, 28), utc(2026, 3, 28, 22, 59, 59), True),
        (utc(2026, 3, 13, 9), D(2026, 3, 28), utc(2026, 3, 28, 23), False),
        (utc(2026, 3, 13, 9), D(2026, 3, 28), utc(2026, 3, 29, 22), False),
        # E-mail Fri 9 Oct 2026 naming Sat 24 Oct: costs from Sun 25 Oct 00:00 CEST = 24 Oct 22:00 UTC.
        (utc(2026, 10, 9, 9), D(2026, 10, 24), utc(2026, 10, 24, 21, 59, 59), True),
        (utc(2026, 10, 9, 9), D(2026, 10, 24), utc(2026, 10, 24, 22), False),
        (utc(2026, 10, 9, 9), D(2026, 10, 24), utc(2026, 10, 25, 23), False),
    ],
)
def test_a_letter_naming_a_later_date_opens_the_gate_at_local_midnight_on_dst_days(
    letter_at: datetime, pay_by: date, charged_at: datetime, violation: bool
) -> None:
    _, effects = run(
        _reminder(letter_at, channel="email", term_days=14, pay_by=pay_by),
        _opened(letter_at + timedelta(hours=1), D(2026, 3, 1) if letter_at.month == 3 else D(2026, 10, 1)),
        _charge(charged_at),
    )
    assert of_type(effects, ReminderIssued) == []  # the creditor's letter counts
    assert [v.kind for v in of_type(effects, CostViolation)] == (["before_pay_by"] if violation else [])


@pytest.mark.parametrize(
    ("letter_at", "gate"),
    [
        # 22:59 UTC Thu 5 Mar 2026 is 23:59 Thursday: receipt Sat 7; 14th day Sat 21 -> Mon 23;
        # costs from Tue 24 00:00 CET.
        (utc(2026, 3, 5, 22, 59), utc(2026, 3, 23, 23)),
        # 23:30 UTC Thu 5 Mar is 00:30 Fri 6 Mar: receipt Tue 10; last day Tue 24; from Wed 25.
        (utc(2026, 3, 5, 23, 30), utc(2026, 3, 24, 23)),
    ],
)
def test_a_posted_letter_counts_from_its_local_sending_day(letter_at: datetime, gate: datetime) -> None:
    _, effects = run(
        _reminder(letter_at, channel="post", term_days=14),
        _opened(utc(2026, 3, 6, 10), D(2026, 3, 2)),
    )
    (permitted,) = of_type(effects, CostsPermitted)
    assert permitted.permitted_at == gate


@pytest.mark.parametrize(
    ("pay_by", "counts"),
    [
        # Posted Thu 30 Dec 2027: receipt Tue 4 Jan 2028 (New Year on Saturday), legal last day Tue 18 Jan.
        (D(2028, 1, 17), False),  # one day too early: no effect (HR 2016)
        (D(2028, 1, 18), True),  # exactly the legal last day
        (D(2028, 1, 19), True),
        (D(2028, 1, 13), False),  # 14 days from sending: the pre-2016 reading, too early
    ],
)
def test_a_posted_letter_over_the_year_end_naming_its_pay_by(pay_by: date, counts: bool) -> None:
    state = fold(
        _opened(utc(2027, 12, 30, 8), D(2027, 12, 28)),
        _reminder(utc(2027, 12, 30, 10), channel="post", term_days=14, pay_by=pay_by, event_id="letter"),
    )
    debt = state.debts[0]
    (episode,) = episode_starts(debt)
    assert bool(valid_free_reminders(debt, POLICY, episode)) is counts
    gate = gate_of_episode(debt, POLICY, episode)
    assert (gate[0] if gate else None) == (day_start(pay_by + timedelta(days=1)) if counts else None)


# --- BIK scale: one cent either side of each bracket (BIK art. 2 lid 1 and 2) ----------------------

_BIK_EDGES = [
    (1, 4_000),  # EUR 0.01: the minimum EUR 40 (art. 2 lid 2) applies to any claim
    (10_000, 4_000),  # EUR 100 -> 15 -> 40
    (26_666, 4_000),  # 39.9990 -> 40 (minimum)
    (26_667, 4_000),  # 40.0005 -> 40.00
    (26_673, 4_001),  # 40.0095 -> 40.01
    (30_000, 4_500),  # EUR 300 -> 45
    (123_456, 18_518),  # 15% of 1,234.56 = 185.184 -> 185.18
    (249_999, 37_500),  # 374.9985 -> 375.00
    (250_000, 37_500),  # 375
    (250_001, 37_500),  # 375 + 0.001
    (250_010, 37_501),  # 375 + 10% of 0.10 = 375.01
    (499_999, 62_500),  # 375 + 249.999 = 624.999 -> 625.00
    (500_000, 62_500),  # 625
    (500_020, 62_501),  # 625 + 5% of 0.20 = 625.01
    (999_999, 87_500),  # 625 + 249.9995 -> 875.00
    (1_000_000, 87_500),  # 875
    (1_000_100, 87_501),  # 875 + 1% of 1.00
    (19_999_999, 277_500),  # 875 + 1,899.9999 -> 2,775.00
    (20_000_000, 277_500),  # 2,775
    (20_000_200, 277_501),  # 2,775 + 0.5% of 2.00
    (90_000_000, 627_500),  # 2,775 + 0.5% of 700,000 = 6,275
    (99_999_800, 677_499),  # 2,775 + 0.5% of 799,998 = 6,774.99
    (100_000_000, 677_500),  # 6,775: the maximum is reached at EUR 1,000,000
    (100_000_200, 677_500),  # never above 6,775
]


@pytest.mark.parametrize(("principal", "costs"), _BIK_EDGES, ids=[str(p) for p, _ in _BIK_EDGES])
def test_bik_scale_one_cent_either_side_of_each_bracket(principal: int, costs: int) -> None:
    assert bik_costs_cents(principal, POLICY) == costs


def _vat_policy(vat: bool) -> Policy:
    return POLICY.model_copy(
        update={"creditors": (CreditorSettings(source="water", creditor_id="waternet", vat_on_costs=vat),)}
    )


@pytest.mark.parametrize(
    ("principal", "without", "with_vat"),
    [
        (1, 4_000, 4_840),  # 40 + 8.40
        (123_456, 18_518, 22_407),  # 185.18 + 38.8878 -> 38.89 = 224.07
        (500_000, 62_500, 75_625),  # 625 + 131.25
        (100_000_000, 677_500, 819_775),  # 6,775 + 1,422.75 (the VAT comes on top of the maximum)
    ],
)
def test_max_costs_with_and_without_vat(principal: int, without: int, with_vat: int) -> None:
    state = fold(_opened(utc(2026, 3, 3, 9), D(2026, 3, 2)))
    debt = state.debts[0]
    assert max_costs_cents(debt, _vat_policy(False), utc(2026, 4, 1), principal=principal) == without
    assert max_costs_cents(debt, _vat_policy(True), utc(2026, 4, 1), principal=principal) == with_vat
    assert vat_cents(debt, without, _vat_policy(True)) == with_vat - without


@pytest.mark.parametrize(("vat", "ok_cents"), [(False, 4_000), (True, 4_840)])
def test_a_charge_one_cent_above_the_maximum_is_above_the_scale(vat: bool, ok_cents: int) -> None:
    # Pipeline letter posted Tue 24 Mar 2026 -> last day Thu 9 Apr; costs from 10 Apr 00:00 CEST.
    def violations(cents: int) -> list[tuple[str, int, int]]:
        _, effects = run(
            _opened(utc(2026, 3, 24, 9), D(2026, 3, 1)),
            _charge(utc(2026, 4, 10, 9), cents),
            policy=_vat_policy(vat),
        )
        return [(v.kind, v.charged_cents, v.permitted_cents) for v in of_type(effects, CostViolation)]

    assert violations(ok_cents) == []
    assert violations(ok_cents + 1) == [("above_scale", ok_cents + 1, ok_cents)]


# --- WAHV raises: three times the fine in all ---------------------------------------------------


@pytest.mark.parametrize(
    ("fine", "caps"),
    [
        (3_300, [1_650, 6_600]),  # EUR 33 -> 49.50 -> 99
        (23_900, [11_950, 47_800]),  # EUR 239 -> 358.50 -> 717
        (56_000, [28_000, 112_000]),  # EUR 560 -> 840 -> 1,680
    ],
)
def test_wahv_raise_caps_are_half_then_three_times(fine: int, caps: list[int]) -> None:
    assert fine_raise_caps_cents(fine, FineRegime()) == caps
    assert caps[-1] == 2 * fine  # three times the fine in all: the raises total twice the fine


def _fine(at: datetime, due: date) -> AcceptedEvent:
    return event(
        "debt.opened", source="cjib", occurred_at=at, due_date=due, amount_cents=10_000, fine_kind="wahv"
    )


def _raise(at: datetime, cents: int = 5_000) -> AcceptedEvent:
    return event("costs.charged", source="cjib", occurred_at=at, amount_cents=10_000, costs_cents=cents)


@pytest.mark.parametrize(
    ("raised_at", "expected"),
    [
        # the pilot's first day starts 1 July 2026 00:00 CEST = 30 June 22:00 UTC
        (utc(2026, 6, 30, 21, 59, 59), []),  # 23:59:59 on 30 June: before the pilot, lawful
        (utc(2026, 6, 30, 22), [("before_free_reminder", "policy: free reminder first")]),
        # the pilot's last day is 31 Dec 2027; 1 Jan 2028 starts 31 Dec 23:00 UTC (CET)
        (utc(2027, 12, 31, 22, 59, 59), [("before_free_reminder", "policy: free reminder first")]),
        (utc(2027, 12, 31, 23), []),
    ],
)
def test_cjib_pilot_boundaries_are_amsterdam_days(
    raised_at: datetime, expected: list[tuple[str, str]]
) -> None:
    due = local_day(raised_at) - timedelta(days=3)
    _, effects = run(_fine(day_start(due) + timedelta(hours=12), due), _raise(raised_at))
    assert [(v.kind, v.basis) for v in of_type(effects, CostViolation)] == expected


@pytest.mark.parametrize(
    ("raised_at", "violation"),
    [
        # Outside the pilot (March 2028), fine due Wed 1 March 2028: the raise may come only after
        # the payment term, from Thu 2 March 00:00 CET (1 March 23:00 UTC).
        (utc(2028, 3, 1, 22, 59, 59), "above_raise"),  # still the due date
        (utc(2028, 3, 1, 23), None),  # the first day after the term
        (utc(2028, 3, 3, 9), None),
    ],
)
def test_a_wahv_raise_before_the_payment_term_ran_out_is_unlawful(
    raised_at: datetime, violation: str | None
) -> None:
    _, effects = run(_fine(utc(2028, 2, 20, 9), D(2028, 3, 1)), _raise(raised_at))
    found = of_type(effects, CostViolation)
    assert [(v.kind, v.basis) for v in found] == (
        [(violation, "WAHV art. 23/24: above the raise")] if violation else []
    )


@pytest.mark.parametrize(
    ("second_at", "violation"),
    [
        # First raise at 22:30 UTC Fri 18 Sep 2026 = 00:30 Sat 19 Sep local. Four weeks after 19 Sep
        # end on Sat 17 Oct; the second raise may come from Sun 18 Oct 00:00 CEST = 17 Oct 22:00 UTC.
        (utc(2026, 10, 17, 21, 59, 59), True),
        (utc(2026, 10, 17, 22), False),
        (utc(2026, 10, 18, 22), False),
    ],
)
def test_the_second_wahv_raise_counts_four_weeks_from_the_local_day_of_the_first(
    second_at: datetime, violation: bool
) -> None:
    _, effects = run(
        _fine(utc(2026, 9, 1, 9), D(2026, 8, 31)),
        _raise(utc(2026, 9, 18, 22, 30)),
        _raise(second_at, 15_000),
    )
    found = [(v.kind, v.charged_cents) for v in of_type(effects, CostViolation)]
    assert found == ([("above_raise", 20_000)] if violation else [])


# --- Paid within the term: the term ends at the end of its last day (art. 6:96 lid 6 BW) ----------


@pytest.mark.parametrize(
    ("paid_at", "permitted"),
    [
        # Pipeline letter posted Tue 24 Mar 2026: receipt Thu 26, last day Thu 9 Apr (CEST). Paying
        # at 23:59:59 on 9 April is within the 14 days; at 00:00 on 10 April (22:00 UTC) it is not:
        # that instant is already the first day costs may be charged.
        (utc(2026, 4, 9, 21, 59, 59), False),
        (utc(2026, 4, 9, 22), True),
        (utc(2026, 4, 9, 22, 0, 1), True),
    ],
    ids=["last-second-of-the-term", "first-instant-after", "a-second-later"],
)
def test_paid_at_the_first_instant_after_the_term_is_too_late(paid_at: datetime, permitted: bool) -> None:
    _, effects = run(
        _opened(utc(2026, 3, 24, 9), D(2026, 3, 1)),
        event("debt.closed", source="water", occurred_at=paid_at, amount_cents=0),
    )
    found = of_type(effects, CostsPermitted)
    assert [(p.permitted_at, p.principal_cents, p.max_costs_cents) for p in found] == (
        [(utc(2026, 4, 9, 22), 20_000, 4_000)] if permitted else []
    )


def test_a_charge_and_a_payment_at_the_first_instant_after_the_term_are_both_late() -> None:
    # Charging costs at 00:00 on the first day of costs is lawful (the gate is open), so a payment
    # at that very instant cannot still be within the term.
    _, effects = run(
        _opened(utc(2026, 3, 24, 9), D(2026, 3, 1)),
        _charge(utc(2026, 4, 9, 22)),
        event(
            "payment.received",
            source="water",
            occurred_at=utc(2026, 4, 9, 22),
            amount_cents=0,
            paid_cents=20_000,
        ),
    )
    assert of_type(effects, CostViolation) == []
    assert len(of_type(effects, CostsPermitted)) == 1


# --- Letters: default first, e-mail on a Sunday (HR 25-11-2016; art. 6:96 lid 6 "in verzuim") --------


@pytest.mark.parametrize(
    ("sent_at", "pay_by", "counts"),
    [
        # Due Tue 3 Mar 2026: in default from Wed 4 March 00:00 CET (3 Mar 23:00 UTC). A letter sent
        # on the due date has no effect however generous its pay-by date; one at 00:00 the next day counts.
        (utc(2026, 3, 3, 22, 59, 59), D(2026, 4, 30), False),
        (utc(2026, 3, 3, 23), D(2026, 4, 30), True),
        (utc(2026, 3, 4, 9), D(2026, 4, 30), True),
    ],
)
def test_a_letter_before_default_has_no_effect_whatever_its_pay_by(
    sent_at: datetime, pay_by: date, counts: bool
) -> None:
    state = fold(
        _opened(utc(2026, 3, 1, 9), D(2026, 3, 3)),
        _reminder(sent_at, channel="email", term_days=14, pay_by=pay_by, event_id="letter"),
    )
    debt = state.debts[0]
    (episode,) = episode_starts(debt)
    assert bool(valid_free_reminders(debt, POLICY, episode)) is counts


@pytest.mark.parametrize(
    ("channel", "sent_at", "gate"),
    [
        # E-mail on Sun 8 Mar 2026: received that Sunday; 14th day Sun 22 Mar -> Mon 23; costs from
        # Tue 24 00:00 CET.
        ("email", utc(2026, 3, 8, 11), utc(2026, 3, 23, 23)),
        # Portal message on Easter Monday 6 Apr 2026: received that day; 14th day Mon 20 Apr;
        # costs from Tue 21 Apr 00:00 CEST.
        ("portal", utc(2026, 4, 6, 11), utc(2026, 4, 20, 22)),
        # The same letter by post on Easter Monday: Tue 7 (1), Wed 8 (2); last day Wed 22 Apr.
        ("post", utc(2026, 4, 6, 11), utc(2026, 4, 22, 22)),
    ],
)
def test_email_and_portal_letters_run_from_the_day_of_sending(
    channel: str, sent_at: datetime, gate: datetime
) -> None:
    _, effects = run(
        _reminder(sent_at, channel=channel, term_days=14),
        _opened(sent_at + timedelta(hours=1), D(2026, 3, 2)),
    )
    assert of_type(effects, ReminderIssued) == []
    (permitted,) = of_type(effects, CostsPermitted)
    assert permitted.permitted_at == gate


@pytest.mark.parametrize(
    ("paid_at", "principal", "maximum"),
    [
        # HR 25-11-2016 (ECLI:NL:HR:2016:2704): after a timely partial payment the costs are computed
        # on the part not paid in time. EUR 950, EUR 650 paid: BIK on EUR 300 = 45.00; paid too late
        # (from 00:00 on the first day of costs): BIK on EUR 950 = 142.50. Last day Thu 9 Apr 2026.
        (utc(2026, 4, 9, 21, 59, 59), 30_000, 4_500),
        (utc(2026, 4, 9, 22), 95_000, 14_250),
        (utc(2026, 4, 10, 9), 95_000, 14_250),
    ],
    ids=["in-time", "first-instant-after", "day-after"],
)
def test_a_partial_payment_in_time_lowers_the_costs(paid_at: datetime, principal: int, maximum: int) -> None:
    _, effects = run(
        _opened(utc(2026, 3, 24, 9), D(2026, 3, 1), amount=95_000),
        event(
            "payment.received", source="water", occurred_at=paid_at, amount_cents=30_000, paid_cents=65_000
        ),
    )
    (permitted,) = of_type(effects, CostsPermitted)
    assert (permitted.principal_cents, permitted.max_costs_cents) == (principal, maximum)


@pytest.mark.parametrize(
    ("updated_at", "amount", "principal", "maximum"),
    [
        # Art. 6:96 lid 6 BW with art. 2 BIK: the costs follow from the letter, which names the sum
        # it demands and the costs on it; arrears added after it (next month's rent) are a claim of
        # their own that needs its own letter (summaries: das.nl "meerdere vorderingen", nvi.nl).
        # Letter for EUR 950; the debt rises to EUR 1,900 during the term, at its last second, and
        # after it: costs at most on EUR 950 (142.50). Last day Thu 9 Apr 2026.
        (utc(2026, 4, 1, 9), 190_000, 95_000, 14_250),
        (utc(2026, 4, 9, 21, 59, 59), 190_000, 95_000, 14_250),
        (utc(2026, 4, 10, 9), 190_000, 95_000, 14_250),
        # Lowered during the term (a correction or a payment the creditor booked as an update):
        # costs on what is left unpaid, EUR 500 -> 75.00.
        (utc(2026, 4, 1, 9), 50_000, 50_000, 7_500),
    ],
    ids=["risen-during-term", "risen-last-second", "risen-after-term", "lowered-during-term"],
)
def test_costs_are_on_the_sum_the_letter_demanded_at_most(
    updated_at: datetime, amount: int, principal: int, maximum: int
) -> None:
    _, effects = run(
        _opened(utc(2026, 3, 24, 9), D(2026, 3, 1), amount=95_000),
        event(
            "debt.updated",
            source="water",
            occurred_at=updated_at,
            amount_cents=amount,
            due_date=D(2026, 3, 1),
        ),
    )
    (reminder,) = of_type(effects, ReminderIssued)
    assert reminder.amount_cents == 95_000
    (permitted,) = of_type(effects, CostsPermitted)
    assert (permitted.principal_cents, permitted.max_costs_cents) == (principal, maximum)
