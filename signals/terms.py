"""Which free reminders count, and the day their term ends (art. 6:96 lid 6 BW, the "14-dagenbrief").

- A reminder counts only when it is a free reminder sent *after* the debt is in default (the day
  after the due date) and within the current arrears episode.
- The term starts on the day after receipt (HR 25-11-2016, ECLI:NL:HR:2016:2704): by post receipt
  is presumed on the second day after sending (Sundays, Mondays and public holidays not counted),
  by e-mail or portal on the day of sending (`signals.calendar.presumed_receipt`).
- A term whose last day is a Saturday, Sunday or public holiday runs on to the next working day
  (Algemene termijnenwet art. 1; setting `extend_term_to_working_day`).
- A creditor's letter that names a pay-by date earlier than the legal last day, or gives fewer days
  than the source's term, has no effect at all: it never opens the gate, and a later letter does
  not repair it (a new correct letter opens its own term).
- Days on which collection was paused during the term are added to it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from signals.calendar import day_start, local_day, next_working_day, presumed_receipt
from signals.figures import current_terms, episode_of, episode_starts, pause_intervals, shifted_pay_by
from signals.memo import per_object_and_policy
from signals.policy import Policy
from signals.state import DebtState, ReminderFact, TermsFact

__all__ = [
    "episode_terms",
    "gate_of_episode",
    "is_in_default",
    "legal_last_day",
    "reminder_last_day",
    "valid_free_reminders",
]


def _extend(day: date, policy: Policy) -> date:
    if not policy.extend_term_to_working_day:
        return day
    return next_working_day(
        day, good_friday=policy.term_extends_over_good_friday, extra=policy.atw_equated_days
    )


def _receipt(reminder: ReminderFact, policy: Policy) -> date:
    return presumed_receipt(reminder.sent_on, reminder.channel, good_friday=policy.receipt_skips_good_friday)


def legal_last_day(reminder: ReminderFact, term_days: int, policy: Policy) -> date:
    """The earliest last day the law allows a letter sent like this one to name (pauses aside)."""
    return _extend(_receipt(reminder, policy) + timedelta(days=term_days), policy)


def reminder_last_day(debt: DebtState, reminder: ReminderFact, policy: Policy) -> date:
    """The last day to pay without costs: the letter's own date or term, paused days added, run on."""
    received = _receipt(reminder, policy)
    named = reminder.pay_by if reminder.pay_by is not None else received + timedelta(days=reminder.term_days)
    shifted = shifted_pay_by(received, (named - received).days, pause_intervals(debt))
    # A date the letter names is the creditor's own promise (at least the legal last day, which is
    # already a working day); a term in days is a legal term and runs on past a weekend or holiday.
    return shifted if reminder.pay_by is not None else _extend(shifted, policy)


def episode_terms(debt: DebtState, episode: datetime, at: datetime) -> TermsFact | None:
    """The due date and amounts that applied at `at` within the episode (or its first ones)."""
    terms = current_terms(debt, at)
    if terms is not None and terms.at >= episode:
        return terms
    return next((t for t in debt.terms if t.at >= episode), terms)


def is_in_default(terms: TermsFact | None, at: datetime) -> bool:
    """The debtor is in default: `at` falls on a local day after the due date."""
    return terms is not None and local_day(at) > terms.due_date


def _counts(debt: DebtState, r: ReminderFact, episode: datetime, policy: Policy) -> bool:
    if r.kind != "free" or not is_in_default(episode_terms(debt, episode, r.at), r.at):
        return False
    if r.issued_by == "pipeline":
        return True
    term = policy.rule(debt.source).reminder_term_days
    if r.pay_by is not None:
        return r.pay_by >= legal_last_day(r, term, policy)
    return r.term_days >= term


def valid_free_reminders(
    debt: DebtState, policy: Policy, episode: datetime, at: datetime | None = None
) -> list[ReminderFact]:
    """The free reminders of one episode (known by `at`) that have legal effect."""
    return [r for r, _ in _gates_by_episode(debt, policy).get(episode, ()) if at is None or r.at <= at]


def gate_of_episode(
    debt: DebtState, policy: Policy, episode: datetime, at: datetime | None = None
) -> tuple[datetime, ReminderFact] | None:
    """When costs become permitted in an episode: the start of the local day after the earliest
    valid term's last day (Europe/Amsterdam, as a UTC instant), and that term's reminder."""
    candidates = [
        (gate, r) for r, gate in _gates_by_episode(debt, policy).get(episode, ()) if at is None or r.at <= at
    ]
    return min(candidates, key=lambda c: (c[0], c[1].order())) if candidates else None


@per_object_and_policy
def _gates_by_episode(
    debt: DebtState, policy: Policy
) -> dict[datetime | None, tuple[tuple[ReminderFact, datetime], ...]]:
    """Per episode, its valid free reminders (in log order) with the gate each one's term opens.

    Whether a reminder counts and when its term ends do not depend on the time asked about
    (only on the debt's facts), so `at` merely filters these; read-only, shared by every caller.
    """
    starts = episode_starts(debt)
    found: dict[datetime | None, list[tuple[ReminderFact, datetime]]] = {}
    for r in debt.reminders:
        episode = episode_of(starts, r.at)
        if episode is not None and _counts(debt, r, episode, policy):
            gate = day_start(reminder_last_day(debt, r, policy) + timedelta(days=1))
            found.setdefault(episode, []).append((r, gate))
    return {episode: tuple(entries) for episode, entries in found.items()}
