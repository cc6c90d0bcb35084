"""One readable line per output, for the demo and for operators tailing the topics."""

from __future__ import annotations

from schemas.outputs_v1 import (
    CostsPermitted,
    CostViolation,
    HouseholdOverview,
    ReminderIssued,
    Signal,
    SignalResolved,
)
from signals.money import eur_nl
from signals.routing import RoutingTable


def describe_output(
    output: Signal | SignalResolved | ReminderIssued | CostsPermitted | CostViolation | HouseholdOverview,
    routing: RoutingTable,
) -> str:
    """'SIGNAL 1011AB-1 -> Buurtteam Centrum [high] multiple: ...' and similar lines."""
    if isinstance(output, Signal):
        team = _team_name(routing, output.route.team_id)
        why = "; ".join(r.en for r in output.reasons)
        kinds = ",".join(output.kinds)
        return (
            f"{output.raised_at:%Y-%m-%d} SIGNAL    {output.household_key:<14} -> {team} "
            f"[{output.priority}] {kinds}: {why} (total {eur_nl(output.total_cents)})"
        )
    if isinstance(output, SignalResolved):
        return f"{output.resolved_at:%Y-%m-%d} RESOLVED  {output.household_key:<14} every debt settled"
    if isinstance(output, ReminderIssued):
        return (
            f"{output.issued_at:%Y-%m-%d} REMINDER  {output.household_key:<14} free reminder for "
            f"{output.debt.source} {output.debt.debt_ref} {eur_nl(output.amount_cents)}, pay by {output.pay_by}"
        )
    if isinstance(output, CostsPermitted):
        return (
            f"{output.permitted_at:%Y-%m-%d} COSTS OK  {output.household_key:<14} {output.debt.source} "
            f"{output.debt.debt_ref} unpaid after the free reminder: up to {eur_nl(output.max_costs_cents)}"
        )
    if isinstance(output, CostViolation):
        return (
            f"{output.occurred_at:%Y-%m-%d} VIOLATION {output.household_key:<14} {output.debt.source} "
            f"{output.debt.debt_ref} charged {eur_nl(output.charged_cents)} ({output.kind.replace('_', ' ')}; "
            f"permitted {eur_nl(output.permitted_cents)})"
        )
    return f"{output.as_of:%Y-%m-%d} OVERVIEW  {output.household_key}"


def _team_name(routing: RoutingTable, team_id: str) -> str:
    team = routing.teams.get(team_id)
    return team.name if team is not None else team_id
