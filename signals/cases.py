"""Cases (vroegsignaalzaken): which case a signal belongs to, and what a final outcome tells creditors.

Pure. A household's signals within one matching period (a calendar month by
default, or a block of months counted from January) form one case, whose id is
derived from the household key and the period's first day, so every replay and
every worker names it the same. Dates are local days of the Europe/Amsterdam calendar, like every
date rule here (`signals.calendar`).
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, Literal

from schemas.cases_v1 import CreditorFeedback, Eindresultaat, FeedbackStatus, OutcomeRecorded, Werkstatus
from schemas.outputs_v1 import DebtRef, Priority, Signal
from signals.calendar import local_day
from signals.ids import stable_id

__all__ = [
    "NEXT_ACTION_HORIZON_DAYS",
    "NOT_PICKED_UP",
    "PRIORITY_RANK",
    "StoredOutcome",
    "TeamRole",
    "assignment_id",
    "assignment_refusal",
    "case_id_of",
    "conflicting_outcomes",
    "contact_attempt_id",
    "creditor_feedback",
    "decided_feedback",
    "feedback_status",
    "is_due",
    "matching_period",
    "next_action_id",
    "next_action_refusal",
    "outcome_id",
    "same_outcome",
    "signalled_debts",
    "status_change_id",
    "work_status",
]

# Urgent first: the inbox sorts by this rank.
PRIORITY_RANK: Final[dict[Priority, int]] = {"urgent": 0, "high": 1, "normal": 2}

# Outcomes after which the household is not in help: the signal was not picked up (Bgs art. 17).
NOT_PICKED_UP: Final[frozenset[Eindresultaat]] = frozenset(
    {
        "Definitief geen contact kunnen krijgen",
        "Geen reactie na eerder contact",
        "Inwoner heeft zelf al betaald/betalingsregeling getroffen",
        "Inwoner is overleden",
        "Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering",
        "Niet opgepakt: andere reden",
        "Niet opgepakt: herhaalde melding",
        "Niet opgepakt: onterecht signaal",
        "Persoon is geen inwoner (meer) in de gemeente",
    }
)


def matching_period(moment: datetime, months: int = 1) -> tuple[date, date]:
    """First and last day of the matching period holding `moment` (blocks of `months` from January).

    >>> from datetime import UTC
    >>> matching_period(datetime(2026, 9, 17, 23, 59, tzinfo=UTC))
    (datetime.date(2026, 9, 1), datetime.date(2026, 9, 30))
    >>> matching_period(datetime(2026, 9, 30, 22, 30, tzinfo=UTC))  # 00:30 on 1 October in Amsterdam
    (datetime.date(2026, 10, 1), datetime.date(2026, 10, 31))
    >>> matching_period(datetime(2026, 11, 2, tzinfo=UTC), months=3)
    (datetime.date(2026, 10, 1), datetime.date(2026, 12, 31))
    """
    if not 1 <= months <= 12 or 12 % months:
        raise ValueError(f"a matching period of {months} months does not divide the year")
    day = local_day(moment)
    first_month = (day.month - 1) // months * months + 1
    last_month = first_month + months - 1
    return date(day.year, first_month, 1), date(day.year, last_month, monthrange(day.year, last_month)[1])


def case_id_of(household_key: str, period_start: date) -> str:
    """The deterministic id of a household's case in the period starting on `period_start`.

    >>> case_id_of("1011AB-1", date(2026, 9, 1))
    'case-5a8a67ff3fc7b9a96bfdf76d7544c942'
    """
    return stable_id("case", household_key, period_start)


def contact_attempt_id(case_id: str, request_id: str) -> str:
    """Id of a contact attempt: one per submitted form (request id), so a double submit is one attempt."""
    return stable_id("contact", case_id, request_id)


def outcome_id(case_id: str) -> str:
    """Id of the case's final outcome: one per case, so a second outcome can never be stored."""
    return stable_id("outcome", case_id)


def status_change_id(signal_id: str, request_id: str) -> str:
    """Id of one status change of a signal."""
    return stable_id("signal-status", signal_id, request_id)


def feedback_status(resultaat: Eindresultaat) -> FeedbackStatus:
    """Whether an outcome means the household is in help or the signal was not picked up.

    >>> feedback_status("Vervolghulp en/of verwijzing financieel"), feedback_status("Niet opgepakt: andere reden")
    ('in_help', 'not_picked_up')
    """
    return "not_picked_up" if resultaat in NOT_PICKED_UP else "in_help"


def signalled_debts(signals: Iterable[Signal]) -> tuple[DebtRef, ...]:
    """The debts that made the signals (signal-worthy ones): the creditors that signalled, once each."""
    refs = {snap.debt for sig in signals for snap in sig.debts if snap.signal_worthy}
    return tuple(sorted(refs, key=lambda r: (r.source, r.creditor_id, r.debt_ref)))


def creditor_feedback(outcome: OutcomeRecorded) -> list[CreditorFeedback]:
    """One message per signalled debt: only in help or not picked up, never the outcome itself."""
    status = feedback_status(outcome.resultaat)
    return [
        CreditorFeedback(
            feedback_id=stable_id("feedback", outcome.case_id, ref.source, ref.creditor_id, ref.debt_ref),
            debt=ref,
            status=status,
            decided_on=outcome.datum,
        )
        for ref in outcome.debts
    ]


