"""When a household needs early help: per-source signal-worthiness, signal kinds, priority, reasons.

Per source, the steps before a debt may be shared (Besluit gemeentelijke schuldhulpverlening
art. 2) are modelled in `SourceRule` (table `signals.sources`); docs/rules.md states them with
their basis. A debt is never signal-worthy before it is in default (the day after its due date).

Where DESIGN.md is silent:
- a paused debt (collection.paused, e.g. an arrangement) is not signal-worthy until its pause ends,
  but still counts as an open debt for `multiple`; an end-of-supply notice is worthy regardless;
- `repeat` compares per creditor (source, creditor_id) the sum of its signal-worthy principal with
  the sum at the household's last signal; a creditor whose debts are all settled is forgotten, so
  its next arrears are news again;
- `crisis` for rent looks at signal-worthy housing debts only;
- a signal lists every unsettled debt, flagged signal-worthy or not; `total_cents` is principal plus costs.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache

from schemas.contract_v1 import Source
from schemas.outputs_v1 import (
    DebtSnapshot,
    Effect,
    Priority,
    Reason,
    Route,
    Signal,
    SignalKind,
    SignalResolved,
)
from signals.calendar import day_start, local_day
from signals.figures import (
    DebtAt,
    costs_cents,
    current_terms,
    debt_at,
    episode_of,
    episode_starts,
    is_settled,
    settled_since,
)
from signals.ids import stable_id
from signals.limits import HouseholdLimits, case_period
from signals.memo import per_object_and_policy
from signals.money import eur_en, eur_nl
from signals.policy import Policy
from signals.reminders import gate_deadline
from signals.sources import SOURCE_FACTS
from signals.state import CreditorMark, DebtState, HouseholdState, OpenSignal, copy_with, made

__all__ = [
    "case_is_full",
    "evaluate",
    "evaluate_bounded",
    "format_eur_nl",
    "is_signal_worthy",
    "resolve_if_settled",
    "worthiness_deadlines",
]

Creditor = tuple[Source, str]
# The team pages (streams.team.html) still import it from here; `signals.money.eur_nl` is the one.
format_eur_nl = eur_nl


@lru_cache(maxsize=64)
def _exact(months: float) -> Decimal:
    # Decimal(str(...)) so 1.0 x 95000 compares exactly; one cent below a month is not enough.
    return Decimal(str(months))


def _arrears_at_least(principal: int, monthly: int | None, months: float) -> bool:
    return monthly is not None and Decimal(principal) >= _exact(months) * monthly


def _months(principal: int, monthly: int) -> str:
    """Months of arrears, floored to one decimal so a sentence never overstates them.

    >>> _months(190000, 95000), _months(189999, 95000), _months(2000000, 95000)
    ('2', '1.9', '21')
    """
    months = (Decimal(principal) / monthly).quantize(Decimal("0.1"), rounding=ROUND_FLOOR)
    return str(int(months)) if months == months.to_integral_value() else str(months)


def _has_supply_ending(debt: DebtState, at: datetime) -> bool:
    return debt.source == "energy" and any(s.at <= at for s in debt.supply_endings)


def _episode_facts_count(f: DebtAt, policy: Policy) -> tuple[int, int]:
    """Written reminders after default and contact attempts in the debt's current episode, by `at`.

    The pipeline's own reminder counts as the creditor's written reminder only for creditors that
    send the pipeline's reminders (`sends_pipeline_reminders`).
    """
    debt, at, terms = f.debt, f.at, f.terms
    starts = episode_starts(debt, at)
    episode = episode_of(starts, at)
    pipeline_counts = policy.sends_pipeline_reminders(debt.source, debt.creditor_id)
    reminders = sum(
        1
        for r in debt.reminders
        if r.at <= at
        and episode_of(starts, r.at) == episode
        and (r.issued_by == "creditor" or pipeline_counts)
        and terms is not None
        and r.sent_on > terms.due_date
    )
    contacts = sum(1 for c in debt.contacts if c.at <= at and episode_of(starts, c.at) == episode)
    return reminders, contacts


def _worthy(f: DebtAt, policy: Policy) -> bool:
    debt, at = f.debt, f.at
    if f.settled:
        return False
    if _has_supply_ending(debt, at):
        return True
    rule, terms = policy.rule(debt.source), f.terms
    if terms is None or f.status == "paused":
        return False
    # In default (the day after the due date) at the least, then the source's floor of days.
    if f.days_overdue < max(1, rule.min_days_overdue):
        return False
    if rule.min_months_arrears is not None and not _arrears_at_least(
        f.principal_cents, terms.monthly_amount_cents, rule.min_months_arrears
    ):
        return False
    if rule.requires_reminder or rule.requires_contact_attempt:
        reminders, contacts = _episode_facts_count(f, policy)
        if (rule.requires_reminder and not reminders) or (rule.requires_contact_attempt and not contacts):
            return False
    if rule.requires_term_expired:
        gate = gate_deadline(debt, policy, at)
        return gate is not None and gate[0] <= at
    return True


def is_signal_worthy(debt: DebtState, policy: Policy, at: datetime) -> bool:
    """The source's conditions hold for this debt at `at` (a paused debt is not)."""
    return _worthy(debt_at(debt, at), policy)


