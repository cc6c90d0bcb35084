"""Random debt episodes of one household: arrears paid within the term, paid late, or signal-worthy.

The rates are tuned so the history has the national shape (see synthetic/generate.py);
`shape()` there measures what came out. Times follow the rules of `Policy.default()`: the free
reminder issued when the debt is reported overdue, its term counted from the presumed receipt
(`signals.calendar`), each source's floor of days (`Policy.rule(source)`), two premiums for health,
and the landlord's steps (a written reminder and a contact attempt) before rent arrears signal.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from schemas.contract_v1 import Source
from signals.calendar import day_start, local_day, presumed_receipt, term_last_day
from signals.policy import Policy
from signals.reminders import bik_costs_cents
from synthetic.history import DebtWriter, History, Household, add_months, at_hour, days

__all__ = ["Opened", "household_history", "open_debt", "settle"]

# Shares of signal-worthy arrears per source (national monitor: health ~41%, landlords ~20%,
# energy ~20%, water ~18%, CJIB the rest).
SIGNAL_WEIGHTS: dict[Source, int] = {"health": 41, "housing": 20, "energy": 20, "water": 18, "cjib": 1}
ARREARS_WEIGHTS: dict[Source, int] = {"health": 30, "housing": 15, "energy": 25, "water": 25, "cjib": 5}
P_ARREARS = 0.021  # per household-month and draw (two draws), times the household's risk
P_LATE = 0.2  # of ordinary arrears: paid after the free reminder's term, before a signal
P_SIGNAL = 0.0079  # per household-month, times the household's risk
P_SECOND = 0.01  # a signal episode comes with a second creditor's arrears
P_AGAIN = 0.56  # a new episode within six months of the first signal
_POLICY = Policy.default()


@dataclass(frozen=True)
class Opened:
    """A reported debt: when, its oldest unpaid due date, principal and monthly amount."""

    at: datetime
    due: date
    principal: int
    monthly: int | None

    @property
    def gate(self) -> datetime:
        """When costs become permitted: the day after the term of the pipeline's reminder, sent at opening."""
        received = presumed_receipt(local_day(self.at), good_friday=_POLICY.receipt_skips_good_friday)
        last = term_last_day(
            received,
            _POLICY.housing.reminder_term_days,
            extend_to_working_day=_POLICY.extend_term_to_working_day,
            good_friday=_POLICY.term_extends_over_good_friday,
            extra=_POLICY.atw_equated_days,
        )
        return day_start(last + timedelta(days=1))


def _weighted(rng: random.Random, weights: dict[Source, int], exclude: Source | None = None) -> Source:
    sources = [s for s in weights if s != exclude]
    return rng.choices(sources, weights=[weights[s] for s in sources])[0]


def open_debt(d: DebtWriter, rng: random.Random, around: date) -> Opened:
    """Report a debt overdue: rent and premiums fall due on the 1st, bills and fines any day."""
    source, h = d.source, d.household
    monthly: int | None = None
    if source in ("housing", "health"):
        due = around.replace(day=1)
        monthly = h.rent_cents if source == "housing" else h.premium_cents
        principal, lag = monthly, rng.randrange(6, 13) if source == "housing" else rng.randrange(10, 21)
    else:
        due, lag = around, 1 if source == "cjib" else rng.randrange(5, 15)
        cents = {"energy": (6_000, 45_000), "water": (4_000, 22_000), "cjib": (10_000, 45_000)}[source]
        principal = rng.randrange(*cents) // 100 * 100
    at = at_hour(due + timedelta(days=lag), rng)
    fields: dict[str, object] = {"due_date": due}
    if monthly is not None:
        fields["monthly_amount_cents"] = monthly
    if source == "cjib":
        fields["fine_kind"] = "wahv"
    d.emit(at, "debt.opened", principal, **fields)
    d.opened(at)
    return Opened(at, due, principal, monthly)


def worthy_at(source: Source, o: Opened) -> datetime:
    """When the debt's floor of days is reached if nothing is paid (the source's other steps aside)."""
    rule = _POLICY.rule(source)
    if rule.requires_term_expired:
        return o.gate
    return day_start(o.due + timedelta(days=max(1, rule.min_days_overdue)))


def settle(d: DebtWriter, at: datetime, remaining: int, reason: str = "paid") -> None:
    """Pay what is left and close the claim an hour later."""
    d.emit(at, "payment.received", 0, paid_cents=remaining)
    d.emit(at + timedelta(hours=1), "debt.closed", 0, reason=reason)
    if d.facts is not None:
        d.facts.settled_at = at


