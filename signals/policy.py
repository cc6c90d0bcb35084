"""The rules' numbers: every threshold, term and scale the pipeline applies is configuration.

A wrong value fails validation with the setting's path and its allowed range, e.g.
`housing.min_days_overdue: Input should be greater than or equal to 0`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.contract_v1 import SOURCES, Source

__all__ = ["BikBracket", "BikScale", "Policy", "SourceRule", "describe"]


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceRule(_Settings):
    """When one source's debt is signal-worthy, and the free reminder's term for it."""

    min_days_overdue: Annotated[int, Field(ge=0, le=3650)] = 30
    # Arrears as a multiple of the monthly amount (rent, premium); None = no amount condition.
    min_months_arrears: Annotated[float, Field(ge=0, le=120)] | None = None
    requires_reminder: bool = False
    # CJIB: signal-worthy only once the free reminder's term ran out unpaid.
    requires_term_expired: bool = False
    # 14 days is the legal minimum of art. 6:96 lid 6 BW; creditor reminders with a shorter term do
    # not open the cost gate.
    reminder_term_days: Annotated[int, Field(ge=14, le=365)] = 14


class BikBracket(_Settings):
    """One slice of the BIK scale: `percent` of the next `width_cents` (None = everything above)."""

    width_cents: Annotated[int, Field(gt=0, le=10**12)] | None
    percent: Annotated[Decimal, Field(ge=0, le=100)]


def _default_brackets() -> tuple[BikBracket, ...]:
    return (
        BikBracket(width_cents=250_000, percent=Decimal(15)),
        BikBracket(width_cents=250_000, percent=Decimal(10)),
        BikBracket(width_cents=500_000, percent=Decimal(5)),
        BikBracket(width_cents=19_000_000, percent=Decimal(1)),
        BikBracket(width_cents=None, percent=Decimal("0.5")),
    )


class BikScale(_Settings):
    """Besluit vergoeding voor buitengerechtelijke incassokosten: brackets, minimum and maximum."""

    brackets: tuple[BikBracket, ...] = Field(default_factory=_default_brackets, min_length=1)
    minimum_cents: Annotated[int, Field(ge=0, le=10**9)] = 4_000
    maximum_cents: Annotated[int, Field(ge=0, le=10**9)] = 677_500

    @model_validator(mode="after")
    def _well_formed(self) -> BikScale:
        if self.brackets[-1].width_cents is not None:
            raise ValueError("bik.brackets: the last bracket must have width_cents None (open-ended)")
        if any(b.width_cents is None for b in self.brackets[:-1]):
            raise ValueError("bik.brackets: only the last bracket may be open-ended")
        if self.minimum_cents > self.maximum_cents:
            raise ValueError("bik.minimum_cents must not exceed bik.maximum_cents")
        return self


class Policy(_Settings):
    """All configurable numbers of the rules in DESIGN.md; `Policy.default()` gives the defaults."""

    housing: SourceRule = SourceRule(min_days_overdue=30, min_months_arrears=1.0)
    energy: SourceRule = SourceRule(min_days_overdue=30, requires_reminder=True)
    water: SourceRule = SourceRule(min_days_overdue=30, requires_reminder=True)
    health: SourceRule = SourceRule(min_days_overdue=60, min_months_arrears=2.0)
    cjib: SourceRule = SourceRule(min_days_overdue=0, requires_term_expired=True)
    consecutive_lookback_days: Annotated[int, Field(ge=1, le=3650)] = 183
    crisis_rent_months: Annotated[float, Field(gt=0, le=120)] = 3.0
    dedup_horizon_days: Annotated[int, Field(ge=1, le=3650)] = 90
    lateness_grace_hours: Annotated[int, Field(ge=0, le=24 * 60)] = 48
    bik: BikScale = BikScale()
    cjib_increase_percent: Annotated[Decimal, Field(ge=0, le=1000)] = Decimal(50)

    @model_validator(mode="before")
    @classmethod
    def _merge_partial_source_rules(cls, data: Any) -> Any:
        """`[rules.health] min_days_overdue = 75` changes that number only, not the rest of health's rule."""
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for source in SOURCES:
            given = data.get(source)
            if isinstance(given, dict):
                default = cls.model_fields[source].default
                merged[source] = {**default.model_dump(), **given}
        return merged

    @classmethod
    def default(cls) -> Policy:
        """The defaults of DESIGN.md."""
        return cls()

    def rule(self, source: Source) -> SourceRule:
        """The rule of one source."""
        rule: SourceRule = getattr(self, source)
        return rule


def _eur(cents: int) -> str:
    return f"EUR {cents / 100:,.2f}"


def _source_rows(source: Source, rule: SourceRule) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = [(source, "min_days_overdue", f"{rule.min_days_overdue} days")]
    if rule.min_months_arrears is not None:
        rows.append((source, "min_months_arrears", f"{rule.min_months_arrears:g} x monthly amount"))
    rows.append((source, "requires_reminder", "yes" if rule.requires_reminder else "no"))
    if rule.requires_term_expired:
        rows.append((source, "requires_term_expired", "yes"))
    rows.append((source, "reminder_term_days", f"{rule.reminder_term_days} days"))
    return rows


def describe(policy: Policy) -> list[tuple[str, str, str]]:
    """Rows (source, rule, value) for the `vroegsignaal rules` table.

    >>> describe(Policy.default())[0]
    ('housing', 'min_days_overdue', '30 days')
    >>> [row for row in describe(Policy.default()) if row[1] == "bik bracket 5"]
    [('bik', 'bik bracket 5', '0.5% above')]
    """
    rows: list[tuple[str, str, str]] = []
    for source in SOURCES:
        rows.extend(_source_rows(source, policy.rule(source)))
    rows += [
        ("household", "consecutive_lookback_days", f"{policy.consecutive_lookback_days} days"),
        ("household", "crisis_rent_months", f"{policy.crisis_rent_months:g} x monthly rent"),
        ("household", "dedup_horizon_days", f"{policy.dedup_horizon_days} days"),
        ("household", "lateness_grace_hours", f"{policy.lateness_grace_hours} hours"),
        ("cjib", "cjib_increase_percent", f"{policy.cjib_increase_percent}% of the original fine"),
    ]
    for number, bracket in enumerate(policy.bik.brackets, start=1):
        width = "above" if bracket.width_cents is None else f"of the next {_eur(bracket.width_cents)}"
        rows.append(("bik", f"bik bracket {number}", f"{bracket.percent}% {width}"))
    rows.append(("bik", "bik minimum", _eur(policy.bik.minimum_cents)))
    rows.append(("bik", "bik maximum", _eur(policy.bik.maximum_cents)))
    return rows
