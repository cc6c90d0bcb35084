"""Household state: the fold of a household's creditor events into one debt overview.

A debt keeps its facts as small logs sorted by event time, so the fold is commutative
(any arrival order gives the same state) and every figure can be read "as of" a time:
a deadline at T is judged on the facts that had happened by T, whenever it fires.

Every creditor event's `amount_cents` is read as the debt's outstanding principal at that
moment, so the principal is the amount of the latest event by event time. Status changes
come from debt.opened (open), collection.paused (paused until a date; a new pause with an
earlier date resumes collection) and debt.closed; debt.updated changes amounts and terms only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict

from schemas.contract_v1 import (
    CloseReason,
    CollectionPaused,
    CostsCharged,
    CreditorEvent,
    DebtClosed,
    DebtOpened,
    DebtUpdated,
    FineKind,
    PaymentReceived,
    ReminderKind,
    ReminderSent,
    Source,
    SupplyEnding,
)
from schemas.internal_v1 import AcceptedEvent
from schemas.outputs_v1 import CostViolation, DebtorContact, DebtRef, DebtStatus, Effect

DebtKey = tuple[Source, str, str]
GateState = Literal["pending", "permitted", "avoided"]
_STATUS_RANK = {"open": 0, "paused": 1, "closed": 2}


class _State(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Fact(_State):
    at: AwareDatetime
    event_id: str

    def order(self) -> tuple[datetime, int, str]:
        """Total order of a debt's facts: event time, then id (ids are unique within a debt)."""
        return (self.at, 0, self.event_id)


class AmountFact(_Fact):
    """The outstanding principal a creditor reported with an event."""

    amount_cents: int


class TermsFact(_Fact):
    """Oldest unpaid due date and monthly amount from a debt.opened or debt.updated."""

    due_date: date
    monthly_amount_cents: int | None
    fine_kind: FineKind | None
    opening: bool


class StatusFact(_Fact):
    """Opened, paused until a date, or closed with a reason."""

    status: DebtStatus
    paused_until: date | None = None
    close_reason: CloseReason | None = None

    def order(self) -> tuple[datetime, int, str]:
        """At the same instant a closure outranks a pause, which outranks an opening."""
        return (self.at, _STATUS_RANK[self.status], self.event_id)


class ReminderFact(_Fact):
    """A reminder the creditor reported, or one the pipeline issued (event_id = reminder_id)."""

    kind: ReminderKind
    sent_on: date
    term_days: int
    issued_by: Literal["creditor", "pipeline"]
    amount_cents: int


class MoneyFact(_Fact):
    """A charge of costs or a payment."""

    cents: int


class SupplyFact(_Fact):
    """An energy supplier's end-of-supply notice."""

    supply_end_date: date


class DebtState(_State):
    """One claim of one creditor, keyed by (source, creditor_id, debt_ref)."""

    source: Source
    creditor_id: str
    debt_ref: str
    creditor_name: str
    contact: DebtorContact
    bsn_pseudonym: str | None = None
    last_event_at: AwareDatetime
    last_event_id: str
    amounts: tuple[AmountFact, ...] = ()
    terms: tuple[TermsFact, ...] = ()
    statuses: tuple[StatusFact, ...] = ()
    reminders: tuple[ReminderFact, ...] = ()
    charges: tuple[MoneyFact, ...] = ()
    payments: tuple[MoneyFact, ...] = ()
    supply_endings: tuple[SupplyFact, ...] = ()
    gate: GateState = "pending"
    gate_at: AwareDatetime | None = None
    max_costs_cents: int | None = None
    costs_avoided_cents: int = 0
    judged_charges: tuple[str, ...] = ()

    @property
    def key(self) -> DebtKey:
        """(source, creditor_id, debt_ref)."""
        return (self.source, self.creditor_id, self.debt_ref)

    @property
    def ref(self) -> DebtRef:
        """The output contract's reference to this debt."""
        return DebtRef(source=self.source, creditor_id=self.creditor_id, debt_ref=self.debt_ref)


class SeenEvent(_State):
    """A folded event's dedup key and event time (forgotten after the dedup horizon)."""

    dedup_key: str
    at: AwareDatetime


