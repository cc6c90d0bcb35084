"""The rules' numbers: every threshold, term, scale and date the pipeline applies is configuration.

A wrong value fails validation with the setting's path and its allowed range, e.g.
`housing.min_days_overdue: Input should be greater than or equal to 0`. The per-source
defaults and their legal basis come from the table in `signals.sources`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.contract_v1 import SOURCES, Source
from signals.money import eur_en
from signals.sources import SOURCE_FACTS, SourceRule

__all__ = [
    "BikBracket",
    "BikScale",
    "CreditorSettings",
    "FineRaise",
    "FineRegime",
    "Policy",
    "RuleRow",
    "SourceRule",
    "WinterPeriod",
    "describe",
    "describe_rules",
]


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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


class FineRaise(_Settings):
    """One raise of a fine: `percent` of the amount due before it, `after_days` after the previous raise."""

    percent: Annotated[Decimal, Field(ge=0, le=1000)]
    # The next raise may come from the day after this many days since the day of the previous raise
    # (0 for the first raise: from the default).
    after_days: Annotated[int, Field(ge=0, le=3650)] = 0


def _wahv_raises() -> tuple[FineRaise, ...]:
    # WAHV art. 23 (first aanmaning: +50%) and art. 24 (second aanmaning: the raised amount +100%,
    # four weeks after the first): three times the fine in all.
    return (FineRaise(percent=Decimal(50)), FineRaise(percent=Decimal(100), after_days=28))


class FineRegime(_Settings):
    """How a kind of CJIB fine may be raised, and the basis a violation of it names."""

    raises: tuple[FineRaise, ...] = Field(default_factory=_wahv_raises)


class WinterPeriod(_Settings):
    """Regeling afsluitbeleid art. 8: no end of energy supply from `start` to (not including) `end`."""

    start_month: Annotated[int, Field(ge=1, le=12)] = 10
    start_day: Annotated[int, Field(ge=1, le=31)] = 1
    end_month: Annotated[int, Field(ge=1, le=12)] = 4
    end_day: Annotated[int, Field(ge=1, le=31)] = 1

    def contains(self, day: date) -> bool:
        """`day` falls in the winter period (which runs over New Year).

        >>> w = WinterPeriod()
        >>> [w.contains(date(2026, m, d)) for m, d in ((9, 30), (10, 1), (3, 31), (4, 1))]
        [False, True, True, False]
        """
        md, start, end = (
            (day.month, day.day),
            (self.start_month, self.start_day),
            (self.end_month, self.end_day),
        )
        return start <= md or md < end if start > end else start <= md < end


# Besluiten gelijkstelling (Atw art. 3 lid 3) for 2023-2025 and 2026-2028.
_ATW_EQUATED_DAYS: tuple[date, ...] = (
    date(2023, 4, 28),
    date(2023, 5, 19),
    date(2024, 5, 10),
    date(2024, 12, 27),
    date(2025, 5, 30),
    date(2026, 1, 2),
    date(2026, 5, 15),
    date(2027, 5, 7),
    date(2028, 4, 28),
    date(2028, 5, 26),
)


class CreditorSettings(_Settings):
    """Settings of one creditor that differ from its source's (None = the source's setting)."""

    source: Source
    creditor_id: Annotated[str, Field(min_length=1, max_length=64)]
    sends_pipeline_reminders: bool | None = None
    vat_on_costs: bool | None = None


class Policy(_Settings):
    """All configurable numbers of the rules in docs/rules.md; `Policy.default()` gives the defaults."""

    housing: SourceRule = SOURCE_FACTS["housing"].default_rule
    energy: SourceRule = SOURCE_FACTS["energy"].default_rule
    water: SourceRule = SOURCE_FACTS["water"].default_rule
    health: SourceRule = SOURCE_FACTS["health"].default_rule
    cjib: SourceRule = SOURCE_FACTS["cjib"].default_rule
    creditors: tuple[CreditorSettings, ...] = ()
    consecutive_lookback_days: Annotated[int, Field(ge=1, le=3650)] = 183
    crisis_rent_months: Annotated[float, Field(gt=0, le=120)] = 3.0
    dedup_horizon_days: Annotated[int, Field(ge=1, le=3650)] = 90
    lateness_grace_hours: Annotated[int, Field(ge=0, le=24 * 60)] = 48
    bik: BikScale = BikScale()
    vat_percent: Annotated[Decimal, Field(ge=0, le=100)] = Decimal(21)
    # Algemene termijnenwet art. 1: a term ending on a Saturday, Sunday or holiday runs on.
    extend_term_to_working_day: bool = True
    # Atw art. 3 lid 2 puts Good Friday on a par with the holidays for the extension of a term.
    term_extends_over_good_friday: bool = True
    # Atw art. 3 lid 3: days equated by Royal Decree (Besluit gelijkstelling, Staatscourant, every
    # three years); they extend a term only. Update when the next decree appears.
    atw_equated_days: tuple[date, ...] = _ATW_EQUATED_DAYS
    # HR 2016 names Sundays, Mondays and "official public holidays" for the presumed receipt of a
    # letter: Good Friday is not among them by default (post is delivered).
    receipt_skips_good_friday: bool = False
    cjib_wahv: FineRegime = FineRegime()
    # `fine_kind = other`: its own regime; None = raises on such fines are not judged at all.
    cjib_other: FineRegime | None = None
    # The CJIB's free reminder before the first raise of a WAHV fine: a pilot (cabinet policy).
    cjib_free_reminder_pilot_start: date = date(2026, 7, 1)
    # Announced for 18 months: the first day no longer in the pilot (None = open-ended).
    cjib_free_reminder_pilot_end: date | None = date(2028, 1, 1)
    energy_winter: WinterPeriod = WinterPeriod()

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

    def in_cjib_pilot(self, day: date) -> bool:
        """The CJIB's free-reminder pilot runs on this local day (start inclusive, end exclusive)."""
        end = self.cjib_free_reminder_pilot_end
        return self.cjib_free_reminder_pilot_start <= day and (end is None or day < end)

    def rule(self, source: Source) -> SourceRule:
        """The rule of one source."""
        rule: SourceRule = getattr(self, source)
        return rule

    def _creditor(self, source: Source, creditor_id: str) -> CreditorSettings | None:
        return next((c for c in self.creditors if (c.source, c.creditor_id) == (source, creditor_id)), None)

    def sends_pipeline_reminders(self, source: Source, creditor_id: str) -> bool:
        """The creditor sends the pipeline's free reminders (then they are its written reminders)."""
        own = self._creditor(source, creditor_id)
        if own is not None and own.sends_pipeline_reminders is not None:
            return own.sends_pipeline_reminders
        return self.rule(source).sends_pipeline_reminders

    def vat_on_costs(self, source: Source, creditor_id: str) -> bool:
        """The creditor cannot deduct VAT, so it may add it to the collection costs (BIK art. 2 lid 3)."""
        own = self._creditor(source, creditor_id)
        if own is not None and own.vat_on_costs is not None:
            return own.vat_on_costs
        return self.rule(source).vat_on_costs


