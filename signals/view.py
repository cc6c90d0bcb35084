"""The integrated debt overview ("integraal schuldenoverzicht") of one household, for teams and tools."""

from __future__ import annotations

from datetime import datetime, timedelta

from schemas.outputs_v1 import DebtView, HouseholdOverview, ReminderView, Route
from signals.figures import DebtAt, costs_cents, debt_at
from signals.policy import Policy
from signals.reminders import gate_deadline
from signals.state import HouseholdState


def build_overview(
    state: HouseholdState, route: Route, policy: Policy, at: datetime | None = None
) -> HouseholdOverview:
    """The household's overview as of `at` (default: the household's own clock)."""
    when = at or state.as_of
    figures = [debt_at(d, when) for d in state.debts]
    unsettled = [f.debt for f in figures if not f.settled]
    return HouseholdOverview(
        household_key=state.household_key,
        as_of=when,
        team_id=route.team_id,
        buurt_code=route.buurt_code,
        debts=tuple(_debt_view(f, policy) for f in figures),
        total_principal_cents=sum(f.principal_cents for f in figures),
        total_costs_cents=sum(costs_cents(d, when) for d in state.debts),
        open_creditors=len({(d.source, d.creditor_id) for d in unsettled}),
        source_kinds=len({d.source for d in unsettled}),
        open_signal_id=state.open_signal.signal_id if state.open_signal else None,
    )


def _debt_view(f: DebtAt, policy: Policy) -> DebtView:
    debt, at, status = f.debt, f.at, f.status
    last_status = (
        next((s for s in reversed(debt.statuses) if s.at <= at), None) if status == "closed" else None
    )
    gate = gate_deadline(debt, policy, at)
    return DebtView(
        debt=debt.ref,
        creditor_name=debt.creditor_name,
        principal_cents=f.principal_cents,
        costs_cents=costs_cents(debt, at),
        paid_cents=sum(p.cents for p in debt.payments if p.at <= at),
        due_date=f.terms.due_date if f.terms else None,
        days_overdue=f.days_overdue,
        status=status,
        close_reason=last_status.close_reason if last_status else None,
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
