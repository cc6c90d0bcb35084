"""The free reminder and the cost gate per debt and arrears episode (art. 6:96 BW, the "14-dagenbrief").

Which letters count and when their term ends is `signals.terms`. Here:
- the pipeline issues its own free reminder once a debt is in default and its episode has no valid
  free reminder (the creditor sends it that day at the earliest, by post);
- at the start of the local day after the earliest valid term's last day the gate of the episode is
  decided once: costs permitted (BIK scale, plus VAT for a creditor that cannot deduct it; CJIB: the
  first raise of its fine regime), or costs avoided when the debt was settled in time;
- every costs.charged is judged once its time is final: before the gate (art. 6:96 lid 6 BW), above
  the BIK scale, or for CJIB fines above or before the raise the fine regime allows (WAHV art.
  23/24), or before the CJIB's free reminder while its pilot runs (policy, not law).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from schemas.outputs_v1 import (
    VIOLATION_BASIS,
    CostsPermitted,
    CostViolation,
    Effect,
    ReminderIssued,
    ViolationBasis,
    ViolationKind,
)
from signals.calendar import day_start, local_day
from signals.figures import episode_of, episode_starts, is_settled, principal_cents
from signals.ids import stable_id
from signals.memo import per_object_and_policy
from signals.overview import insert_fact
from signals.policy import FineRegime, Policy
from signals.state import (
    DebtKey,
    DebtState,
    GateDecision,
    HouseholdState,
    MoneyFact,
    ReminderFact,
    copy_with,
    made,
)
from signals.terms import (
    episode_terms,
    gate_of_episode,
    is_in_default,
    reminder_last_day,
    valid_free_reminders,
)

__all__ = [
    "RANK_CHARGE",
    "RANK_EVALUATE",
    "RANK_GATE",
    "RANK_REMIND",
    "Deadline",
    "bik_costs_cents",
    "cost_gate_deadlines",
    "decide_gate",
    "fine_raise_caps_cents",
    "gate_deadline",
    "issue_free_reminder",
    "judge_charge",
    "max_costs_cents",
    "vat_cents",
]

RANK_REMIND, RANK_GATE, RANK_CHARGE, RANK_EVALUATE = 0, 1, 2, 3
# The smallest step of a datetime: "before `at`" is "at or before `at - _INSTANT`".
_INSTANT = timedelta(microseconds=1)


class Deadline(NamedTuple):
    """A time at which re-evaluation may change something; sorts by time, then rank."""

    at: datetime
    rank: int
    debt_key: DebtKey | tuple[()]
    ref: str


class _Verdict(NamedTuple):
    kind: ViolationKind
    basis: ViolationBasis
    charged_cents: int
    permitted_cents: int


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


def vat_cents(debt: DebtState, costs_cents: int, policy: Policy) -> int:
    """VAT a creditor that cannot deduct it may add to the BIK amount (BIK art. 2 lid 3); else 0."""
    if debt.source == "cjib" or not policy.vat_on_costs(debt.source, debt.creditor_id):
        return 0
    return _round_cents(Decimal(costs_cents) * policy.vat_percent / 100)


def fine_raise_caps_cents(fine_cents: int, regime: FineRegime) -> list[int]:
    """The total raise allowed after each step: each step raises the amount then due by its percent.

    >>> from signals.policy import FineRegime
    >>> fine_raise_caps_cents(10_000, FineRegime())  # WAHV: EUR 100 -> 150 -> 300
    [5000, 20000]
    """
    due, caps = Decimal(fine_cents), []
    for step in regime.raises:
        due = due * (100 + step.percent) / 100
        caps.append(_round_cents(due) - fine_cents)
    return caps


def _fine_regime(
    debt: DebtState, policy: Policy, episode: datetime
) -> tuple[FineRegime, ViolationBasis] | None:
    kinds = [t.fine_kind for t in debt.terms if t.at >= episode and t.fine_kind is not None]
    kinds = kinds or [t.fine_kind for t in debt.terms if t.fine_kind is not None]
    if kinds and kinds[0] == "wahv":
        return policy.cjib_wahv, "WAHV art. 23/24: above the raise"
    if policy.cjib_other is not None:
        return policy.cjib_other, "CJIB fine regime (configured): above the raise"
    return None  # fine_kind other without a configured regime: never silently the WAHV cap


def _original_fine_cents(debt: DebtState, episode: datetime) -> int:
    """The fine as reported when the episode opened (the debt.opened amount); raises are shares of it."""
    openings = {t.event_id for t in debt.terms if t.opening and t.at >= episode}
    amounts = [a for a in debt.amounts if a.event_id in openings] or [
        a for a in debt.amounts if a.at >= episode
    ]
    return amounts[0].amount_cents if amounts else 0


def max_costs_cents(
    debt: DebtState, policy: Policy, at: datetime, principal: int | None = None
) -> int | None:
    """Costs a creditor may charge once the gate opens: BIK (+ VAT), or CJIB the first raise (None: unjudged)."""
    episode = episode_of(episode_starts(debt, at), at) or at
    if debt.source == "cjib":
        found = _fine_regime(debt, policy, episode)
        if found is None or not found[0].raises:
            return None
        return fine_raise_caps_cents(_original_fine_cents(debt, episode), found[0])[0]
    bik = bik_costs_cents(principal_cents(debt, at) if principal is None else principal, policy)
    return bik + vat_cents(debt, bik, policy)


def _current_episode(debt: DebtState, at: datetime | None) -> datetime | None:
    starts = episode_starts(debt, at)
    return starts[-1] if starts else None


def gate_deadline(
    debt: DebtState, policy: Policy, at: datetime | None = None
) -> tuple[datetime, ReminderFact] | None:
    """The current episode's gate (as known at `at`): when costs become permitted, and by which reminder."""
    episode = _current_episode(debt, at)
    return gate_of_episode(debt, policy, episode, at) if episode is not None else None