def _crisis(f: DebtAt, policy: Policy) -> bool:
    if f.settled:
        return False
    if _has_supply_ending(f.debt, f.at):
        return True
    return (
        f.debt.source == "housing"
        and f.terms is not None
        and _arrears_at_least(f.principal_cents, f.terms.monthly_amount_cents, policy.crisis_rent_months)
    )


def _n(count: int | str, one: str, many: str) -> str:
    return f"{count} {one if str(count) == '1' else many}"


def _source_reason(f: DebtAt) -> Reason | None:
    """The source's reason sentence from the per-source table (`signals.sources`)."""
    facts, terms, principal, days = SOURCE_FACTS[f.debt.source], f.terms, f.principal_cents, f.days_overdue
    if terms is None:
        return None
    monthly = terms.monthly_amount_cents
    if facts.monthly_amount and monthly is None:
        return None
    months = _months(principal, monthly) if monthly else "0"
    reminders = sum(1 for r in f.debt.reminders if r.at <= f.at)
    values = {
        "months_nl": _n(months.replace(".", ","), "maand", "maanden"),
        "months_en": _n(months, "month", "months"),
        "amount_nl": eur_nl(principal),
        "amount_en": eur_en(principal),
        "days_nl": _n(days, "dag", "dagen"),
        "days_en": _n(days, "day", "days"),
        "reminders_nl": _n(reminders, "herinnering", "herinneringen"),
        "reminders_en": _n(reminders, "reminder", "reminders"),
    }
    text = facts.reason
    return Reason(code=text.code, nl=text.nl.format(**values), en=text.en.format(**values))


def _supply_reason(debt: DebtState, at: datetime) -> Reason:
    end: date = max((s for s in debt.supply_endings if s.at <= at), key=lambda s: s.order()).supply_end_date
    return Reason(
        code="energy_supply_ending",
        nl=f"Energieleverancier beëindigt de levering per {end:%d-%m-%Y}",
        en=f"Energy supplier ends supply on {end.isoformat()}",
    )


def _debt_reasons(f: DebtAt, policy: Policy) -> list[Reason]:
    debt, at = f.debt, f.at
    reasons: list[Reason] = []
    if _has_supply_ending(debt, at):
        reasons.append(_supply_reason(debt, at))
    reasons += [r for r in [_source_reason(f)] if r is not None]
    if debt.source == "housing" and _crisis(f, policy):
        months = f"{policy.crisis_rent_months:g}"
        reasons.append(
            Reason(
                code="rent_arrears_crisis",
                nl=f"Huurachterstand van {months.replace('.', ',')} maanden of meer: risico op huisuitzetting",
                en=f"Rent arrears of {months} months or more: risk of eviction",
            )
        )
    return reasons


def worthiness_deadlines(debt: DebtState, policy: Policy) -> list[datetime]:
    """Times at which this debt may become signal-worthy by time alone (days overdue, pause end, term)."""
    return list(_worthiness_deadlines(debt, policy))


@per_object_and_policy
def _worthiness_deadlines(debt: DebtState, policy: Policy) -> tuple[datetime, ...]:
    if is_settled(debt):
        return ()
    rule, terms, times = policy.rule(debt.source), current_terms(debt), []
    if terms is not None:
        times.append(day_start(terms.due_date + timedelta(days=max(1, rule.min_days_overdue))))
    times += [day_start(s.paused_until) for s in debt.statuses if s.paused_until is not None]
    gate = gate_deadline(debt, policy) if rule.requires_term_expired else None
    if gate is not None:
        times.append(gate[0])
    return tuple(times)


def _creditor_amounts(worthy: list[DebtAt]) -> dict[Creditor, int]:
    amounts: dict[Creditor, int] = {}
    for f in worthy:
        creditor = (f.debt.source, f.debt.creditor_id)
        amounts[creditor] = amounts.get(creditor, 0) + f.principal_cents
    return amounts


def _open_creditors(figures: list[DebtAt]) -> set[Creditor]:
    return {(f.debt.source, f.debt.creditor_id) for f in figures if not f.settled}