class OpenSignal(_State):
    """The household's latest unresolved signal."""

    signal_id: str
    raised_at: AwareDatetime
    team_id: str


class CreditorMark(_State):
    """A creditor's signal-worthy amount at the household's last signal (for `repeat`)."""

    source: Source
    creditor_id: str
    cents: int


class HouseholdState(_State):
    """Everything the pipeline knows of one household; stored as JSON in the Faust table."""

    v: Literal[1] = 1
    household_key: str
    as_of: AwareDatetime
    debts: tuple[DebtState, ...] = ()
    seen: tuple[SeenEvent, ...] = ()
    open_signal: OpenSignal | None = None
    last_signal_at: AwareDatetime | None = None
    signals_raised: int = 0
    signalled: tuple[CreditorMark, ...] = ()
    violations: tuple[CostViolation, ...] = ()
    pending_violations: tuple[CostViolation, ...] = ()

    def debt(self, key: DebtKey) -> DebtState | None:
        """The debt with this key, if known."""
        return next((d for d in self.debts if d.key == key), None)

    def with_debt(self, debt: DebtState) -> HouseholdState:
        """A copy with this debt added or replaced, debts kept sorted by key."""
        others = [d for d in self.debts if d.key != debt.key]
        return self.model_copy(update={"debts": tuple(sorted([*others, debt], key=lambda d: d.key))})


_F = TypeVar("_F", bound=_Fact)


def _insert(facts: tuple[_F, ...], fact: _F) -> tuple[_F, ...]:
    return tuple(sorted((*facts, fact), key=lambda f: f.order()))


def _upto(facts: tuple[_F, ...], at: datetime | None) -> tuple[_F, ...]:
    # Facts are sorted by time: the common case (all known facts) needs no copy.
    if at is None or not facts or facts[-1].at <= at:
        return facts
    return tuple(f for f in facts if f.at <= at)


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of `day`: the instant a date-based deadline is reached."""
    return datetime.combine(day, time(), tzinfo=UTC)


def euros(cents: int) -> str:
    """Cents as a plain euro amount for JSON, e.g. 190000 -> '1900.00'.

    >>> euros(190000), euros(-5)
    ('1900.00', '-0.05')
    """
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def is_duplicate(state: HouseholdState, accepted: AcceptedEvent, *, dedup_horizon_days: int) -> bool:
    """Already folded in, or older than the dedup horizon (its id may be forgotten: treat as seen)."""
    event = accepted.event
    if event.occurred_at < state.as_of - timedelta(days=dedup_horizon_days):
        return True
    return any(seen.dedup_key == event.dedup_key for seen in state.seen)


def _contact(accepted: AcceptedEvent) -> DebtorContact:
    event = accepted.event
    address = event.address
    house = f"{address.house_number}{address.house_letter or ''}"
    if address.house_number_addition:
        house += f"-{address.house_number_addition}"
    return DebtorContact(
        name=event.debtor.name,
        phone=event.debtor.phone,
        email=event.debtor.email,
        street=address.street,
        house=house,
        postcode=address.postcode,
        city=address.city,
    )


def _with_latest(debt: DebtState | None, accepted: AcceptedEvent) -> DebtState:
    """Creditor name, contact and pseudonym come from the debt's latest event by event time."""
    event = accepted.event
    latest = {
        "creditor_name": event.creditor_name,
        "contact": _contact(accepted),
        "bsn_pseudonym": accepted.bsn_pseudonym,
        "last_event_at": event.occurred_at,
        "last_event_id": event.event_id,
    }
    if debt is None:
        return DebtState(
            source=event.source, creditor_id=event.creditor_id, debt_ref=event.debt_ref, **latest
        )
    if (event.occurred_at, event.event_id) > (debt.last_event_at, debt.last_event_id):
        return debt.model_copy(update=latest)
    return debt


