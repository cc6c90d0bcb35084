"""When a household needs early help: per-source signal-worthiness, signal kinds, priority, reasons.

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
from signals.figures import DebtAt, costs_cents, current_terms, debt_at, is_settled, settled_since
from signals.ids import stable_id
from signals.overview import day_start
from signals.policy import Policy
from signals.reminders import gate_deadline
from signals.state import CreditorMark, DebtState, HouseholdState, OpenSignal

__all__ = [
    "debt_reasons",
    "evaluate",
    "format_eur_en",
    "format_eur_nl",
    "is_crisis_debt",
    "is_signal_worthy",
    "resolve_if_settled",
    "worthiness_deadlines",
]

Creditor = tuple[Source, str]


def format_eur_nl(cents: int) -> str:
    """Dutch notation.

    >>> format_eur_nl(190000)
    'EUR 1.900,00'
    """
    return "EUR " + f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"


def format_eur_en(cents: int) -> str:
    """English notation.

    >>> format_eur_en(190000)
    'EUR 1,900.00'
    """
    return f"EUR {cents // 100:,}.{cents % 100:02d}"


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


def _worthy(f: DebtAt, policy: Policy) -> bool:
    debt, at = f.debt, f.at
    if f.settled:
        return False
    if _has_supply_ending(debt, at):
        return True
    rule, terms = policy.rule(debt.source), f.terms
    if terms is None or f.status == "paused":
        return False
    if f.days_overdue < rule.min_days_overdue:
        return False
    if rule.min_months_arrears is not None and not _arrears_at_least(
        f.principal_cents, terms.monthly_amount_cents, rule.min_months_arrears
    ):
        return False
    if rule.requires_reminder and not any(r.at <= at for r in debt.reminders):
        return False
    if rule.requires_term_expired:
        gate = gate_deadline(debt, policy, at)
        return gate is not None and gate[0] <= at
    return True


def is_signal_worthy(debt: DebtState, policy: Policy, at: datetime) -> bool:
    """The source's conditions in DESIGN.md hold for this debt at `at` (a paused debt is not)."""
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


def is_crisis_debt(debt: DebtState, policy: Policy, at: datetime) -> bool:
    """End of energy supply, or rent arrears of at least crisis_rent_months."""
    return _crisis(debt_at(debt, at), policy)


def _n(count: int | str, one: str, many: str) -> str:
    return f"{count} {one if str(count) == '1' else many}"


def _monthly_reason(f: DebtAt) -> Reason | None:
    terms, principal, days = f.terms, f.principal_cents, f.days_overdue
    if terms is None or terms.monthly_amount_cents is None:
        return None
    months = _months(principal, terms.monthly_amount_cents)
    nl_m, en_m = _n(months.replace(".", ","), "maand", "maanden"), _n(months, "month", "months")
    nl_days, en_days = _n(days, "dag", "dagen"), _n(days, "day", "days")
    if f.debt.source == "housing":
        return Reason(
            code="housing_arrears",
            nl=f"Huurachterstand van {nl_m} ({format_eur_nl(principal)}), {nl_days}",
            en=f"Rent arrears of {en_m} ({format_eur_en(principal)}), {en_days}",
        )
    return Reason(
        code="health_arrears",
        nl=f"Premieachterstand zorgverzekering van {nl_m} ({format_eur_nl(principal)}), {nl_days}",
        en=f"Health insurance premium arrears of {en_m} ({format_eur_en(principal)}), {en_days}",
    )


def _bill_reason(f: DebtAt) -> Reason:
    debt, principal, days = f.debt, f.principal_cents, f.days_overdue
    reminders = sum(1 for r in debt.reminders if r.at <= f.at)
    nl_bill, en_bill = (
        ("Energierekening", "Energy bill") if debt.source == "energy" else ("Waterrekening", "Water bill")
    )
    return Reason(
        code=f"{debt.source}_arrears",
        nl=f"{nl_bill} onbetaald ({format_eur_nl(principal)}), {_n(days, 'dag', 'dagen')}, "
        f"na {_n(reminders, 'herinnering', 'herinneringen')}",
        en=f"{en_bill} unpaid ({format_eur_en(principal)}), {_n(days, 'day', 'days')}, "
        f"after {_n(reminders, 'reminder', 'reminders')}",
    )


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
    if debt.source in ("housing", "health"):
        reasons += [r for r in [_monthly_reason(f)] if r is not None]
    elif debt.source in ("energy", "water") and f.terms is not None:
        reasons.append(_bill_reason(f))
    elif debt.source == "cjib":
        principal = f.principal_cents
        reasons.append(
            Reason(
                code="cjib_unpaid",
                nl=f"CJIB-boete onbetaald na de betalingsherinnering ({format_eur_nl(principal)})",
                en=f"CJIB fine unpaid after the free reminder ({format_eur_en(principal)})",
            )
        )
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


def debt_reasons(debt: DebtState, policy: Policy, at: datetime) -> list[Reason]:
    """Why this signal-worthy debt matters, in Dutch and English."""
    return _debt_reasons(debt_at(debt, at), policy)