class RuleRow(NamedTuple):
    """One line of `vroegsignaal rules`: where it applies, the setting, its value, its legal basis."""

    source: str
    rule: str
    value: str
    basis: str


_BW = "art. 6:96 lid 6 BW; HR 25-11-2016, ECLI:NL:HR:2016:2704"
_BIK = "Besluit vergoeding voor buitengerechtelijke incassokosten art. 2"
_ATW = "Algemene termijnenwet art. 1 and 3"
_YES = {True: "yes", False: "no"}


def _source_rows(source: Source, rule: SourceRule) -> list[RuleRow]:
    basis = SOURCE_FACTS[source].basis
    rows = [RuleRow(source, "min_days_overdue", f"{rule.min_days_overdue} days", basis)]
    if rule.min_months_arrears is not None:
        rows.append(
            RuleRow(source, "min_months_arrears", f"{rule.min_months_arrears:g} x monthly amount", basis)
        )
    rows.append(RuleRow(source, "requires_reminder", _YES[rule.requires_reminder], basis))
    if rule.requires_contact_attempt:
        rows.append(RuleRow(source, "requires_contact_attempt", "yes", basis))
    if rule.requires_term_expired:
        rows.append(RuleRow(source, "requires_term_expired", "yes", basis))
    rows += [
        RuleRow(
            source, "reminder_term_days", f"{rule.reminder_term_days} days from the day after receipt", _BW
        ),
        RuleRow(source, "sends_pipeline_reminders", _YES[rule.sends_pipeline_reminders], basis),
        RuleRow(source, "vat_on_costs", _YES[rule.vat_on_costs], f"{_BIK} lid 3"),
    ]
    return rows


def _regime(name: str, regime: FineRegime | None, basis: str) -> list[RuleRow]:
    if regime is None:
        return [RuleRow("cjib", name, "not configured: raises are not judged", basis)]
    return [
        RuleRow(
            "cjib",
            f"{name} raise {n}",
            f"+{r.percent}% of the amount due, {r.after_days} days after the previous",
            basis,
        )
        for n, r in enumerate(regime.raises, start=1)
    ]


def _date_span(days: tuple[date, ...]) -> str:
    if not days:
        return "none"
    return f"{len(days)} days, {min(days).isoformat()} to {max(days).isoformat()} (docs/rules.md lists them)"