def _kinds(
    figures: list[DebtAt], worthy: list[DebtAt], policy: Policy, earlier: datetime | None
) -> tuple[SignalKind, ...]:
    flags: list[tuple[SignalKind, bool]] = [
        ("crisis", any(_crisis(f, policy) for f in worthy)),
        ("multiple", len(_open_creditors(figures)) >= 2),
        ("consecutive", earlier is not None),
    ]
    return tuple(kind for kind, on in flags if on) or ("single",)


def _earlier_episode(state: HouseholdState, at: datetime, policy: Policy) -> datetime | None:
    """A resolved signal within the look-back (its time); a still-open one is the same episode, not a new one."""
    lookback = timedelta(days=policy.consecutive_lookback_days)
    last = state.last_signal_at
    return last if state.open_signal is None and last is not None and at - last <= lookback else None


def _priority(kinds: tuple[SignalKind, ...]) -> Priority:
    if "crisis" in kinds:
        return "urgent"
    return "high" if "multiple" in kinds or "consecutive" in kinds else "normal"


def _household_reasons(
    figures: list[DebtAt], kinds: tuple[SignalKind, ...], policy: Policy, earlier: datetime | None
) -> list[Reason]:
    reasons = []
    if "multiple" in kinds:
        count = len(_open_creditors(figures))
        reasons.append(
            Reason(
                code="multiple_creditors",
                nl=f"Schulden bij {count} schuldeisers tegelijk",
                en=f"Debts with {count} creditors at once",
            )
        )
    if "consecutive" in kinds and earlier is not None:
        day, days = local_day(earlier).isoformat(), policy.consecutive_lookback_days
        reasons.append(
            Reason(
                code="consecutive_signal",
                nl=f"Eerder signaal op {day} (binnen {days} dagen)",
                en=f"Earlier signal on {day} (within {days} days)",
            )
        )
    return reasons


def _reasons(
    figures: list[DebtAt],
    worthy: list[DebtAt],
    kinds: tuple[SignalKind, ...],
    policy: Policy,
    earlier: datetime | None,
) -> tuple[Reason, ...]:
    per_debt = [r for f in worthy for r in _debt_reasons(f, policy)]
    return (*per_debt, *_household_reasons(figures, kinds, policy, earlier))


def _snapshots(figures: list[DebtAt], worthy: list[DebtAt]) -> tuple[DebtSnapshot, ...]:
    """Every unsettled debt, so the team sees the whole picture, not only the signal-worthy ones."""
    return tuple(
        DebtSnapshot(
            debt=f.debt.ref,
            creditor_name=f.debt.creditor_name,
            principal_cents=f.principal_cents,
            costs_cents=costs_cents(f.debt, f.at),
            days_overdue=f.days_overdue,
            status=f.status,
            signal_worthy=f in worthy,
        )
        for f in figures
        if not f.settled
    )


def _raise(
    state: HouseholdState,
    figures: list[DebtAt],
    worthy: list[DebtAt],
    policy: Policy,
    at: datetime,
    route: Route,
    limits: HouseholdLimits | None = None,
) -> tuple[HouseholdState, Signal]:
    """A new signal; or, within `coalesce_within` of the open one, that one again with newer content."""
    again = _coalesced(state, at, limits)
    if again is not None:
        number, raised_at, earlier = again.number or 0, again.raised_at, again.earlier_signal_at
        violations = (*again.violations, *state.pending_violations)
    else:
        number, raised_at, earlier = state.signals_raised + 1, at, _earlier_episode(state, at, policy)
        violations = state.pending_violations
    kinds, snapshots = _kinds(figures, worthy, policy, earlier), _snapshots(figures, worthy)
    signal = Signal(
        signal_id=stable_id("signal", state.household_key, number, raised_at),
        household_key=state.household_key,
        route=route,
        priority=_priority(kinds),
        kinds=kinds,
        reasons=_reasons(figures, worthy, kinds, policy, earlier),
        debts=snapshots,
        total_cents=sum(s.principal_cents + s.costs_cents for s in snapshots),
        violations=violations,
        raised_at=raised_at,
    )
    case = _case_count(state, raised_at, limits) + (again is None)
    marks = {(m.source, m.creditor_id): m for m in state.signalled}
    crises = _creditor_crises(worthy, policy)
    for (source, creditor_id), cents in _creditor_amounts(worthy).items():
        marks[(source, creditor_id)] = made(
            CreditorMark,
            source=source,
            creditor_id=creditor_id,
            cents=cents,
            crisis=(source, creditor_id) in crises,
        )
    opened = made(OpenSignal, signal_id=signal.signal_id, raised_at=raised_at, team_id=route.team_id)
    if limits is not None:  # what an update in place needs; without limits the state stays as before
        opened = copy_with(opened, number=number, earlier_signal_at=earlier, violations=violations)
    update = {
        "open_signal": opened,
        "last_signal_at": raised_at,
        "signals_raised": number,
        "pending_violations": (),
        "signalled": tuple(marks[k] for k in sorted(marks)),
    }
    if limits is not None:
        update |= {"case_period": case_period(raised_at, limits), "case_signals": case}
    return copy_with(state, **update), signal