def _event_fact(e: CreditorEvent) -> tuple[str, _Fact] | None:
    """The log entry an event adds besides its amount (and its terms, see `_fold`)."""
    at, eid = e.occurred_at, e.event_id
    if isinstance(e, DebtOpened):
        return "statuses", StatusFact(at=at, event_id=eid, status="open")
    if isinstance(e, DebtClosed):
        return "statuses", StatusFact(at=at, event_id=eid, status="closed", close_reason=e.reason)
    if isinstance(e, CollectionPaused):
        return "statuses", StatusFact(at=at, event_id=eid, status="paused", paused_until=e.until)
    if isinstance(e, ReminderSent):
        sent = {"kind": e.reminder_kind, "sent_on": at.date(), "term_days": e.term_days}
        return "reminders", ReminderFact(
            at=at, event_id=eid, issued_by="creditor", amount_cents=e.amount_cents, **sent
        )
    if isinstance(e, CostsCharged):
        return "charges", MoneyFact(at=at, event_id=eid, cents=e.costs_cents)
    if isinstance(e, PaymentReceived):
        return "payments", MoneyFact(at=at, event_id=eid, cents=e.paid_cents)
    if isinstance(e, SupplyEnding):
        return "supply_endings", SupplyFact(at=at, event_id=eid, supply_end_date=e.supply_end_date)
    return None


def _fold(debt: DebtState, accepted: AcceptedEvent) -> DebtState:
    """Add one event's facts to its debt's logs (sorted, so arrival order does not matter)."""
    e = accepted.event
    at, eid = e.occurred_at, e.event_id
    facts: list[tuple[str, _Fact]] = [
        ("amounts", AmountFact(at=at, event_id=eid, amount_cents=e.amount_cents))
    ]
    if isinstance(e, DebtOpened | DebtUpdated):
        opening = isinstance(e, DebtOpened)
        terms = {
            "due_date": e.due_date,
            "monthly_amount_cents": e.monthly_amount_cents,
            "fine_kind": e.fine_kind,
        }
        facts.append(("terms", TermsFact(at=at, event_id=eid, opening=opening, **terms)))
    extra = _event_fact(e)
    if extra is not None:
        facts.append(extra)
    update = {field: _insert(getattr(debt, field), fact) for field, fact in facts}
    return debt.model_copy(update=update)


def apply(
    state: HouseholdState, accepted: AcceptedEvent, *, dedup_horizon_days: int = 90
) -> tuple[HouseholdState, tuple[Effect, ...]]:
    """Fold one event into the household: idempotent, order-independent within the horizon."""
    if accepted.household_key != state.household_key:
        raise ValueError(f"event for {accepted.household_key} folded into {state.household_key}")
    if is_duplicate(state, accepted, dedup_horizon_days=dedup_horizon_days):
        return state, ()
    event = accepted.event
    key: DebtKey = (event.source, event.creditor_id, event.debt_ref)
    debt = _fold(_with_latest(state.debt(key), accepted), accepted)
    as_of = max(state.as_of, event.occurred_at)
    horizon = as_of - timedelta(days=dedup_horizon_days)
    seen = [s for s in state.seen if s.at >= horizon] + [
        SeenEvent(dedup_key=event.dedup_key, at=event.occurred_at)
    ]
    state = state.model_copy(update={"as_of": as_of, "seen": tuple(sorted(seen, key=lambda s: s.dedup_key))})
    return state.with_debt(debt), ()


# -- figures of one debt, as of a time (None = everything known) --------------------------------


def principal_cents(debt: DebtState, at: datetime | None = None) -> int:
    """Outstanding principal: the amount of the latest event by event time (ties by event id)."""
    amounts = _upto(debt.amounts, at)
    return amounts[-1].amount_cents if amounts else 0


def costs_cents(debt: DebtState, at: datetime | None = None) -> int:
    """Sum of the collection costs charged."""
    return sum(c.cents for c in _upto(debt.charges, at))


def current_terms(debt: DebtState, at: datetime | None = None) -> TermsFact | None:
    """The latest due date / monthly amount facts."""
    terms = _upto(debt.terms, at)
    return terms[-1] if terms else None


def days_overdue(debt: DebtState, at: datetime) -> int:
    """Whole days since the oldest unpaid due date (0 when unknown or not yet due)."""
    terms = current_terms(debt, at)
    return max(0, (at.date() - terms.due_date).days) if terms else 0


