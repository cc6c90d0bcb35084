"""The integrated debt overview ("integraal schuldenoverzicht") of one household, for teams and tools."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from schemas.outputs_v1 import DebtView, EpisodeView, HouseholdOverview, ReminderView, Route
from signals.calendar import local_day
from signals.figures import DebtAt, costs_cents, debt_at, episode_of, episode_starts, settled_since
from signals.policy import Policy
from signals.reminders import gate_deadline
from signals.state import DebtState, HouseholdState, ReminderFact


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


def _reminder_views(reminders: list[ReminderFact]) -> tuple[ReminderView, ...]:
    return tuple(
        ReminderView(kind=r.kind, sent_on=r.sent_on, term_days=r.term_days, issued_by=r.issued_by)
        for r in reminders
    )


def _episodes(debt: DebtState, at: datetime) -> tuple[tuple[EpisodeView, ...], datetime | None]:
    """Earlier arrears episodes of the debt, kept apart, and the start of the current one."""
    starts = episode_starts(debt, at)
    views = []
    for number, (start, end) in enumerate(itertools.pairwise(starts), start=1):
        views.append(
            EpisodeView(
                number=number,
                started_at=start,
                settled_at=settled_since(debt, end - timedelta(microseconds=1)),
                costs_cents=sum(c.cents for c in debt.charges if episode_of(starts, c.at) == start),
                reminders=_reminder_views([r for r in debt.reminders if episode_of(starts, r.at) == start]),
            )
        )
    return tuple(views), (starts[-1] if starts else None)


def _debt_view(f: DebtAt, policy: Policy) -> DebtView:
    debt, at, status = f.debt, f.at, f.status
    last_status = (
        next((s for s in reversed(debt.statuses) if s.at <= at), None) if status == "closed" else None
    )
    gate = gate_deadline(debt, policy, at)
    earlier, current = _episodes(debt, at)
    starts = episode_starts(debt, at)
    decision = debt.gate_of(current) if current is not None else None
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
        reminders=_reminder_views(
            [r for r in debt.reminders if r.at <= at and episode_of(starts, r.at) == current]
        ),
        # The last day to pay without costs: the gate opens at the start of the next local day.
        pay_by=local_day(gate[0]) - timedelta(days=1) if gate else None,
        costs_permitted=decision is not None and decision.outcome == "permitted" and decision.at <= at,
        last_event_at=debt.last_event_at,
        episode=len(earlier) + 1,
        earlier_episodes=earlier,
    )