def worthiness_deadlines(debt: DebtState, policy: Policy) -> list[datetime]:
    """Times at which this debt may become signal-worthy by time alone (days overdue, pause end, term)."""
    if is_settled(debt):
        return []
    rule, terms, times = policy.rule(debt.source), current_terms(debt), []
    if terms is not None:
        times.append(day_start(terms.due_date + timedelta(days=rule.min_days_overdue)))
    times += [day_start(s.paused_until) for s in debt.statuses if s.paused_until is not None]
    gate = gate_deadline(debt, policy) if rule.requires_term_expired else None
    if gate is not None:
        times.append(gate[0])
    return times


def _creditor_amounts(worthy: list[DebtAt]) -> dict[Creditor, int]:
    amounts: dict[Creditor, int] = {}
    for f in worthy:
        creditor = (f.debt.source, f.debt.creditor_id)
        amounts[creditor] = amounts.get(creditor, 0) + f.principal_cents
    return amounts


def _open_creditors(figures: list[DebtAt]) -> set[Creditor]:
    return {(f.debt.source, f.debt.creditor_id) for f in figures if not f.settled}


def _kinds(
    state: HouseholdState, figures: list[DebtAt], worthy: list[DebtAt], policy: Policy, at: datetime
) -> tuple[SignalKind, ...]:
    lookback = timedelta(days=policy.consecutive_lookback_days)
    flags: list[tuple[SignalKind, bool]] = [
        ("crisis", any(_crisis(f, policy) for f in worthy)),
        ("multiple", len(_open_creditors(figures)) >= 2),
        ("consecutive", _earlier_episode(state, at, lookback)),
    ]
    return tuple(kind for kind, on in flags if on) or ("single",)


def _earlier_episode(state: HouseholdState, at: datetime, lookback: timedelta) -> bool:
    """A resolved signal within the look-back; a still-open one is the same episode, not a new one."""
    return (
        state.open_signal is None
        and state.last_signal_at is not None
        and at - state.last_signal_at <= lookback
    )


def _priority(kinds: tuple[SignalKind, ...]) -> Priority:
    if "crisis" in kinds:
        return "urgent"
    return "high" if "multiple" in kinds or "consecutive" in kinds else "normal"


def _household_reasons(
    state: HouseholdState, figures: list[DebtAt], kinds: tuple[SignalKind, ...], policy: Policy
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
    if "consecutive" in kinds and state.last_signal_at is not None:
        day, days = state.last_signal_at.date().isoformat(), policy.consecutive_lookback_days
        reasons.append(
            Reason(
                code="consecutive_signal",
                nl=f"Eerder signaal op {day} (binnen {days} dagen)",
                en=f"Earlier signal on {day} (within {days} days)",
            )
        )
    return reasons


def _reasons(
    state: HouseholdState,
    figures: list[DebtAt],
    worthy: list[DebtAt],
    kinds: tuple[SignalKind, ...],
    policy: Policy,
) -> tuple[Reason, ...]:
    per_debt = [r for f in worthy for r in _debt_reasons(f, policy)]
    return (*per_debt, *_household_reasons(state, figures, kinds, policy))


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
) -> tuple[HouseholdState, Signal]:
    kinds, snapshots = _kinds(state, figures, worthy, policy, at), _snapshots(figures, worthy)
    number = state.signals_raised + 1
    signal = Signal(
        signal_id=stable_id("signal", state.household_key, number, at),
        household_key=state.household_key,
        route=route,
        priority=_priority(kinds),
        kinds=kinds,
        reasons=_reasons(state, figures, worthy, kinds, policy),
        debts=snapshots,
        total_cents=sum(s.principal_cents + s.costs_cents for s in snapshots),
        violations=state.pending_violations,
        raised_at=at,
    )
    marks = {(m.source, m.creditor_id): m for m in state.signalled}
    crises = _creditor_crises(worthy, policy)
    for (source, creditor_id), cents in _creditor_amounts(worthy).items():
        marks[(source, creditor_id)] = CreditorMark(
            source=source, creditor_id=creditor_id, cents=cents, crisis=(source, creditor_id) in crises
        )
    return state.model_copy(
        update={
            "open_signal": OpenSignal(signal_id=signal.signal_id, raised_at=at, team_id=route.team_id),
            "last_signal_at": at,
            "signals_raised": number,
            "pending_violations": (),
            "signalled": tuple(marks[k] for k in sorted(marks)),
        }
    ), signal


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
    return state if kept == state.signalled else state.model_copy(update={"signalled": kept})


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
    return state.model_copy(update={"open_signal": None}), (resolved,)


def evaluate(
    state: HouseholdState, *, policy: Policy, at: datetime, route: Route
) -> tuple[HouseholdState, tuple[Effect, ...]]:
    """Raise a signal when a signal-worthy debt is news, or resolve the open one when all is settled."""
    figures = [debt_at(d, at) for d in state.debts]
    state = _forget_settled_creditors(state, figures)
    worthy = [f for f in figures if _worthy(f, policy)]
    if worthy and _has_news(state, worthy, policy):
        state, signal = _raise(state, figures, worthy, policy, at, route)
        return state, (signal,)
    return resolve_if_settled(state, at)