def status_at(debt: DebtState, at: datetime | None = None) -> DebtStatus:
    """open, paused (until its date) or closed, from the latest status fact."""
    statuses = _upto(debt.statuses, at)
    if not statuses:
        return "open"
    last = statuses[-1]
    if last.status == "paused" and at is not None and last.paused_until and at.date() >= last.paused_until:
        return "open"
    return last.status


def is_settled(debt: DebtState, at: datetime | None = None) -> bool:
    """Closed, or nothing left to pay."""
    return status_at(debt, at) == "closed" or principal_cents(debt, at) == 0


def settled_since(debt: DebtState, at: datetime | None = None) -> datetime | None:
    """Since when the debt has been settled without interruption (None if it is not)."""
    timeline = sorted([*_upto(debt.amounts, at), *_upto(debt.statuses, at)], key=lambda f: f.order())
    principal, closed, since = 0, False, None
    for fact in timeline:
        if isinstance(fact, AmountFact):
            principal = fact.amount_cents
        elif isinstance(fact, StatusFact):
            closed = fact.status == "closed"
        settled = closed or principal == 0
        since = (since or fact.at) if settled else None
    return since


def pause_intervals(debt: DebtState, at: datetime | None = None) -> list[tuple[date, date]]:
    """Days collection was paused: [start, end), a pause ends at its date or the next status fact."""
    statuses = _upto(debt.statuses, at)
    intervals = []
    for index, fact in enumerate(statuses):
        if fact.status != "paused" or fact.paused_until is None:
            continue
        end = fact.paused_until
        if index + 1 < len(statuses):
            end = min(end, statuses[index + 1].at.date())
        if end > fact.at.date():
            intervals.append((fact.at.date(), end))
    return intervals


def shifted_pay_by(sent_on: date, term_days: int, pauses: list[tuple[date, date]]) -> date:
    """Pay-by date of a term, moved later by every paused day that falls within the running term.

    >>> shifted_pay_by(date(2024, 1, 1), 14, [])
    datetime.date(2024, 1, 15)
    >>> shifted_pay_by(date(2024, 1, 1), 14, [(date(2024, 1, 5), date(2024, 1, 15))])
    datetime.date(2024, 1, 25)
    >>> shifted_pay_by(date(2024, 1, 1), 14, [(date(2024, 1, 16), date(2024, 2, 1))])
    datetime.date(2024, 1, 15)
    """
    pay_by, cursor = sent_on + timedelta(days=term_days), sent_on
    for start, end in sorted(pauses):
        start = max(start, cursor)
        if start > pay_by:
            break
        if end > start:
            # The paused days are added to the term; the pay-by day itself still counts as in-term.
            pay_by += end - start
            cursor = end
    return pay_by


def reminder_pay_by(debt: DebtState, reminder: ReminderFact) -> date:
    """The reminder's pay-by date, with the debt's pauses taken into account."""
    return shifted_pay_by(reminder.sent_on, reminder.term_days, pause_intervals(debt))


# -- figures of the household ----------------------------------------------------------------------


def _unsettled(state: HouseholdState, at: datetime | None) -> list[DebtState]:
    return [d for d in state.debts if not is_settled(d, at)]


def total_principal_cents(state: HouseholdState, at: datetime | None = None) -> int:
    """Sum of the principal of all debts."""
    return sum(principal_cents(d, at) for d in state.debts)


def total_costs_cents(state: HouseholdState, at: datetime | None = None) -> int:
    """Sum of the costs charged on all debts."""
    return sum(costs_cents(d, at) for d in state.debts)


def open_creditor_count(state: HouseholdState, at: datetime | None = None) -> int:
    """Distinct creditors (source, creditor_id) with an unsettled debt."""
    return len({(d.source, d.creditor_id) for d in _unsettled(state, at)})


def source_kind_count(state: HouseholdState, at: datetime | None = None) -> int:
    """Distinct sources (housing, energy, ...) with an unsettled debt."""
    return len({d.source for d in _unsettled(state, at)})
