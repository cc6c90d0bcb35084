"""The per-source table: one place for what each source's rule is, why, and how a team reads it.

Each row holds the source's default thresholds and steps (`SourceRule`, configurable through
`Policy`), the legal basis of those steps (Wet gemeentelijke schuldhulpverlening art. 4a; for
landlords Besluit gemeentelijke schuldhulpverlening art. 2; the energy and water regulations;
the Zorgverzekeringswet for health insurers), whether its debts carry a monthly amount, and the reason sentence a
signal shows. Rules, generators and docs read this table instead of repeating it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field

from schemas.contract_v1 import Source

__all__ = ["SOURCE_FACTS", "ReasonText", "SourceFacts", "SourceRule"]


class SourceRule(BaseModel):
    """When one source's debt is signal-worthy, and the free reminder's term for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Days since the oldest unpaid due date; a debt is never signal-worthy before it is in default
    # (the day after its due date), whatever this floor is.
    min_days_overdue: Annotated[int, Field(ge=0, le=3650)] = 30
    # Arrears as a multiple of the monthly amount (rent, premium); None = no amount condition.
    min_months_arrears: Annotated[float, Field(ge=0, le=120)] | None = None
    # Besluit gsv art. 2: a written reminder sent after default before the debt may be shared.
    requires_reminder: bool = False
    # Besluit gsv art. 2 (landlords): an attempt at personal contact (a `contact.attempted` event).
    requires_contact_attempt: bool = False
    # CJIB: signal-worthy only once the free reminder's term ran out unpaid.
    requires_term_expired: bool = False
    # 14 days is the legal minimum of art. 6:96 lid 6 BW; creditor reminders with a shorter term do
    # not open the cost gate.
    reminder_term_days: Annotated[int, Field(ge=14, le=365)] = 14
    # The creditors of this source send the pipeline's free reminder: then it counts as their
    # written reminder for `requires_reminder` (it always counts for the cost gate).
    sends_pipeline_reminders: bool = False
    # BIK art. 2 lid 3: a creditor that cannot deduct VAT may add it to the scale amount.
    vat_on_costs: bool = False


@dataclass(frozen=True, slots=True)
class ReasonText:
    """A signal reason's code and its sentence templates; fields: months, amount, days, reminders."""

    code: str
    nl: str
    en: str


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """One source's row: default rule, legal basis of its steps, monthly amounts, reason texts."""

    default_rule: SourceRule
    basis: str
    monthly_amount: bool
    reason: ReasonText


_ATTRIBUTION = "Besluit gemeentelijke schuldhulpverlening art. 2"

SOURCE_FACTS: Final[Mapping[Source, SourceFacts]] = MappingProxyType(
    {
        "housing": SourceFacts(
            default_rule=SourceRule(
                min_days_overdue=30,
                min_months_arrears=1.0,
                requires_reminder=True,
                requires_contact_attempt=True,
            ),
            basis=f"{_ATTRIBUTION} (landlord: rent arrears, written reminder after default, "
            "attempt at personal contact)",
            monthly_amount=True,
            reason=ReasonText(
                code="housing_arrears",
                nl="Huurachterstand van {months_nl} ({amount_nl}), {days_nl}",
                en="Rent arrears of {months_en} ({amount_en}), {days_en}",
            ),
        ),
        "energy": SourceFacts(
            default_rule=SourceRule(min_days_overdue=30, requires_reminder=True),
            basis="Wgs art. 4a; Regeling afsluitbeleid voor kleinverbruikers van elektriciteit en gas "
            "art. 3 (at least one written reminder)",
            monthly_amount=False,
            reason=ReasonText(
                code="energy_arrears",
                nl="Energierekening onbetaald ({amount_nl}), {days_nl}, na {reminders_nl}",
                en="Energy bill unpaid ({amount_en}), {days_en}, after {reminders_en}",
            ),
        ),
        "water": SourceFacts(
            default_rule=SourceRule(min_days_overdue=30, requires_reminder=True),
            basis="Wgs art. 4a; Regeling afsluitbeleid drinkwater (written reminder)",
            monthly_amount=False,
            reason=ReasonText(
                code="water_arrears",
                nl="Waterrekening onbetaald ({amount_nl}), {days_nl}, na {reminders_nl}",
                en="Water bill unpaid ({amount_en}), {days_en}, after {reminders_en}",
            ),
        ),
        "health": SourceFacts(
            default_rule=SourceRule(min_days_overdue=0, min_months_arrears=2.0),
            basis="Wgs art. 4a; Zorgverzekeringswet art. 18a (health insurer: two unpaid monthly "
            "premiums, signalled when the second is unpaid)",
            monthly_amount=True,
            reason=ReasonText(
                code="health_arrears",
                nl="Premieachterstand zorgverzekering van {months_nl} ({amount_nl}), {days_nl}",
                en="Health insurance premium arrears of {months_en} ({amount_en}), {days_en}",
            ),
        ),
        "cjib": SourceFacts(
            default_rule=SourceRule(min_days_overdue=0, requires_term_expired=True),
            basis="not a signalling creditor of the Besluit; project policy: unpaid after the "
            "free reminder's term",
            monthly_amount=False,
            reason=ReasonText(
                code="cjib_unpaid",
                nl="CJIB-boete onbetaald na de betalingsherinnering ({amount_nl})",
                en="CJIB fine unpaid after the free reminder ({amount_en})",
            ),
        ),
    }
)
