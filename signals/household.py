"""The orchestrator the household agent calls: fold an event, fire due deadlines, say what to emit.

Time is event time only. `handle_event` evaluates as of the household's clock; deadlines
(a pay-by passing, a debt reaching its days overdue, a charge to judge) fire in `advance`
once stream time is `lateness_grace_hours` past them, and are judged as of the deadline
itself, so the outcome does not depend on when the tick arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.contract_v1 import SupplyEnding
from schemas.deadletter_v1 import ReasonClass
from schemas.internal_v1 import AcceptedEvent
from schemas.outputs_v1 import VIOLATION_BASIS, CostViolation, Effect, Route, Signal
from signals.ids import stable_id
from signals.limits import HouseholdLimits, Limit, refusal_of
from signals.memo import per_object_and_policy
from signals.overview import CONFLICTING_DUPLICATE, HouseholdState, dedup_verdict, fold_new
from signals.policy import Policy
from signals.reminders import (
    RANK_CHARGE,
    RANK_EVALUATE,
    RANK_GATE,
    RANK_REMIND,
    Deadline,
    cost_gate_deadlines,
    decide_gate,
    issue_free_reminder,
    judge_charge,
    record_violation,
)
from signals.rules import evaluate_bounded, resolve_if_settled, worthiness_deadlines
from signals.state import copy_with

__all__ = ["Outcome", "Refusal", "advance", "handle_event", "next_wakeup"]


@dataclass(frozen=True)
class Refusal:
    """A valid event the household stage does not fold in: it goes to the dead-letter topic instead."""

    reason_class: ReasonClass
    message: str
    limit: Limit | None = None  # for household_limit: the bound it is beyond (signals.limits)


@dataclass(frozen=True)
class Outcome:
    """The household's new state and what to emit, in deterministic order."""

    state: HouseholdState
    effects: tuple[Effect, ...]
    duplicate: bool = False
    costs_avoided_cents: int = 0
    # News that raised no signal because the case has `max_signals_per_case` (signals.limits).
    withheld_signals: int = 0
    # Not folded in (state unchanged, no effects): the caller dead-letters the event.
    refused: Refusal | None = None
    # Signals among the effects that update one raised before (coalesced, same id): not newly raised.
    updated_signals: tuple[str, ...] = ()


def handle_event(
    state: HouseholdState | None,
    accepted: AcceptedEvent,
    *,
    policy: Policy,
    route: Route,
    stream_time: datetime | None = None,
    limits: HouseholdLimits | None = None,
) -> Outcome:
    """Fold one accepted event into the household and evaluate it as of the household's clock.

    `stream_time` (the partition's, before this event) dates a free reminder for
    an event that arrived late, so its term is not already over when it is sent.
    With `limits`, an event beyond the household's bounds is refused (`Outcome.refused`,
    state unchanged) and signals are coalesced and capped per case (signals.limits).
    """
    event = accepted.event
    if state is None:
        state = HouseholdState(household_key=accepted.household_key, as_of=event.occurred_at)
    verdict = dedup_verdict(state, accepted, dedup_horizon_days=policy.dedup_horizon_days)
    if verdict == "duplicate":
        return Outcome(state=state, effects=(), duplicate=True)
    if verdict == "conflict":
        conflict = Refusal("conflicting_duplicate", CONFLICTING_DUPLICATE)
        return Outcome(state=state, effects=(), refused=conflict)
    beyond = refusal_of(state, accepted, limits) if limits is not None else None
    if beyond is not None:
        limit, message = beyond
        return Outcome(state=state, effects=(), refused=Refusal("household_limit", message, limit))
    state = fold_new(state, accepted, dedup_horizon_days=policy.dedup_horizon_days)
    at, effects = state.as_of, list[Effect]()
    key = (event.source, event.creditor_id, event.debt_ref)
    # Any event may leave a debt in default without a valid reminder (opened, or owed again).
    state, issued = issue_free_reminder(state, key, policy=policy, at=at, sent_at=stream_time)
    effects += issued
    if isinstance(event, SupplyEnding):
        state, winter = _winter_supply_ending(state, event, policy)
        effects += winter
    before = state.open_signal.signal_id if state.open_signal is not None else None
    state, evaluated, withheld = evaluate_bounded(state, policy=policy, at=at, route=route, limits=limits)
    return Outcome(
        state=state,
        effects=(*effects, *evaluated),
        withheld_signals=int(withheld),
        updated_signals=_updates(before, evaluated),
    )


def _updates(open_before: str | None, effects: tuple[Effect, ...] | list[Effect]) -> tuple[str, ...]:
    """Ids of the signals among `effects` that were raised before (the open one, or earlier in `effects`)."""
    seen = {open_before} if open_before is not None else set()
    updated = []
    for effect in effects:
        if isinstance(effect, Signal):
            if effect.signal_id in seen:
                updated.append(effect.signal_id)
            seen.add(effect.signal_id)
    return tuple(updated)