@dataclass(frozen=True)
class StoredOutcome:
    """The outcome a case has in the read model: which event it was and what it says.

    The case sink stores the first outcome event of a case (a conditional insert on the
    case's row) and reads it back; every outcome event carries the case's one outcome id,
    so the id alone does not tell the winner: who, when and what do.
    """

    event_id: str
    actor: str
    recorded_at: datetime
    resultaat: str
    datum: date

    @classmethod
    def of(cls, event: OutcomeRecorded) -> StoredOutcome:
        """What the case's row holds when `event` is the one stored."""
        return cls(event.event_id, event.actor, event.occurred_at, event.resultaat, event.datum)


def same_outcome(stored: StoredOutcome, event: OutcomeRecorded) -> bool:
    """Whether the stored outcome says what `event` says (result and date): a retry, not a rival.

    Two members recording the same result on the same day both get it; another result or
    date is a conflict (409).
    """
    return (stored.resultaat, stored.datum) == (event.resultaat, event.datum)


def decided_feedback(
    stored: Mapping[str, StoredOutcome], events: Iterable[OutcomeRecorded]
) -> list[CreditorFeedback]:
    """The creditors' feedback of the events that are their case's stored outcome, once per feedback id.

    An outcome that lost (its case stored another) gives none; the stored one gives the
    same ids and content every time it is processed again (a retried batch, a replay).
    """
    feedback: dict[str, CreditorFeedback] = {}
    for event in events:
        if stored.get(event.case_id) == StoredOutcome.of(event):
            feedback.update((fb.feedback_id, fb) for fb in creditor_feedback(event))
    return list(feedback.values())


def conflicting_outcomes(stored: Mapping[str, StoredOutcome], events: Iterable[OutcomeRecorded]) -> int:
    """How many of the events lost to another result or date (a rival saying the same is a retry)."""
    return sum(
        (won := stored.get(event.case_id)) is not None and not same_outcome(won, event) for event in events
    )


# Work queue (issue 19): who has a case, when its next action is due, where it stands.

# A team member's role: a coordinator may (re)assign any case of the team; a medewerker may take a
# case nobody has, and hand over or let go of their own.
TeamRole = Literal["medewerker", "coordinator"]
# How far ahead a next action may be planned.
NEXT_ACTION_HORIZON_DAYS: Final = 366


def assignment_id(case_id: str, request_id: str) -> str:
    """Id of one assignment change of a case: one per submitted form (request id)."""
    return stable_id("assign", case_id, request_id)


def next_action_id(case_id: str, request_id: str) -> str:
    """Id of one planning of a case's next action: one per submitted form (request id)."""
    return stable_id("next-action", case_id, request_id)


def assignment_refusal(
    *, actor: str, role: TeamRole, team_members: Collection[str], current: str | None, assignee: str | None
) -> str | None:
    """Why `actor` may not give the case (now with `current`) to `assignee` (None: nobody), in Dutch; None if allowed.

    Only members of the case's team can have it; a coordinator may reassign any case, a
    medewerker may take a case nobody has, and hand over (or let go of) their own.

    >>> team = {"anna", "bram"}
    >>> assignment_refusal(actor="anna", role="medewerker", team_members=team, current=None, assignee="anna")
    >>> assignment_refusal(actor="anna", role="medewerker", team_members=team, current="anna", assignee="bram")
    >>> assignment_refusal(actor="anna", role="coordinator", team_members=team, current="bram", assignee="anna")
    >>> assignment_refusal(actor="anna", role="medewerker", team_members=team, current="bram", assignee="anna")
    'Deze zaak is toegewezen aan een collega; alleen die collega of een coördinator kan haar overdragen.'
    """
    if assignee is not None and assignee not in team_members:
        return "Deze persoon is geen lid van het team van deze zaak."
    if role == "coordinator" or current == actor:
        return None
    if current is None:
        if assignee == actor:
            return None
        return "Een zaak zonder behandelaar kunt u alleen zelf oppakken; een coördinator kan haar toewijzen."
    return (
        "Deze zaak is toegewezen aan een collega; alleen die collega of een coördinator kan haar overdragen."
    )


def next_action_refusal(datum: date, today: date) -> str | None:
    """Why a next action cannot be planned on `datum` (local day), in Dutch; None if it can.

    >>> next_action_refusal(date(2026, 12, 7), date(2026, 12, 7))
    >>> next_action_refusal(date(2026, 12, 6), date(2026, 12, 7))
    'De volgende actie kan niet in het verleden liggen.'
    """
    if datum < today:
        return "De volgende actie kan niet in het verleden liggen."
    if datum > today + timedelta(days=NEXT_ACTION_HORIZON_DAYS):
        return "De volgende actie kan hoogstens een jaar vooruit gepland worden."
    return None


def is_due(next_action_on: date | None, today: date) -> bool:
    """Whether a case's next action is due on the local day `today` (or was due before and still stands).

    >>> is_due(date(2026, 12, 7), date(2026, 12, 7)), is_due(date(2026, 12, 8), date(2026, 12, 7)), is_due(None, date(2026, 12, 7))
    (True, False, False)
    """
    return next_action_on is not None and next_action_on <= today


def work_status(*, has_outcome: bool, attempts: int, reached: bool) -> Werkstatus:
    """Where a case stands: closed by its outcome, else reached, tried, or new.

    >>> work_status(has_outcome=False, attempts=2, reached=False), work_status(has_outcome=True, attempts=0, reached=False)
    ('contact_gezocht', 'afgerond')
    """
    if has_outcome:
        return "afgerond"
    if reached:
        return "bereikt"
    return "contact_gezocht" if attempts else "nieuw"