def _reminder_deadline(debt: DebtState, policy: Policy) -> Deadline | None:
    """The moment the pipeline must remind: the current episode is in default without a valid reminder."""
    episode = _current_episode(debt, None)
    if episode is None or is_settled(debt) or valid_free_reminders(debt, policy, episode):
        return None
    terms = episode_terms(debt, episode, debt.last_event_at)
    if terms is None:
        return None
    at = max(episode, day_start(terms.due_date + timedelta(days=1)))
    # Only a deadline that will issue: one that would not stays pending and is fired again forever.
    return Deadline(at, RANK_REMIND, debt.key, "remind") if _needs_reminder(debt, policy, at) else None


def _needs_reminder(debt: DebtState, policy: Policy, at: datetime) -> bool:
    """As of `at` the debt is in default in an episode without a valid free reminder."""
    episode = _current_episode(debt, at)
    if episode is None or is_settled(debt, at):
        return False
    return is_in_default(episode_terms(debt, episode, at), at) and not valid_free_reminders(
        debt, policy, episode, at
    )


def cost_gate_deadlines(debt: DebtState, policy: Policy) -> list[Deadline]:
    """The debt's pending reminder, the gate decisions of its episodes, and charges still to judge."""
    return list(_cost_gate_deadlines(debt, policy))


@per_object_and_policy
def _cost_gate_deadlines(debt: DebtState, policy: Policy) -> tuple[Deadline, ...]:
    deadlines = [
        Deadline(c.at, RANK_CHARGE, debt.key, c.event_id)
        for c in debt.charges
        if c.event_id not in debt.judged_charges
    ]
    for episode in episode_starts(debt):
        if debt.gate_of(episode) is None and (gate := gate_of_episode(debt, policy, episode)) is not None:
            deadlines.append(Deadline(gate[0], RANK_GATE, debt.key, episode.isoformat()))
    remind = _reminder_deadline(debt, policy)
    return (*deadlines, remind) if remind is not None else tuple(deadlines)