def _winter_supply_ending(
    state: HouseholdState, event: SupplyEnding, policy: Policy
) -> tuple[HouseholdState, tuple[Effect, ...]]:
    """An end of supply dated in the winter period without one of the regulation's exceptions."""
    if event.exception is not None or not policy.energy_winter.contains(event.supply_end_date):
        return state, ()
    key = (event.source, event.creditor_id, event.debt_ref)
    debt = state.debt(key)
    if debt is None:
        return state, ()
    violation = CostViolation(
        violation_id=stable_id(
            "violation", state.household_key, key, event.event_id, "supply_ending_in_winter"
        ),
        household_key=state.household_key,
        debt=debt.ref,
        kind="supply_ending_in_winter",
        basis=VIOLATION_BASIS["supply_ending_in_winter"],
        charged_cents=0,
        permitted_cents=0,
        occurred_at=event.occurred_at,
    )
    return record_violation(state, violation), (violation,)


@per_object_and_policy
def _pending(state: HouseholdState, policy: Policy) -> tuple[Deadline, ...]:
    """Every deadline not yet dealt with: gate decisions and charges until done, others ahead of the clock.

    Remembered per state object: the processor asks for a state's next wakeup after storing it,
    and `advance` asks again for the same state when that wakeup comes in the same batch.
    """
    deadlines: list[Deadline] = []
    for debt in state.debts:
        deadlines += cost_gate_deadlines(debt, policy)
        deadlines += [
            Deadline(at, RANK_EVALUATE, (), "evaluate")
            for at in worthiness_deadlines(debt, policy)
            if at > state.as_of
        ]
    return tuple(deadlines)


def next_wakeup(state: HouseholdState, policy: Policy) -> datetime | None:
    """The stream time at which `advance` has something to do: earliest deadline plus the grace."""
    pending = _pending(state, policy)
    return min(d.at for d in pending) + timedelta(hours=policy.lateness_grace_hours) if pending else None


def _fire(
    state: HouseholdState,
    due: list[Deadline],
    *,
    policy: Policy,
    route: Route,
    stream_time: datetime,
    limits: HouseholdLimits | None = None,
) -> tuple[HouseholdState, list[Effect], int, int]:
    """Deal with all deadlines at one time T, as of T: reminders, gates, charges, then the household."""
    at, clock = due[0].at, state.as_of
    effects: list[Effect] = []
    avoided = withheld = 0
    for deadline in due:
        if deadline.rank == RANK_REMIND and deadline.debt_key:
            # Issued as of T, sent when it really goes out: the term runs from the sending day.
            state, issued = issue_free_reminder(
                state, deadline.debt_key, policy=policy, at=at, sent_at=stream_time
            )
            effects += issued
        elif deadline.rank == RANK_GATE and deadline.debt_key:
            episode = datetime.fromisoformat(deadline.ref)
            state, decided, saved = decide_gate(
                state, deadline.debt_key, policy=policy, episode=episode, at=at
            )
            effects += decided
            avoided += saved
        elif deadline.rank == RANK_CHARGE and deadline.debt_key:
            state, judged = judge_charge(state, deadline.debt_key, deadline.ref, policy=policy)
            effects += judged
    # Household evaluation only moves forward in time; the clock already covered an earlier T.
    if at > clock:
        state = copy_with(state, as_of=at)
        state, evaluated, held = evaluate_bounded(state, policy=policy, at=at, route=route, limits=limits)
        effects += evaluated
        withheld += held
    return state, effects, avoided, withheld


def advance(
    state: HouseholdState,
    *,
    stream_time: datetime,
    policy: Policy,
    route: Route,
    limits: HouseholdLimits | None = None,
) -> Outcome:
    """Fire, in time order, every deadline T with T + grace <= stream_time, each as of T."""
    grace = timedelta(hours=policy.lateness_grace_hours)
    before = state.open_signal.signal_id if state.open_signal is not None else None
    effects: list[Effect] = []
    avoided = withheld = 0
    while pending := _pending(state, policy):
        first = min(d.at for d in pending)
        if first + grace > stream_time:
            break
        due = sorted(d for d in pending if d.at == first)
        state, fired, saved, held = _fire(
            state, due, policy=policy, route=route, stream_time=stream_time, limits=limits
        )
        effects += fired
        avoided += saved
        withheld += held
    # A settling event newer than the fired deadlines may already be folded in: resolve on it.
    state, resolved = resolve_if_settled(state, state.as_of)
    return Outcome(
        state=state,
        effects=(*effects, *resolved),
        costs_avoided_cents=avoided,
        withheld_signals=withheld,
        updated_signals=_updates(before, effects),
    )