def paid_in_term(d: DebtWriter, rng: random.Random, o: Opened) -> None:
    """Most arrears: paid within the free reminder's term, sometimes in two parts."""
    if d.facts is not None:
        d.facts.in_term = True
    if rng.random() < 0.2:  # the creditor reports its own free reminder too
        sent = o.at + timedelta(hours=rng.uniform(2, 40))
        d.emit(sent, "reminder.sent", o.principal, reminder_kind="free", term_days=14)
    pay = o.at + days(rng.uniform(1, 12.5))
    remaining = o.principal
    if rng.random() < 0.2:
        part = remaining // 2
        remaining -= part
        d.emit(o.at + (pay - o.at) * rng.uniform(0.2, 0.8), "payment.received", remaining, paid_cents=part)
    settle(d, pay, remaining)


def paid_late(d: DebtWriter, rng: random.Random, o: Opened) -> None:
    """Paid after the term (costs permitted, sometimes charged) but before it became signal-worthy."""
    limit = worthy_at(d.source, o) if d.source != "health" else o.gate + timedelta(days=10)
    span_h = max(7.0, (limit - o.gate).total_seconds() / 3600 - 2)
    pay = o.gate + timedelta(hours=rng.uniform(6, span_h))
    costs = 0
    if rng.random() < 0.4:
        costs = bik_costs_cents(o.principal, _POLICY)
        d.emit(
            o.gate + (pay - o.gate) * rng.uniform(0.1, 0.9), "costs.charged", o.principal, costs_cents=costs
        )
    settle(d, pay, o.principal + costs)


def _grow(d: DebtWriter, rng: random.Random, o: Opened, until: datetime, first_month: int = 1) -> int:
    """Unpaid rent and premiums add a month each month; a bill sometimes gets a new one added."""
    principal = o.principal
    if o.monthly is not None:
        for month in range(first_month, 13):
            at = at_hour(add_months(o.due, month) + timedelta(days=rng.randrange(8, 16)), rng)
            if at >= until:
                break
            principal += o.monthly
            d.emit(at, "debt.updated", principal, due_date=o.due, monthly_amount_cents=o.monthly)
    elif d.source in ("energy", "water") and rng.random() < 0.3:
        at = at_hour(o.due + timedelta(days=rng.randrange(33, 45)), rng)
        if at < until:
            principal += rng.randrange(3_000, 15_000) // 100 * 100
            d.emit(at, "debt.updated", principal, due_date=o.due)
    return principal


