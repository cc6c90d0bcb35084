"""Example signals and case events for the team-workflow tests (unit and integration)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from schemas.cases_v1 import ContactAttemptRecorded, OutcomeRecorded, OverviewViewed, SignalStatusChanged
from schemas.outputs_v1 import DebtRef, DebtSnapshot, Priority, Reason, Route, Signal
from signals.cases import case_id_of, contact_attempt_id, matching_period, outcome_id, status_change_id

HOUSEHOLD = "1011AB-1"
OTHER = "1102LM-3"
TEAM = "buurtteam-centrum"
SEPT = datetime(2026, 9, 1, 23, 59, tzinfo=UTC)
RENT = DebtRef(source="housing", creditor_id="27123456", debt_ref="HUUR-1001")
POWER = DebtRef(source="energy", creditor_id="33012345", debt_ref="E-77001")
ROUTE = Route(
    team_id=TEAM,
    buurt_code="BU03630000",
    wijk_code="WK036300",
    gemeente_code="GM0363",
    map_version="test",
    fallback=False,
)


def snapshot(
    ref: DebtRef, *, worthy: bool = True, principal_cents: int = 95_000, days: int = 45
) -> DebtSnapshot:
    """One debt in a signal."""
    return DebtSnapshot(
        debt=ref,
        creditor_name=f"creditor {ref.creditor_id}",
        principal_cents=principal_cents,
        costs_cents=0,
        days_overdue=days,
        status="open",
        signal_worthy=worthy,
    )


def signal(
    signal_id: str,
    at: datetime = SEPT,
    *,
    household: str = HOUSEHOLD,
    priority: Priority = "high",
    debts: tuple[DebtSnapshot, ...] = (snapshot(RENT), snapshot(POWER, worthy=False, principal_cents=31_000)),
    route: Route = ROUTE,
) -> Signal:
    """A signal of a household at a time."""
    return Signal(
        signal_id=signal_id,
        household_key=household,
        route=route,
        priority=priority,
        kinds=("multiple",) if len(debts) > 1 else ("single",),
        reasons=(Reason(code="housing_arrears", nl="Huurachterstand", en="Rent arrears"),),
        debts=debts,
        total_cents=sum(d.principal_cents + d.costs_cents for d in debts),
        violations=(),
        raised_at=at,
    )


def case_of(at: datetime = SEPT, household: str = HOUSEHOLD) -> str:
    """The case id of a household's signal at `at` (monthly periods)."""
    return case_id_of(household, matching_period(at)[0])


def _who(at: datetime, household: str) -> dict[str, object]:
    return {"household_key": household, "team_id": TEAM, "actor": "centrum-01", "occurred_at": at}


def attempt(
    request: str, at: datetime, *, household: str = HOUSEHOLD, case_at: datetime = SEPT
) -> ContactAttemptRecorded:
    """A phone call that did not reach anyone."""
    case_id = case_of(case_at, household)
    return ContactAttemptRecorded(
        event_id=contact_attempt_id(case_id, request),
        case_id=case_id,
        soort="Telefoon",
        bereikt=False,
        datum=at.date(),
        dagdeel="Ochtend",
        **_who(at, household),
    )


def outcome(
    resultaat: str, at: datetime, *, household: str = HOUSEHOLD, case_at: datetime = SEPT
) -> OutcomeRecorded:
    """The case's outcome (the event id is the case's, so two outcomes share it)."""
    case_id = case_of(case_at, household)
    return OutcomeRecorded(
        event_id=outcome_id(case_id) if resultaat.startswith("Vervolghulp") else outcome_id(case_id) + "-b",
        case_id=case_id,
        resultaat=resultaat,
        datum=at.date(),
        debts=(RENT,),
        **_who(at, household),
    )


def status(signal_id: str, value: str, at: datetime, request: str) -> SignalStatusChanged:
    """A status change of one of HOUSEHOLD's September signals."""
    return SignalStatusChanged(
        event_id=status_change_id(signal_id, request),
        case_id=case_of(),
        signal_id=signal_id,
        status=value,
        **_who(at, HOUSEHOLD),
    )


def viewed(event_id: str, at: datetime, household: str = HOUSEHOLD) -> OverviewViewed:
    """A read of the overview."""
    return OverviewViewed(event_id=event_id, case_id=case_of(SEPT, household), **_who(at, household))


def a_month(start: date) -> tuple[date, date]:
    """The calendar month of a day."""
    return matching_period(datetime.combine(start, datetime.min.time(), tzinfo=UTC))


def later(at: datetime, days: int) -> datetime:
    """`at` plus whole days."""
    return at + timedelta(days=days)