def describe_rules(policy: Policy) -> list[RuleRow]:
    """Every rule with its setting, value and legal basis, for `vroegsignaal rules` and docs/rules.md.

    >>> describe_rules(Policy.default())[0]
    RuleRow(source='housing', rule='min_days_overdue', value='30 days', basis='Besluit gemeentelijke schuldhulpverlening art. 2 (landlord: rent arrears, written reminder after default, attempt at personal contact)')
    >>> [r.value for r in describe_rules(Policy.default()) if r.rule == "bik bracket 5"]
    ['0.5% above']
    """
    rows: list[RuleRow] = []
    for source in SOURCES:
        rows.extend(_source_rows(source, policy.rule(source)))
    for c in policy.creditors:
        for setting in ("sends_pipeline_reminders", "vat_on_costs"):
            value = getattr(c, setting)
            if value is not None:
                rows.append(
                    RuleRow(c.source, f"{setting} ({c.creditor_id})", _YES[value], "creditor setting")
                )
    term = "Algemene termijnenwet art. 1"
    rows += [
        RuleRow(
            "calendar",
            "presumed receipt by post",
            "2nd day after sending; Sun, Mon, holidays not counted",
            _BW,
        ),
        RuleRow("calendar", "extend_term_to_working_day", _YES[policy.extend_term_to_working_day], term),
        RuleRow(
            "calendar",
            "term_extends_over_good_friday",
            _YES[policy.term_extends_over_good_friday],
            "Algemene termijnenwet art. 3 lid 2",
        ),
        RuleRow(
            "calendar",
            "atw_equated_days",
            _date_span(policy.atw_equated_days),
            "Algemene termijnenwet art. 3 lid 3 (Besluit gelijkstelling)",
        ),
        RuleRow("calendar", "receipt_skips_good_friday", _YES[policy.receipt_skips_good_friday], _BW),
        RuleRow(
            "household", "consecutive_lookback_days", f"{policy.consecutive_lookback_days} days", "DESIGN.md"
        ),
        RuleRow(
            "household", "crisis_rent_months", f"{policy.crisis_rent_months:g} x monthly rent", "DESIGN.md"
        ),
        RuleRow("household", "dedup_horizon_days", f"{policy.dedup_horizon_days} days", "DESIGN.md"),
        RuleRow("household", "lateness_grace_hours", f"{policy.lateness_grace_hours} hours", "DESIGN.md"),
        RuleRow(
            "cjib",
            "cjib_free_reminder_pilot_end",
            policy.cjib_free_reminder_pilot_end.isoformat()
            if policy.cjib_free_reminder_pilot_end
            else "none",
            "policy: CJIB pilot of a free reminder before the first raise (18 months; end exclusive)",
        ),
        RuleRow(
            "cjib",
            "cjib_free_reminder_pilot_start",
            policy.cjib_free_reminder_pilot_start.isoformat(),
            "policy: CJIB pilot of a free reminder before the first raise (cabinet, 4-9-2025)",
        ),
    ]
    rows += _regime("cjib_wahv", policy.cjib_wahv, "WAHV art. 23/24")
    rows += _regime("cjib_other", policy.cjib_other, "CJIB fine regime (configured)")
    w = policy.energy_winter
    rows.append(
        RuleRow(
            "energy",
            "energy_winter",
            f"{w.start_day:02d}-{w.start_month:02d} to {w.end_day:02d}-{w.end_month:02d}",
            "Regeling afsluitbeleid kleinverbruikers elektriciteit en gas art. 8",
        )
    )
    for number, bracket in enumerate(policy.bik.brackets, start=1):
        width = "above" if bracket.width_cents is None else f"of the next {eur_en(bracket.width_cents)}"
        rows.append(RuleRow("bik", f"bik bracket {number}", f"{bracket.percent}% {width}", f"{_BIK} lid 1"))
    rows.append(RuleRow("bik", "bik minimum", eur_en(policy.bik.minimum_cents), f"{_BIK} lid 1"))
    rows.append(RuleRow("bik", "bik maximum", eur_en(policy.bik.maximum_cents), f"{_BIK} lid 1"))
    rows.append(RuleRow("bik", "vat_percent", f"{policy.vat_percent}%", f"{_BIK} lid 3"))
    return rows


def describe(policy: Policy) -> list[tuple[str, str, str]]:
    """Rows (source, rule, value) of `describe_rules`, for the three-column table of older callers.

    >>> describe(Policy.default())[0]
    ('housing', 'min_days_overdue', '30 days')
    """
    return [(row.source, row.rule, row.value) for row in describe_rules(policy)]
