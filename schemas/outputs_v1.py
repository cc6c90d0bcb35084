"""Output contracts v1: what the pipeline emits to teams, creditors and the read model.

Every output carries a deterministic id derived from its inputs, so processing
the same history again emits the same ids and every sink can upsert on them.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator

from schemas.contract_v1 import Source

Priority = Literal["urgent", "high", "normal"]
SignalKind = Literal["single", "multiple", "consecutive", "crisis"]
ViolationKind = Literal[
    "before_pay_by", "above_scale", "above_raise", "before_free_reminder", "supply_ending_in_winter"
]
# v1.1: the legal (or policy) basis a violation is judged on; a label for teams, creditors and metrics.
ViolationBasis = Literal[
    "art. 6:96 lid 6 BW: before the end of the term",
    "BIK: above the scale",
    "WAHV art. 23/24: above the raise",
    "CJIB fine regime (configured): above the raise",
    "policy: free reminder first",
    "Regeling afsluitbeleid art. 8: end of supply in winter",
]
# The basis of each kind; `policy: free reminder first` is cabinet policy (the CJIB pilot), not law.
VIOLATION_BASIS: Final[dict[ViolationKind, ViolationBasis]] = {
    "before_pay_by": "art. 6:96 lid 6 BW: before the end of the term",
    "above_scale": "BIK: above the scale",
    "above_raise": "WAHV art. 23/24: above the raise",
    "before_free_reminder": "policy: free reminder first",
    "supply_ending_in_winter": "Regeling afsluitbeleid art. 8: end of supply in winter",
}
DebtStatus = Literal["open", "paused", "closed"]


class _Output(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DebtRef(_Output):
    """Which debt: (source, creditor_id, debt_ref) is unique."""

    source: Source
    creditor_id: str
    debt_ref: str


class Reason(_Output):
    """Why, for a person: a stable code and the sentence in Dutch and English."""

    code: str
    nl: str
    en: str


class DebtSnapshot(_Output):
    """One debt as the team sees it at the moment of the signal."""

    debt: DebtRef
    creditor_name: str
    principal_cents: int
    costs_cents: int
    days_overdue: int
    status: DebtStatus
    signal_worthy: bool


class CostViolation(_Output):
    """A creditor acted before the law (or policy) allowed it, or charged more than allowed.

    Costs before the free reminder's term ran out, above the BIK scale or the CJIB raise, or (with
    `charged_cents` and `permitted_cents` 0) an end of energy supply in the winter period.
    """

    type: Literal["cost_violation"] = "cost_violation"
    v: Literal[1] = 1
    violation_id: str
    household_key: str
    debt: DebtRef
    kind: ViolationKind
    basis: ViolationBasis
    charged_cents: int
    permitted_cents: int
    occurred_at: AwareDatetime

    @model_validator(mode="before")
    @classmethod
    def _basis_of_v1_0(cls, data: Any) -> Any:
        """A violation written before v1.1 has no basis: it follows from its kind."""
        if isinstance(data, dict) and "basis" not in data and data.get("kind") in VIOLATION_BASIS:
            return {**data, "basis": VIOLATION_BASIS[data["kind"]]}
        return data


class Route(_Output):
    """Where a household belongs: CBS codes and the team, with the map version used."""

    team_id: str
    buurt_code: str | None
    wijk_code: str | None
    gemeente_code: str | None
    map_version: str
    fallback: bool


class Signal(_Output):
    """An early-warning signal for a neighbourhood team."""

    type: Literal["signal"] = "signal"
    v: Literal[1] = 1
    signal_id: str
    household_key: str
    route: Route
    priority: Priority
    kinds: tuple[SignalKind, ...]
    reasons: tuple[Reason, ...]
    debts: tuple[DebtSnapshot, ...]
    total_cents: int
    violations: tuple[CostViolation, ...]
    raised_at: AwareDatetime


class SignalResolved(_Output):
    """Every debt of the household is settled: its open signal needs no visit anymore."""

    type: Literal["signal_resolved"] = "signal_resolved"
    v: Literal[1] = 1
    resolution_id: str
    signal_id: str
    household_key: str
    team_id: str
    resolved_at: AwareDatetime


class DebtorContact(_Output):
    """How to reach the debtor with the free reminder (never the BSN)."""

    name: str
    phone: str | None
    email: str | None
    street: str | None
    house: str
    postcode: str
    city: str | None


class ReminderIssued(_Output):
    """Command to the creditor: send this free reminder; no costs before `pay_by`."""

    type: Literal["reminder_issued"] = "reminder_issued"
    v: Literal[1] = 1
    reminder_id: str
    household_key: str
    debt: DebtRef
    contact: DebtorContact
    amount_cents: int
    issued_at: AwareDatetime
    pay_by: date


class CostsPermitted(_Output):
    """The free reminder's term ran out unpaid: from `costs_from` the creditor may charge up to this.

    `permitted_at` is the start of the local day `costs_from` (Europe/Amsterdam) in UTC: the day
    after the last day of the term. `max_costs_cents` includes `vat_cents` (BIK art. 2 lid 3).
    """

    type: Literal["costs_permitted"] = "costs_permitted"
    v: Literal[1] = 1
    decision_id: str
    household_key: str
    debt: DebtRef
    reminder_id: str | None
    principal_cents: int
    max_costs_cents: int
    permitted_at: AwareDatetime
    costs_from: date | None = None
    vat_cents: int = 0


Effect = Signal | SignalResolved | ReminderIssued | CostsPermitted | CostViolation


class ReminderView(_Output):
    """A reminder on a debt, by the creditor or issued by the pipeline."""

    kind: Literal["free", "formal"]
    sent_on: date
    term_days: int
    issued_by: Literal["creditor", "pipeline"]


class EpisodeView(_Output):
    """An earlier arrears episode of a debt: owed, then settled; its reminders and costs stay its own."""

    number: int
    started_at: AwareDatetime
    settled_at: AwareDatetime | None
    costs_cents: int
    reminders: tuple[ReminderView, ...]


class DebtView(_Output):
    """One debt in the integrated overview; reminders, pay-by and costs gate are of its current episode."""

    debt: DebtRef
    creditor_name: str
    principal_cents: int
    costs_cents: int
    paid_cents: int
    due_date: date | None
    days_overdue: int
    status: DebtStatus
    close_reason: str | None
    reminders: tuple[ReminderView, ...]
    pay_by: date | None
    costs_permitted: bool
    last_event_at: AwareDatetime
    episode: int = 1
    earlier_episodes: tuple[EpisodeView, ...] = ()


class HouseholdOverview(_Output):
    """The integrated debt overview of one household as of its own clock (latest snapshot wins)."""

    type: Literal["household_overview"] = "household_overview"
    v: Literal[1] = 1
    household_key: str
    as_of: AwareDatetime
    team_id: str
    buurt_code: str | None
    debts: tuple[DebtView, ...]
    total_principal_cents: int
    total_costs_cents: int
    open_creditors: int
    source_kinds: int
    open_signal_id: str | None
