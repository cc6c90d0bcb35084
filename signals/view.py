"""The integrated debt overview ("integraal schuldenoverzicht") of one household, for teams and tools."""

from __future__ import annotations

from datetime import datetime, timedelta

from schemas.outputs_v1 import DebtView, HouseholdOverview, ReminderView, Route
from signals.overview import (
    DebtState,
    HouseholdState,
    costs_cents,
    current_terms,
    days_overdue,
    open_creditor_count,
    principal_cents,
    source_kind_count,
    status_at,
    total_costs_cents,
    total_principal_cents,
)
from signals.policy import Policy
from signals.reminders import gate_deadline


def build_overview(
    state: HouseholdState, route: Route, policy: Policy, at: datetime | None = None
) -> HouseholdOverview:
    """The household's overview as of `at` (default: the household's own clock)."""
    when = at or state.as_of
    return HouseholdOverview(
        household_key=state.household_key,
        as_of=when,
        team_id=route.team_id,
        buurt_code=route.buurt_code,
        debts=tuple(_debt_view(d, policy, when) for d in state.debts),
        total_principal_cents=total_principal_cents(state, when),
        total_costs_cents=total_costs_cents(state, when),
        open_creditors=open_creditor_count(state, when),
        source_kinds=source_kind_count(state, when),
        open_signal_id=state.open_signal.signal_id if state.open_signal else None,
    )


def _debt_view(debt: DebtState, policy: Policy, at: datetime) -> DebtView:
    terms = current_terms(debt, at)
    status = status_at(debt, at)
    last_status = next((s for s in reversed(debt.statuses) if s.at <= at), None)
    gate = gate_deadline(debt, policy, at)
    return DebtView(
        debt=debt.ref,
        creditor_name=debt.creditor_name,
        principal_cents=principal_cents(debt, at),
        costs_cents=costs_cents(debt, at),
        paid_cents=sum(p.cents for p in debt.payments if p.at <= at),
        due_date=terms.due_date if terms else None,
        days_overdue=days_overdue(debt, at),
        status=status,
        close_reason=last_status.close_reason if last_status and status == "closed" else None,
        reminders=tuple(
            ReminderView(kind=r.kind, sent_on=r.sent_on, term_days=r.term_days, issued_by=r.issued_by)
            for r in debt.reminders
            if r.at <= at
        ),
        # The last day to pay without costs: the gate opens at the start of the next day.
        pay_by=(gate[0] - timedelta(days=1)).date() if gate else None,
        costs_permitted=debt.gate == "permitted",
        last_event_at=debt.last_event_at,
    )