def issue_free_reminder(
    state: HouseholdState, key: DebtKey, *, policy: Policy, at: datetime, sent_at: datetime | None = None
) -> tuple[HouseholdState, tuple[Effect, ...]]:
    """Issue the pipeline's free reminder for a debt in default whose episode has no valid free reminder.

    `sent_at` is when it really goes out (stream time, for an event that arrived late): the
    debtor's term runs from then, never from a moment already past.
    """
    debt = state.debt(key)
    if debt is None or not _needs_reminder(debt, policy, at):
        return state, ()
    sent = max(at, sent_at) if sent_at is not None else at
    reminder_id = stable_id("reminder", state.household_key, key, at)
    fact = made(
        ReminderFact,
        at=at,
        event_id=reminder_id,
        kind="free",
        sent_on=local_day(sent),
        term_days=policy.rule(debt.source).reminder_term_days,
        issued_by="pipeline",
        amount_cents=principal_cents(debt, at),
    )
    debt = copy_with(debt, reminders=insert_fact(debt.reminders, fact))
    issued = ReminderIssued(
        reminder_id=reminder_id,
        household_key=state.household_key,
        debt=debt.ref,
        contact=debt.contact,
        amount_cents=fact.amount_cents,
        issued_at=sent,
        pay_by=reminder_last_day(debt, fact, policy),
    )
    return state.with_debt(debt), (issued,)


def decide_gate(
    state: HouseholdState, key: DebtKey, *, policy: Policy, episode: datetime, at: datetime
) -> tuple[HouseholdState, tuple[Effect, ...], int]:
    """At the gate: permit costs on an unpaid debt, or record the costs a settled episode avoided."""
    debt = state.debt(key)
    if debt is None or debt.gate_of(episode) is not None:
        return state, (), 0
    gate = gate_of_episode(debt, policy, episode)
    if gate is None:
        return state, (), 0
    reminder = gate[1]
    # The term ends with its last day: `at` (00:00 of the next local day) is already after it, so
    # only what happened before `at` was in time (a payment at `at` is late, as a charge at `at` is
    # lawful); the principal is the one left unpaid when the term ran out, and at most the sum the
    # letter demanded: arrears added after it are a claim of their own that needs its own letter.
    end = at - _INSTANT
    if is_settled(debt, end) or episode_of(episode_starts(debt, end), end) != episode:
        avoided = max_costs_cents(debt, policy, at, principal=reminder.amount_cents) or 0
        decision = made(GateDecision, episode=episode, outcome="avoided", at=at, costs_avoided_cents=avoided)
        return state.with_debt(_decided(debt, decision)), (), avoided
    principal = min(principal_cents(debt, end), reminder.amount_cents)
    maximum = max_costs_cents(debt, policy, end, principal=principal)
    decision = made(GateDecision, episode=episode, outcome="permitted", at=at, max_costs_cents=maximum)
    state = state.with_debt(_decided(debt, decision))
    if maximum is None:
        return state, (), 0
    bik = bik_costs_cents(principal, policy)
    permitted = CostsPermitted(
        decision_id=stable_id("costs", state.household_key, key, at),
        household_key=state.household_key,
        debt=debt.ref,
        reminder_id=reminder.event_id if reminder.issued_by == "pipeline" else None,
        principal_cents=principal,
        max_costs_cents=maximum,
        permitted_at=at,
        costs_from=local_day(at),
        vat_cents=vat_cents(debt, bik, policy),
    )
    return state, (permitted,), 0


def _decided(debt: DebtState, decision: GateDecision) -> DebtState:
    gates = tuple(sorted((*debt.gates, decision), key=lambda g: g.episode))
    return copy_with(debt, gates=gates)


def _judge_costs(
    debt: DebtState, episode: datetime | None, charge: MoneyFact, cumulative: int
) -> _Verdict | None:
    decision = debt.gate_of(episode) if episode is not None else None
    if decision is not None and decision.outcome == "permitted" and decision.at <= charge.at:
        maximum = decision.max_costs_cents or 0
        if cumulative <= maximum:
            return None
        return _Verdict("above_scale", VIOLATION_BASIS["above_scale"], cumulative, maximum)
    # Costs in an episode whose gate never opened (not yet, or settled in time) were never permitted.
    return _Verdict("before_pay_by", VIOLATION_BASIS["before_pay_by"], charge.cents, 0)


