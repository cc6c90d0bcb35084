"""Example pipeline outputs for the read-model tests (unit and integration)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from connectors.readmodel import Item
from schemas.outputs_v1 import (
    CostsPermitted,
    CostViolation,
    DebtorContact,
    DebtRef,
    DebtSnapshot,
    DebtView,
    HouseholdOverview,
    Reason,
    ReminderIssued,
    ReminderView,
    Route,
    Signal,
    SignalResolved,
)

HOUSEHOLD = "1011AB-12A"
OTHER = "3511LN-7"
T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
# A creditor's own offset: the read model must keep the instant, not the offset.
CET = timezone(timedelta(hours=1))
RENT = DebtRef(source="housing", creditor_id="woonstad", debt_ref="H-2025-001")
POWER = DebtRef(source="energy", creditor_id="eneco", debt_ref="E-77")
ROUTE = Route(
    team_id="team-centrum",
    buurt_code="BU03630000",
    wijk_code="WK036300",
    gemeente_code="GM0363",
    map_version="2025-01",
    fallback=False,
)


def debt_view(ref: DebtRef, *, principal_cents: int, days_overdue: int, at: datetime = T0) -> DebtView:
    """An open debt with one creditor reminder."""
    return DebtView(
        debt=ref,
        creditor_name=f"{ref.creditor_id} bv",
        principal_cents=principal_cents,
        costs_cents=0,
        paid_cents=1_000,
        due_date=date(2025, 1, 1),
        days_overdue=days_overdue,
        status="open",
        close_reason=None,
        reminders=(ReminderView(kind="free", sent_on=date(2025, 1, 20), term_days=14, issued_by="creditor"),),
        pay_by=date(2025, 2, 3),
        costs_permitted=False,
        last_event_at=at,
    )


def overview(
    as_of: datetime, *debts: DebtView, key: str = HOUSEHOLD, signal_id: str | None = "sig-1"
) -> HouseholdOverview:
    """An overview of these debts with totals that add up."""
    return HouseholdOverview(
        household_key=key,
        as_of=as_of,
        team_id=ROUTE.team_id,
        buurt_code=ROUTE.buurt_code,
        debts=debts,
        total_principal_cents=sum(d.principal_cents for d in debts),
        total_costs_cents=sum(d.costs_cents for d in debts),
        open_creditors=len({d.debt.creditor_id for d in debts}),
        source_kinds=len({d.debt.source for d in debts}),
        open_signal_id=signal_id,
    )


def violation(vid: str = "vio-1") -> CostViolation:
    """Costs charged on the energy debt before pay-by."""
    return CostViolation(
        violation_id=vid,
        household_key=HOUSEHOLD,
        debt=POWER,
        kind="before_pay_by",
        basis="art. 6:96 lid 6 BW: before the end of the term",
        charged_cents=4_000,
        permitted_cents=0,
        occurred_at=T0.astimezone(CET),
    )


def signal(signal_id: str = "sig-1", *, violations: tuple[CostViolation, ...] = ()) -> Signal:
    """A 'multiple' signal for HOUSEHOLD."""
    return Signal(
        signal_id=signal_id,
        household_key=HOUSEHOLD,
        route=ROUTE,
        priority="high",
        kinds=("multiple",),
        reasons=(Reason(code="multiple", nl="Twee schuldeisers", en="Two creditors"),),
        debts=(
            DebtSnapshot(
                debt=RENT,
                creditor_name="woonstad bv",
                principal_cents=95_000,
                costs_cents=0,
                days_overdue=45,
                status="open",
                signal_worthy=True,
            ),
        ),
        total_cents=95_000,
        violations=violations,
        raised_at=T0.astimezone(CET),
    )


def resolved(signal_id: str = "sig-1", at: datetime = T0 + timedelta(days=40)) -> SignalResolved:
    """The resolution of a signal."""
    return SignalResolved(
        resolution_id=f"res-{signal_id}",
        signal_id=signal_id,
        household_key=HOUSEHOLD,
        team_id=ROUTE.team_id,
        resolved_at=at,
    )


def reminder() -> ReminderIssued:
    """A free reminder on the energy debt."""
    return ReminderIssued(
        reminder_id="rem-1",
        household_key=HOUSEHOLD,
        debt=POWER,
        contact=DebtorContact(
            name="J. de Vries",
            phone="+31612345678",
            email=None,
            street="Damrak",
            house="12A",
            postcode="1011AB",
            city="Amsterdam",
        ),
        amount_cents=12_345,
        issued_at=T0,
        pay_by=date(2025, 3, 15),
    )


def costs_permitted() -> CostsPermitted:
    """Costs permitted on the energy debt after the reminder's term."""
    return CostsPermitted(
        decision_id="dec-1",
        household_key=HOUSEHOLD,
        debt=POWER,
        reminder_id="rem-1",
        principal_cents=12_345,
        max_costs_cents=4_000,
        permitted_at=T0 + timedelta(days=14),
    )


def main_overview() -> HouseholdOverview:
    """HOUSEHOLD with rent and energy arrears; its `as_of` in a creditor's offset."""
    return overview(
        T0.astimezone(CET),
        debt_view(RENT, principal_cents=95_000, days_overdue=45),
        debt_view(POWER, principal_cents=12_345, days_overdue=31, at=T0.astimezone(CET)),
    )


def other_overview() -> HouseholdOverview:
    """OTHER with one young rent debt and no signal."""
    return overview(T0, debt_view(RENT, principal_cents=50_000, days_overdue=5), key=OTHER, signal_id=None)


def mixed_batch() -> list[Item]:
    """One of every output, with distinct ids, for two households."""
    return [
        main_overview(),
        other_overview(),
        signal("sig-1", violations=(violation("vio-1"),)),
        signal("sig-0"),
        resolved("sig-0"),
        reminder(),
        costs_permitted(),
        violation("vio-2"),
    ]