def _coalesced(state: HouseholdState, at: datetime, limits: HouseholdLimits | None) -> OpenSignal | None:
    """The open signal that news at `at` updates in place, if it was raised within `coalesce_within`."""
    open_signal = state.open_signal
    if limits is None or open_signal is None or open_signal.number is None:
        return None
    since = at - open_signal.raised_at
    return open_signal if timedelta(0) <= since < limits.coalesce_within else None


def _case_count(state: HouseholdState, at: datetime, limits: HouseholdLimits | None) -> int:
    """Signals already raised in the case (matching period) a signal at `at` belongs to."""
    if limits is None or state.case_period != case_period(at, limits):
        return 0
    return state.case_signals


def case_is_full(state: HouseholdState, at: datetime, limits: HouseholdLimits | None) -> bool:
    """A new signal at `at` would pass `max_signals_per_case` (an update in place never does)."""
    if limits is None or _coalesced(state, at, limits) is not None:
        return False
    return _case_count(state, at, limits) >= limits.max_signals_per_case


def _has_news(state: HouseholdState, worthy: list[DebtAt], policy: Policy) -> bool:
    """Not a `repeat`: a creditor is new since the last signal, its amount went up, or it became a crisis."""
    marks = {(m.source, m.creditor_id): m for m in state.signalled}
    crises = _creditor_crises(worthy, policy)
    return any(
        creditor not in marks
        or cents > marks[creditor].cents
        or (creditor in crises and not marks[creditor].crisis)
        for creditor, cents in _creditor_amounts(worthy).items()
    )


def _creditor_crises(worthy: list[DebtAt], policy: Policy) -> set[Creditor]:
    return {(f.debt.source, f.debt.creditor_id) for f in worthy if _crisis(f, policy)}


def _forget_settled_creditors(state: HouseholdState, figures: list[DebtAt]) -> HouseholdState:
    """A creditor whose debts are all settled starts afresh: its next arrears are news, not a repeat."""
    if not state.signalled:
        return state
    unsettled = _open_creditors(figures)
    kept = tuple(m for m in state.signalled if (m.source, m.creditor_id) in unsettled)
    return state if kept == state.signalled else copy_with(state, signalled=kept)


def resolve_if_settled(state: HouseholdState, at: datetime) -> tuple[HouseholdState, tuple[Effect, ...]]:
    """Resolve the open signal once every debt is settled, at the time the last one was."""
    signal = state.open_signal
    # A debt that is not settled at `at` has no `settled_since`: no need to trace the others.
    if signal is None or not state.debts or not all(is_settled(d, at) for d in state.debts):
        return state, ()
    since = [settled_since(d, at) for d in state.debts]
    if any(s is None for s in since):
        return state, ()
    resolved_at = max([signal.raised_at, *(s for s in since if s is not None)])
    resolved = SignalResolved(
        resolution_id=stable_id("resolution", state.household_key, signal.signal_id),
        signal_id=signal.signal_id,
        household_key=state.household_key,
        team_id=signal.team_id,
        resolved_at=resolved_at,
    )
    return copy_with(state, open_signal=None), (resolved,)


def evaluate(
    state: HouseholdState, *, policy: Policy, at: datetime, route: Route
) -> tuple[HouseholdState, tuple[Effect, ...]]:
    """Raise a signal when a signal-worthy debt is news, or resolve the open one when all is settled."""
    state, effects, _ = evaluate_bounded(state, policy=policy, at=at, route=route, limits=None)
    return state, effects


def evaluate_bounded(
    state: HouseholdState, *, policy: Policy, at: datetime, route: Route, limits: HouseholdLimits | None
) -> tuple[HouseholdState, tuple[Effect, ...], bool]:
    """`evaluate` within the household's bounds (signals.limits); True when news raised no signal.

    News within `coalesce_within` of the open signal updates it (same id); news when the case
    already has `max_signals_per_case` signals raises none (withheld: True).
    """
    figures = [debt_at(d, at) for d in state.debts]
    state = _forget_settled_creditors(state, figures)
    worthy = [f for f in figures if _worthy(f, policy)]
    if worthy and _has_news(state, worthy, policy):
        if case_is_full(state, at, limits):
            return state, (), True
        state, signal = _raise(state, figures, worthy, policy, at, route, limits)
        return state, (signal,), False
    resolved_state, effects = resolve_if_settled(state, at)
    return resolved_state, effects, False
