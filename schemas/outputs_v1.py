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
    # Attribute docstrings become the fields' descriptions in the exported JSON Schemas.
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class DebtRef(_Output):
    """Which debt: (source, creditor_id, debt_ref) is unique."""

    source: Source
    """The creditor's source, as in the events it sent."""
    creditor_id: str
    """The creditor's `creditor_id` from its events: which creditor of the source the record is for."""
    debt_ref: str
    """The creditor's reference of the claim, from its events."""


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
    """Deterministic id: the same history gives the same id, so drop a repeat by it."""
    household_key: str
    """The household (postcode-number[letter][-addition]); also the Kafka message key."""
    debt: DebtRef
    """The debt the costs (or the end of supply) belong to."""
    kind: ViolationKind
    """What was wrong: too early (`before_pay_by`, `before_free_reminder`), too high (`above_scale`,
    `above_raise`), or an end of supply in the winter period (`supply_ending_in_winter`)."""
    basis: ViolationBasis
    """(v1.1) The rule the violation is judged on (law, or policy for `before_free_reminder`)."""
    charged_cents: int
    """The costs judged, in euro cents: the charge, or for a judgement against a maximum the
    costs of the arrears episode so far; 0 for an end of supply."""
    permitted_cents: int
    """The most that was permitted at that moment, in euro cents; 0 when nothing was."""
    occurred_at: AwareDatetime
    """When the costs were charged (or the end of supply announced), from the creditor's event."""

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
    """The debtor's name as the creditor last sent it."""
    phone: str | None
    """The debtor's phone number as the creditor last sent it, if any."""
    email: str | None
    """The debtor's e-mail address as the creditor last sent it, if any."""
    street: str | None
    """The street, if the creditor sent one."""
    house: str
    """House number with letter and addition, as BAG writes them (`12A`, `12-2`)."""
    postcode: str
    """Normalised Dutch postcode, `1234AB`."""
    city: str | None
    """The city (woonplaats), if the creditor sent one."""


class ReminderIssued(_Output):
    """Command to the creditor: send this free reminder; no costs before `pay_by`."""

    type: Literal["reminder_issued"] = "reminder_issued"
    v: Literal[1] = 1
    reminder_id: str
    """Deterministic id: the same history gives the same id, so drop a repeat by it."""
    household_key: str
    """The household (postcode-number[letter][-addition]); also the Kafka message key."""
    debt: DebtRef
    """The debt to send the reminder for."""
    contact: DebtorContact
    """Where to send it: the debtor's name, address and contact details (never the BSN)."""
    amount_cents: int
    """The principal the reminder is about, in euro cents, when it is issued."""
    issued_at: AwareDatetime
    """When the reminder goes out (UTC): the debtor's term runs from then."""
    pay_by: date
    """The last day to pay, to name in the letter: no collection costs before it has passed."""


class CostsPermitted(_Output):
    """The free reminder's term ran out unpaid: from `costs_from` the creditor may charge up to this.

    `permitted_at` is the start of the local day `costs_from` (Europe/Amsterdam) in UTC: the day
    after the last day of the term. `max_costs_cents` includes `vat_cents` (BIK art. 2 lid 3).
    """

    type: Literal["costs_permitted"] = "costs_permitted"
    v: Literal[1] = 1
    decision_id: str
    """Deterministic id: the same history gives the same id, so drop a repeat by it."""
    household_key: str
    """The household (postcode-number[letter][-addition]); also the Kafka message key."""
    debt: DebtRef
    """The debt costs may now be charged on."""
    reminder_id: str | None
    """The pipeline's free reminder whose term ran out; null when the free reminder was the creditor's own."""
    principal_cents: int
    """The unpaid principal in euro cents when costs became permitted."""
    max_costs_cents: int
    """The most collection costs that may be charged, in euro cents, VAT included."""
    permitted_at: AwareDatetime
    """The start of the local day `costs_from` (Europe/Amsterdam), in UTC."""
    costs_from: date | None = None
    """(v1.1) The first day costs may be charged; null only in records written before v1.1."""
    vat_cents: int = 0
    """(v1.1) The VAT within `max_costs_cents`, for a creditor that cannot deduct it."""


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