def _costs(d: DebtWriter, rng: random.Random, o: Opened) -> None:
    """Collection costs: mostly after the gate and within the scale; a few creditors break the rules."""
    after_gate = o.gate + timedelta(days=rng.uniform(1, 10))
    if d.source == "cjib":
        if rng.random() < 0.8:  # the first increase: +50% of the original fine
            d.emit(after_gate, "costs.charged", o.principal, costs_cents=o.principal // 2)
        return
    roll, legal = rng.random(), bik_costs_cents(o.principal, _POLICY)
    if roll < 0.04:
        too_early = o.at + timedelta(days=rng.uniform(2, 10))
        d.emit(too_early, "costs.charged", o.principal, costs_cents=legal)
    elif roll < 0.06:
        d.emit(after_gate, "costs.charged", o.principal, costs_cents=legal + rng.randrange(2_000, 8_000))
    elif roll < 0.5:
        d.emit(after_gate, "costs.charged", o.principal, costs_cents=legal)


def _reminders_and_supply(d: DebtWriter, rng: random.Random, o: Opened, worthy: datetime) -> None:
    if d.source in ("energy", "water") and rng.random() < 0.6:  # the creditor's formal reminder
        at = o.gate + timedelta(days=rng.uniform(1, 6))
        d.emit(at, "reminder.sent", o.principal, reminder_kind="formal", term_days=14)
    if d.source == "energy" and rng.random() < 0.1:
        at = worthy + timedelta(days=rng.uniform(5, 25))
        d.emit(at, "supply.ending", o.principal, supply_end_date=at.date() + timedelta(days=21))


def _resolve(d: DebtWriter, rng: random.Random, at: datetime, principal: int) -> None:
    """An arrangement with a pause and monthly payments, paid in full, written off, or still open."""
    roll = rng.random()
    if roll < 0.35:
        until = at.date() + timedelta(days=rng.randrange(60, 150))
        d.emit(at, "collection.paused", principal, until=until)
        count = max(2, math.ceil((until - at.date()).days / 30))
        part, remaining = principal // count, principal
        for n in range(1, count):
            remaining -= part
            d.emit(at + timedelta(days=30 * n), "payment.received", remaining, paid_cents=part)
        settle(d, at + timedelta(days=30 * count - 2), remaining, "arrangement")
    elif roll < 0.65:
        settle(d, at, principal)
    elif roll < 0.75:
        d.emit(at, "debt.closed", principal, reason=rng.choice(("written_off", "transferred")))
        if d.facts is not None:
            d.facts.settled_at = at


def _landlord_steps(d: DebtWriter, rng: random.Random, o: Opened) -> None:
    """Besluit gsv art. 2: the landlord's written reminder and attempt at personal contact."""
    if _POLICY.housing.requires_reminder:
        d.emit(
            o.at + days(rng.uniform(1, 5)), "reminder.sent", o.principal, reminder_kind="formal", term_days=14
        )
    if _POLICY.housing.requires_contact_attempt:
        method = rng.choice(("phone", "home_visit", "letter"))
        d.emit(o.at + days(rng.uniform(5, 14)), "contact.attempted", o.principal, method=method)


def _second_premium(d: DebtWriter, rng: random.Random, o: Opened) -> tuple[datetime, int]:
    """Health: the second premium falls due unpaid; with two premiums owed the debt is signal-worthy."""
    assert o.monthly is not None
    at = at_hour(add_months(o.due, 1) + timedelta(days=rng.randrange(1, 8)), rng)
    principal = o.principal + o.monthly
    d.emit(at, "debt.updated", principal, due_date=o.due, monthly_amount_cents=o.monthly)
    return at, principal


def signal_worthy(d: DebtWriter, rng: random.Random, o: Opened) -> datetime:
    """Unpaid beyond the source's threshold; returns when it became signal-worthy."""
    worthy = worthy_at(d.source, o)
    if d.source == "housing":
        _landlord_steps(d, rng, o)
    grown = o
    if d.source == "health":
        worthy, principal = _second_premium(d, rng, o)
        grown = Opened(o.at, o.due, principal, o.monthly)
    if d.facts is not None:
        d.facts.worthy_at = worthy
    resolve_at = worthy + timedelta(days=rng.uniform(14, 100), hours=rng.uniform(8, 18))
    principal = _grow(d, rng, grown, resolve_at, first_month=2 if d.source == "health" else 1)
    # Costs and reminders follow the reported debt: the BIK maximum is fixed when the gate opens.
    _reminders_and_supply(d, rng, o, worthy)
    _costs(d, rng, o)
    _resolve(d, rng, resolve_at, principal)
    return worthy


def _signal_episode(h: Household, rng: random.Random, hist: History, around: date, again: bool) -> None:
    source = _weighted(rng, SIGNAL_WEIGHTS)
    d = hist.debt(h, source)
    worthy = signal_worthy(d, rng, open_debt(d, rng, around))
    if rng.random() < P_SECOND:
        second = hist.debt(h, _weighted(rng, SIGNAL_WEIGHTS, exclude=source))
        o = open_debt(second, rng, around + timedelta(days=rng.randrange(0, 25)))
        (signal_worthy if rng.random() < 0.6 else paid_late)(second, rng, o)
    if again and rng.random() < P_AGAIN:
        # Mostly a new episode after the first one was settled, as the monitor counts repeats.
        settled = d.facts.settled_at if d.facts is not None else None
        later = ((settled or worthy) + timedelta(days=rng.randrange(10, 90))).date()
        _signal_episode(h, rng, hist, later, again=False)


def household_history(h: Household, rng: random.Random, hist: History, start: date, months: int) -> None:
    """Every random episode of one household over `months` months from `start`."""
    for month in range(months):
        first = add_months(start, month)
        for _ in range(2):
            if rng.random() < P_ARREARS * h.risk:
                d = hist.debt(h, _weighted(rng, ARREARS_WEIGHTS))
                o = open_debt(d, rng, first + timedelta(days=rng.randrange(28)))
                late = d.source != "cjib" and rng.random() < P_LATE
                (paid_late if late else paid_in_term)(d, rng, o)
        if rng.random() < P_SIGNAL * h.risk:
            _signal_episode(h, rng, hist, first + timedelta(days=rng.randrange(28)), again=True)
