"""The household state's models: a debt's facts as small logs sorted by event time, and the household.

Stored as JSON in the household table (`HouseholdState.model_dump_json`); frozen, so a
state is never changed in place: every fold or rule builds a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator

from schemas.contract_v1 import (
    CloseReason,
    ContactMethod,
    FineKind,
    ReminderChannel,
    ReminderKind,
    Source,
    SupplyEndingException,
)
from schemas.outputs_v1 import CostViolation, DebtorContact, DebtRef, DebtStatus

__all__ = [
    "DEBT_MIGRATIONS",
    "DEBT_MIGRATION_KEYS",
    "AmountFact",
    "ContactFact",
    "CreditorMark",
    "DebtKey",
    "DebtState",
    "Fact",
    "GateDecision",
    "GateState",
    "HouseholdState",
    "MoneyFact",
    "OpenSignal",
    "ReminderFact",
    "SeenEvent",
    "StatusFact",
    "SupplyFact",
    "TermsFact",
    "copy_with",
    "debt_key",
    "made",
]

_M = TypeVar("_M", bound=BaseModel)
_set = object.__setattr__


def copy_with(model: _M, **update: Any) -> _M:
    """`model.model_copy(update=update)` for the fold's hot path: the same copy, without pydantic's
    generic machinery (no validation either way; these models have no private or extra values)."""
    copied = model.__class__.__new__(model.__class__)
    values = model.__dict__.copy()
    values.update(update)
    _set(copied, "__dict__", values)
    fields_set = model.__pydantic_fields_set__
    # Never changed in place (frozen; model_copy copies it first): shared when nothing is added.
    _set(
        copied,
        "__pydantic_fields_set__",
        fields_set if update.keys() <= fields_set else fields_set | update.keys(),
    )
    _set(copied, "__pydantic_extra__", None)
    _set(copied, "__pydantic_private__", None)
    return copied


def made(cls: type[_M], **values: Any) -> _M:
    """`cls(**values)` without validation, for values the fold takes from an already validated event
    or state (as `model_construct`, defaults filled in, fields in their declared order)."""
    defaults = _DEFAULTS.get(cls)
    if defaults is None:
        defaults = _DEFAULTS[cls] = {
            name: field.get_default(call_default_factory=True) for name, field in cls.model_fields.items()
        }
    built = cls.__new__(cls)
    _set(built, "__dict__", {name: values.get(name, d) for name, d in defaults.items()})
    _set(built, "__pydantic_fields_set__", set(values))
    _set(built, "__pydantic_extra__", None)
    _set(built, "__pydantic_private__", None)
    return built


_DEFAULTS: dict[type[BaseModel], dict[str, Any]] = {}

DebtKey = tuple[Source, str, str]
GateState = Literal["pending", "permitted", "avoided"]
_STATUS_RANK = {"open": 0, "paused": 1, "closed": 2}


class _State(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Fact(_State):
    """One entry of a debt's log: when it happened and which event said so."""

    at: AwareDatetime
    event_id: str

    def order(self) -> tuple[datetime, int, str]:
        """Total order of a debt's facts: event time, then id (ids are unique within a debt)."""
        return (self.at, 0, self.event_id)


class AmountFact(Fact):
    """The outstanding principal a creditor reported with an event."""

    amount_cents: int


class TermsFact(Fact):
    """Oldest unpaid due date and monthly amount from a debt.opened or debt.updated."""

    due_date: date
    monthly_amount_cents: int | None
    fine_kind: FineKind | None
    opening: bool


class StatusFact(Fact):
    """Opened, paused until a date, or closed with a reason."""

    status: DebtStatus
    paused_until: date | None = None
    close_reason: CloseReason | None = None

    def order(self) -> tuple[datetime, int, str]:
        """At the same instant a closure outranks a pause, which outranks an opening."""
        return (self.at, _STATUS_RANK[self.status], self.event_id)


class ReminderFact(Fact):
    """A reminder the creditor reported, or one the pipeline issued (event_id = reminder_id)."""

    kind: ReminderKind
    sent_on: date  # the local (Europe/Amsterdam) day of sending
    term_days: int
    issued_by: Literal["creditor", "pipeline"]
    amount_cents: int
    channel: ReminderChannel = "post"
    pay_by: date | None = None  # the date the letter names, when it names one


class ContactFact(Fact):
    """The creditor's attempt at personal contact with the debtor (Besluit gsv art. 2, landlords)."""

    method: ContactMethod
    reached: bool = False


class MoneyFact(Fact):
    """A charge of costs or a payment."""

    cents: int


class SupplyFact(Fact):
    """An energy supplier's end-of-supply notice."""

    supply_end_date: date
    exception: SupplyEndingException | None = None


class GateDecision(_State):
    """The cost gate of one arrears episode (identified by its start), decided once at its time."""

    episode: AwareDatetime
    outcome: Literal["permitted", "avoided"]
    at: AwareDatetime
    max_costs_cents: int | None = None
    costs_avoided_cents: int = 0