def _judge_fine(
    debt: DebtState, policy: Policy, episode: datetime, charges: list[MoneyFact]
) -> _Verdict | None:
    """Judge the last of `charges` (the episode's raises so far) against the fine's regime."""
    found = _fine_regime(debt, policy, episode)
    if found is None:
        return None
    regime, basis = found
    caps = fine_raise_caps_cents(_original_fine_cents(debt, episode), regime)
    terms = episode_terms(debt, episode, charges[-1].at)
    allowed_from = [day_start(terms.due_date + timedelta(days=1)) if terms else episode]
    cumulative = 0
    for charge in charges:
        cumulative += charge.cents
        need = next((step for step, cap in enumerate(caps) if cumulative <= cap), None)
        if charge is not charges[-1]:
            # Reaching step `need` here lets the next step come from the day after `after_days` days.
            while need is not None and len(allowed_from) <= need + 1 and len(allowed_from) < len(caps):
                after = regime.raises[len(allowed_from)].after_days
                allowed_from.append(day_start(local_day(charge.at) + timedelta(days=after + 1)))
            continue
        reached = sum(1 for moment in allowed_from if moment <= charge.at)
        permitted = caps[reached - 1] if reached else 0
        if need is None or need >= reached:
            return _Verdict("above_raise", basis, cumulative, permitted)
    return _pilot_verdict(debt, policy, episode, charges[-1])


def _pilot_verdict(debt: DebtState, policy: Policy, episode: datetime, charge: MoneyFact) -> _Verdict | None:
    """During the pilot, a WAHV raise before the free reminder's term ran out breaks the policy (not law)."""
    wahv = any(t.fine_kind == "wahv" for t in debt.terms if t.at >= episode)
    if not wahv or not policy.in_cjib_pilot(local_day(charge.at)):
        return None
    gate = gate_of_episode(debt, policy, episode)
    if gate is not None and gate[0] <= charge.at:
        return None
    return _Verdict("before_free_reminder", VIOLATION_BASIS["before_free_reminder"], charge.cents, 0)


def judge_charge(
    state: HouseholdState, key: DebtKey, charge_id: str, *, policy: Policy
) -> tuple[HouseholdState, tuple[Effect, ...]]:
    """Judge a costs.charged once its time is final, within its arrears episode."""
    debt = state.debt(key)
    charge = next((c for c in debt.charges if c.event_id == charge_id), None) if debt else None
    if debt is None or charge is None or charge_id in debt.judged_charges:
        return state, ()
    debt = copy_with(debt, judged_charges=tuple(sorted((*debt.judged_charges, charge_id))))
    state = state.with_debt(debt)
    starts = episode_starts(debt)
    episode = episode_of(starts, charge.at)
    same = [c for c in debt.charges if episode_of(starts, c.at) == episode and c.order() <= charge.order()]
    if debt.source == "cjib" and episode is not None:
        verdict = _judge_fine(debt, policy, episode, same)
    else:
        verdict = _judge_costs(debt, episode, charge, sum(c.cents for c in same))
    if verdict is None:
        return state, ()
    violation = CostViolation(
        violation_id=stable_id("violation", state.household_key, key, charge_id, verdict.kind),
        household_key=state.household_key,
        debt=debt.ref,
        kind=verdict.kind,
        basis=verdict.basis,
        charged_cents=verdict.charged_cents,
        permitted_cents=verdict.permitted_cents,
        occurred_at=charge.at,
    )
    return record_violation(state, violation), (violation,)


def record_violation(state: HouseholdState, violation: CostViolation) -> HouseholdState:
    """Keep a violation, and attach it to the household's next signal."""
    update = {
        "violations": (*state.violations, violation),
        "pending_violations": (*state.pending_violations, violation),
    }
    return copy_with(state, **update)
