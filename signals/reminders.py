"""The free reminder and the cost gate per debt (art. 6:96 BW, the "14-dagenbrief").

Which free reminder counts: the earliest legally valid pay-by date of all free reminders
of a debt, the creditor's or the pipeline's. A creditor's free reminder is valid when it
gives at least the source's term (14 days by law) and was sent on or after the due date;
an earlier valid letter is what the debtor actually received, so the law lets costs
start from it. A creditor letter with a shorter term never opens the gate, so the
pipeline still issues its own reminder for that debt.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from schemas.outputs_v1 import CostsPermitted, CostViolation, Effect, ReminderIssued, ViolationKind
from signals.figures import (
    current_terms,
    is_settled,
    pause_intervals,
    principal_cents,
    reminder_pay_by,
    shifted_pay_by,
)
from signals.ids import stable_id
from signals.overview import day_start, insert_fact
from signals.policy import Policy
from signals.state import DebtKey, DebtState, HouseholdState, ReminderFact

__all__ = [
    "Deadline",
    "bik_costs_cents",
    "cost_gate_deadlines",
    "decide_gate",
    "gate_deadline",
    "issue_free_reminder",
    "judge_charge",
    "max_costs_cents",
]

RANK_GATE, RANK_CHARGE, RANK_EVALUATE = 0, 1, 2


class Deadline(NamedTuple):
    """A time at which re-evaluation may change something; sorts by time, then rank."""

    at: datetime
    rank: int
    debt_key: DebtKey | tuple[()]
    ref: str


def _round_cents(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def bik_costs_cents(principal_cents: int, policy: Policy) -> int:
    """Maximum extrajudicial collection costs on a principal by the BIK scale (0 when nothing is owed).

    >>> p = Policy.default()
    >>> [bik_costs_cents(euros * 100, p) // 100 for euros in (100, 2_500, 5_000, 10_000, 200_000)]
    [40, 375, 625, 875, 2775]
    >>> bik_costs_cents(266_700, p), bik_costs_cents(100_000_000, p), bik_costs_cents(0, p)
    (39170, 677500, 0)
    """
    if principal_cents <= 0:
        return 0
    scale, remaining, total = policy.bik, Decimal(principal_cents), Decimal(0)
    for bracket in scale.brackets:
        portion = remaining if bracket.width_cents is None else min(remaining, Decimal(bracket.width_cents))
        total += portion * bracket.percent / 100
        remaining -= portion
        if remaining <= 0:
            break
    return min(max(_round_cents(total), scale.minimum_cents), scale.maximum_cents)


def _original_fine_cents(debt: DebtState) -> int:
    """The fine as first reported (the debt.opened amount); the increase is a share of that."""
    openings = {t.event_id for t in debt.terms if t.opening}
    amounts = [a for a in debt.amounts if a.event_id in openings] or list(debt.amounts)
    return amounts[0].amount_cents if amounts else 0


def max_costs_cents(debt: DebtState, policy: Policy, at: datetime, principal: int | None = None) -> int:
    """Costs a creditor may charge: BIK on the principal, or for CJIB the increase on the original fine."""
    if debt.source == "cjib":
        return _round_cents(Decimal(_original_fine_cents(debt)) * policy.cjib_increase_percent / 100)
    return bik_costs_cents(principal_cents(debt, at) if principal is None else principal, policy)


def _valid_free_reminders(debt: DebtState, policy: Policy, at: datetime | None) -> list[ReminderFact]:
    if not debt.reminders:
        return []
    term = policy.rule(debt.source).reminder_term_days
    terms = current_terms(debt, at)
    return [
        r
        for r in debt.reminders
        if r.kind == "free"
        and (at is None or r.at <= at)
        and (
            r.issued_by == "pipeline"
            or (r.term_days >= term and (terms is None or r.sent_on >= terms.due_date))
        )
    ]


def gate_deadline(
    debt: DebtState, policy: Policy, at: datetime | None = None
) -> tuple[datetime, ReminderFact] | None:
    """When costs become permitted: the end of the earliest valid pay-by day, and its reminder."""
    valid = _valid_free_reminders(debt, policy, at)
    if not valid:
        return None
    pauses = pause_intervals(debt)
    candidates = [
        (day_start(shifted_pay_by(r.sent_on, r.term_days, pauses) + timedelta(days=1)), r) for r in valid
    ]
    return min(candidates, key=lambda c: (c[0], c[1].order()))


def cost_gate_deadlines(debt: DebtState, policy: Policy) -> list[Deadline]:
    """The debt's pending gate decision and charges still to judge."""
    deadlines = [
        Deadline(c.at, RANK_CHARGE, debt.key, c.event_id)
        for c in debt.charges
        if c.event_id not in debt.judged_charges
    ]
    gate = gate_deadline(debt, policy) if debt.gate == "pending" else None
    if gate is not None:
        deadlines.append(Deadline(gate[0], RANK_GATE, debt.key, "gate"))
    return deadlines


def issue_free_reminder(
    state: HouseholdState, key: DebtKey, *, policy: Policy, at: datetime, sent_at: datetime | None = None
) -> tuple[HouseholdState, tuple[Effect, ...]]:
    """Issue the pipeline's free reminder for a newly overdue debt that has no valid free reminder yet.

    `sent_at` is when it really goes out (stream time, for an event that arrived
    late): the debtor's term runs from then, never from a moment already past.
    """
    sent = max(at, sent_at) if sent_at is not None else at
    debt = state.debt(key)
    if debt is None or is_settled(debt, at) or _valid_free_reminders(debt, policy, at):
        return state, ()
    term = policy.rule(debt.source).reminder_term_days
    reminder_id = stable_id("reminder", state.household_key, key, at)
    fact = ReminderFact(
        at=at,
        event_id=reminder_id,
        kind="free",
        sent_on=sent.date(),
        term_days=term,
        issued_by="pipeline",
        amount_cents=principal_cents(debt, at),
    )
    debt = debt.model_copy(update={"reminders": insert_fact(debt.reminders, fact)})
    issued = ReminderIssued(
        reminder_id=reminder_id,
        household_key=state.household_key,
        debt=debt.ref,
        contact=debt.contact,
        amount_cents=fact.amount_cents,
        issued_at=sent,
        pay_by=reminder_pay_by(debt, fact),
    )
    return state.with_debt(debt), (issued,)


def decide_gate(
    state: HouseholdState, key: DebtKey, *, policy: Policy, at: datetime
) -> tuple[HouseholdState, tuple[Effect, ...], int]:
    """At pay-by: permit costs on an unpaid debt, or record the costs a settled debt avoided."""
    debt = state.debt(key)
    gate = gate_deadline(debt, policy) if debt is not None and debt.gate == "pending" else None
    if debt is None or gate is None:
        return state, (), 0
    reminder = gate[1]
    if is_settled(debt, at):
        avoided = max_costs_cents(debt, policy, at, principal=reminder.amount_cents)
        update = {"gate": "avoided", "gate_at": at, "costs_avoided_cents": avoided}
        return state.with_debt(debt.model_copy(update=update)), (), avoided
    maximum = max_costs_cents(debt, policy, at)
    permitted = CostsPermitted(
        decision_id=stable_id("costs", state.household_key, key, at),
        household_key=state.household_key,
        debt=debt.ref,
        reminder_id=reminder.event_id if reminder.issued_by == "pipeline" else None,
        principal_cents=principal_cents(debt, at),
        max_costs_cents=maximum,
        permitted_at=at,
    )
    update = {"gate": "permitted", "gate_at": at, "max_costs_cents": maximum}
    return state.with_debt(debt.model_copy(update=update)), (permitted,), 0


def judge_charge(
    state: HouseholdState, key: DebtKey, charge_id: str
) -> tuple[HouseholdState, tuple[Effect, ...]]:
    """Judge a costs.charged once its time is final: before the gate opened, or above the maximum."""
    debt = state.debt(key)
    charge = next((c for c in debt.charges if c.event_id == charge_id), None) if debt else None
    if debt is None or charge is None or charge_id in debt.judged_charges:
        return state, ()
    debt = debt.model_copy(update={"judged_charges": tuple(sorted((*debt.judged_charges, charge_id)))})
    state = state.with_debt(debt)
    kind: ViolationKind
    if debt.gate == "permitted" and debt.gate_at is not None and debt.gate_at <= charge.at:
        cumulative = sum(c.cents for c in debt.charges if c.order() <= charge.order())
        maximum = debt.max_costs_cents or 0
        if cumulative <= maximum:
            return state, ()
        kind, charged, permitted = "above_scale", cumulative, maximum
    else:
        # Costs on a debt whose gate never opened (not yet, or settled in time) were never permitted.
        kind, charged, permitted = "before_pay_by", charge.cents, 0
    violation = CostViolation(
        violation_id=stable_id("violation", state.household_key, key, charge_id, kind),
        household_key=state.household_key,
        debt=debt.ref,
        kind=kind,
        charged_cents=charged,
        permitted_cents=permitted,
        occurred_at=charge.at,
    )
    update = {
        "violations": (*state.violations, violation),
        "pending_violations": (*state.pending_violations, violation),
    }
    return state.model_copy(update=update), (violation,)