class DebtState(_State):
    """One claim of one creditor, keyed by (source, creditor_id, debt_ref)."""

    source: Source
    creditor_id: str
    debt_ref: str
    creditor_name: str
    contact: DebtorContact
    last_event_at: AwareDatetime
    last_event_id: str
    amounts: tuple[AmountFact, ...] = ()
    terms: tuple[TermsFact, ...] = ()
    statuses: tuple[StatusFact, ...] = ()
    reminders: tuple[ReminderFact, ...] = ()
    charges: tuple[MoneyFact, ...] = ()
    payments: tuple[MoneyFact, ...] = ()
    supply_endings: tuple[SupplyFact, ...] = ()
    contacts: tuple[ContactFact, ...] = ()
    gates: tuple[GateDecision, ...] = ()
    judged_charges: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _no_pseudonym(cls, data: Any) -> Any:
        """A state stored before issue 15 kept the BSN pseudonym: no rule uses it, so it is forgotten."""
        if isinstance(data, dict) and "bsn_pseudonym" in data:
            return {k: v for k, v in data.items() if k != "bsn_pseudonym"}
        return data

    @model_validator(mode="before")
    @classmethod
    def _one_gate_per_episode(cls, data: Any) -> Any:
        """A state stored before episodes had one gate per debt: it becomes the first episode's."""
        if not isinstance(data, dict) or "gate" not in data:
            return data
        old = {k: data.get(k) for k in ("gate", "gate_at", "max_costs_cents", "costs_avoided_cents")}
        rest = {k: v for k, v in data.items() if k not in old}
        starts = [
            f["at"] for f in (*data.get("amounts", ()), *data.get("statuses", ())) if isinstance(f, dict)
        ]
        if old["gate"] in ("permitted", "avoided") and old["gate_at"] is not None and starts:
            decision = {
                "episode": min(starts),
                "outcome": old["gate"],
                "at": old["gate_at"],
                "max_costs_cents": old["max_costs_cents"],
                "costs_avoided_cents": old["costs_avoided_cents"] or 0,
            }
            rest["gates"] = (decision,)
        return rest

    def gate_of(self, episode: datetime) -> GateDecision | None:
        """The decided gate of the episode that started at `episode`, if decided."""
        return next((g for g in self.gates if g.episode == episode), None)

    @property
    def key(self) -> DebtKey:
        """(source, creditor_id, debt_ref)."""
        return (self.source, self.creditor_id, self.debt_ref)

    @property
    def ref(self) -> DebtRef:
        """The output contract's reference to this debt."""
        return _debt_ref(self.source, self.creditor_id, self.debt_ref)


# The "before" validators above, which migrate a debt stored in an older shape, and the JSON keys
# that only such a debt has: a decoder may skip the validators for JSON without these keys.
DEBT_MIGRATIONS = (DebtState._no_pseudonym, DebtState._one_gate_per_episode)  # noqa: SLF001
DEBT_MIGRATION_KEYS = (b'"bsn_pseudonym"', b'"gate":')


@lru_cache(maxsize=1 << 14)
def _debt_ref(source: Source, creditor_id: str, debt_ref: str) -> DebtRef:
    # A frozen value: one instance per debt serves every output that names it.
    return DebtRef(source=source, creditor_id=creditor_id, debt_ref=debt_ref)


class SeenEvent(_State):
    """A folded event's dedup key, event time and content fingerprint (forgotten after the dedup horizon).

    `fp` tells an identical retry from another content under the same id (signals.overview
    `dedup_verdict`); a state stored before issue 16 has none, and its ids count as duplicates.
    """

    dedup_key: str
    at: AwareDatetime
    fp: str | None = None


class OpenSignal(_State):
    """The household's latest unresolved signal.

    `number`, `earlier_signal_at` and `violations` let news shortly after it update this signal
    in place (signals.limits, coalescing); a state stored before issue 16 has none, and its
    open signal is not updated but followed by a new one, as before.
    """

    signal_id: str
    raised_at: AwareDatetime
    team_id: str
    number: int | None = None
    earlier_signal_at: AwareDatetime | None = None  # the signal was `consecutive` to this one
    violations: tuple[CostViolation, ...] = ()


class CreditorMark(_State):
    """A creditor's signal-worthy amount at the household's last signal (for `repeat`)."""

    source: Source
    creditor_id: str
    cents: int
    crisis: bool = False  # a crisis arising later (end of supply) is news even at the same amount


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
    # The matching period (case) of the last signal and how many signals it has (signals.limits).
    case_period: date | None = None
    case_signals: int = 0

    def debt(self, key: DebtKey) -> DebtState | None:
        """The debt with this key, if known."""
        return next((d for d in self.debts if debt_key(d) == key), None)

    def debts_with(self, debt: DebtState) -> tuple[DebtState, ...]:
        """The debts with this one added or replaced, sorted by key."""
        key = debt_key(debt)
        return tuple(sorted([*(d for d in self.debts if debt_key(d) != key), debt], key=debt_key))

    def with_debt(self, debt: DebtState) -> HouseholdState:
        """A copy with this debt added or replaced, debts kept sorted by key."""
        return copy_with(self, debts=self.debts_with(debt))


# (source, creditor_id, debt_ref) of a debt: `DebtState.key` without a property call, for sorting.
debt_key: Callable[[DebtState], DebtKey] = attrgetter("source", "creditor_id", "debt_ref")
