"""Planted households: fixed scripts whose outcome under the default rules is known in advance.

`generate` writes them on addresses of the routing sample (so they reach real teams) and lists
them in `scenarios.jsonl`; `replay` and the tests check every one with `check_scenarios`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from schemas.contract_v1 import Source
from signals.calendar import local_day
from synthetic.history import DebtWriter, History, Household

__all__ = ["SCENARIOS", "Expectation", "Planted", "Scenario", "check_scenarios", "plant", "planted_addresses"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SignalShape(_Model):
    """Some signal of the household has at least these kinds and exactly this priority."""

    kinds: tuple[str, ...]
    priority: str


class Expectation(_Model):
    """What the outputs of a planted household must show; unset fields are not checked."""

    signal: SignalShape | None = None
    signals: int | None = None
    reminder_issued: bool | None = None
    costs_permitted: bool | None = None
    violations: tuple[str, ...] | None = None
    resolved: bool | None = None


class Scenario(_Model):
    """One line of scenarios.jsonl."""

    name: str
    household_key: str
    description: str
    expect: Expectation


Script = Callable[["_Script"], None]


@dataclass(frozen=True)
class Planted:
    """A scenario script, its expectation and how many days of history it needs."""

    name: str
    description: str
    expect: Expectation
    needs_days: int
    script: Script


@dataclass
class _Script:
    """Helpers for a script: a debt at a source, events on day offsets from the history's start."""

    history: History
    household: Household
    start: date

    def debt(self, source: Source) -> DebtWriter:
        return self.history.debt(self.household, source, record=False)

    def at(self, day: float) -> datetime:
        return datetime.combine(self.start, time(9), tzinfo=UTC) + timedelta(days=day)

    def due(self, day: float, days_before: int) -> date:
        return local_day(self.at(day)) - timedelta(days=days_before)

    def emit(self, d: DebtWriter, day: float, kind: str, amount: int, **fields: Any) -> None:
        d.emit(self.at(day), kind, amount, **fields)


def _multiple(s: _Script) -> None:
    rent, h, e = s.household.rent_cents, s.debt("housing"), s.debt("energy")
    s.emit(h, 3, "debt.opened", 2 * rent, due_date=s.due(3, 45), monthly_amount_cents=rent)
    _landlord_steps(s, h, 3.2, 2 * rent)
    s.emit(e, 4, "debt.opened", 31_000, due_date=s.due(4, 35))
    s.emit(e, 4.5, "reminder.sent", 31_000, reminder_kind="free", term_days=14)


def _landlord_steps(s: _Script, d: DebtWriter, day: float, amount: int) -> None:
    """Besluit gsv art. 2: a landlord shares arrears after a written reminder and a contact attempt."""
    s.emit(d, day, "reminder.sent", amount, reminder_kind="formal", term_days=14)
    s.emit(d, day + 0.1, "contact.attempted", amount, method="home_visit")


def _paid_in_term(s: _Script) -> None:
    w = s.debt("water")
    s.emit(w, 5, "debt.opened", 12_000, due_date=s.due(5, 3))
    s.emit(w, 12, "payment.received", 0, paid_cents=12_000)
    s.emit(w, 12.5, "debt.closed", 0, reason="paid")


def _supply_ending(s: _Script) -> None:
    e = s.debt("energy")
    s.emit(e, 6, "debt.opened", 54_000, due_date=s.due(6, 20))
    s.emit(e, 8, "supply.ending", 54_000, supply_end_date=s.due(8, -21))


def _costs_too_early(s: _Script) -> None:
    w = s.debt("water")
    s.emit(w, 7, "debt.opened", 42_000, due_date=s.due(7, 31))
    s.emit(w, 9, "costs.charged", 42_000, costs_cents=4_000)


def _health_single(s: _Script) -> None:
    premium, d = s.household.premium_cents, s.debt("health")
    s.emit(d, 10, "debt.opened", 2 * premium, due_date=s.due(10, 65), monthly_amount_cents=premium)


def _cjib_unpaid(s: _Script) -> None:
    d = s.debt("cjib")
    s.emit(d, 11, "debt.opened", 25_000, due_date=s.due(11, 1), fine_kind="wahv")


def _rent_crisis(s: _Script) -> None:
    rent, d = s.household.rent_cents, s.debt("housing")
    s.emit(d, 14, "debt.opened", 3 * rent, due_date=s.due(14, 95), monthly_amount_cents=rent)
    _landlord_steps(s, d, 14.2, 3 * rent)


def _resolved(s: _Script) -> None:
    e = s.debt("energy")
    s.emit(e, 15, "debt.opened", 30_000, due_date=s.due(15, 35))
    s.emit(e, 15.5, "reminder.sent", 30_000, reminder_kind="formal", term_days=14)
    s.emit(e, 40, "payment.received", 0, paid_cents=30_000)
    s.emit(e, 40.1, "debt.closed", 0, reason="paid")


def _consecutive(s: _Script) -> None:
    premium, d, w = s.household.premium_cents, s.debt("health"), s.debt("water")
    s.emit(d, 16, "debt.opened", 2 * premium, due_date=s.due(16, 65), monthly_amount_cents=premium)
    s.emit(d, 30, "payment.received", 0, paid_cents=2 * premium)
    s.emit(d, 30.1, "debt.closed", 0, reason="paid")
    s.emit(w, 60, "debt.opened", 20_000, due_date=s.due(60, 35))
    s.emit(w, 60.5, "reminder.sent", 20_000, reminder_kind="formal", term_days=14)


def _above_scale(s: _Script) -> None:
    e = s.debt("energy")
    s.emit(e, 18, "debt.opened", 20_000, due_date=s.due(18, 10))
    # After the gate whatever the calendar: receipt up to 4 days, 14 days, run on past a long weekend.
    s.emit(e, 42, "costs.charged", 20_000, costs_cents=10_000)


def _arrangement(s: _Script) -> None:
    rent, d = s.household.rent_cents, s.debt("housing")
    s.emit(d, 20, "debt.opened", rent, due_date=s.due(20, 10), monthly_amount_cents=rent)
    s.emit(d, 22, "collection.paused", rent, until=s.due(22, -98))
    s.emit(d, 50, "payment.received", rent - rent // 2, paid_cents=rent // 2)
    s.emit(d, 80, "payment.received", 0, paid_cents=rent - rent // 2)
    s.emit(d, 80.1, "debt.closed", 0, reason="arrangement")


def _repeat(s: _Script) -> None:
    e = s.debt("energy")
    s.emit(e, 25, "debt.opened", 30_000, due_date=s.due(25, 35))
    s.emit(e, 25.5, "reminder.sent", 30_000, reminder_kind="formal", term_days=14)
    s.emit(e, 45, "debt.updated", 30_000, due_date=s.due(25, 35))


def _expect(**fields: Any) -> Expectation:
    return Expectation.model_validate(fields)


SCENARIOS: tuple[Planted, ...] = (
    Planted("multiple_high", "rent 45 days (2 months) + energy 35 days -> multiple, high",
            _expect(signal={"kinds": ["multiple"], "priority": "high"}), 12, _multiple),
    Planted("paid_in_term", "water bill paid within the free reminder's term -> reminder, no costs, no signal",
            _expect(reminder_issued=True, costs_permitted=False, signals=0), 25, _paid_in_term),
    Planted("supply_ending", "energy 20 days overdue, then supply.ending -> crisis, urgent",
            _expect(signal={"kinds": ["crisis"], "priority": "urgent"}), 12, _supply_ending),
    Planted("costs_before_pay_by", "water costs charged 2 days after the free reminder -> violation",
            _expect(violations=["before_pay_by"]), 14, _costs_too_early),
    Planted("health_two_premiums", "health premium 2 months, 65 days -> one single, normal signal",
            _expect(signal={"kinds": ["single"], "priority": "normal"}, signals=1), 30, _health_single),
    Planted("cjib_unpaid", "CJIB fine unpaid after the free reminder -> costs permitted, signal",
            _expect(costs_permitted=True, signal={"kinds": ["single"], "priority": "normal"}), 30, _cjib_unpaid),
    Planted("rent_crisis", "rent arrears of 3 months -> crisis, urgent",
            _expect(signal={"kinds": ["crisis"], "priority": "urgent"}), 18, _rent_crisis),
    Planted("resolved", "energy signal, then paid in full and closed -> signal resolved",
            _expect(signals=1, resolved=True), 45, _resolved),
    Planted("consecutive", "health signal resolved, water arrears a month later -> consecutive, high",
            _expect(signal={"kinds": ["consecutive"], "priority": "high"}, signals=2, resolved=True), 65, _consecutive),
    Planted("above_scale", "energy costs above the BIK scale after the gate -> above_scale violation",
            _expect(costs_permitted=True, violations=["above_scale"]), 48, _above_scale),
    Planted("arrangement", "rent paused for an arrangement, paid in two parts -> no signal, no costs",
            _expect(signals=0, costs_permitted=False), 85, _arrangement),
    Planted("repeat", "energy signal, then an update with the same amount -> no second signal (repeat)",
            _expect(signals=1), 50, _repeat),
)  # fmt: skip


def plant(
    history: History, households: Sequence[Household], start: date, horizon_days: int
) -> list[Scenario]:
    """Write every scenario that fits the history onto its household; returns what was planted."""
    planted = []
    for household, scenario in zip(households, SCENARIOS, strict=False):
        if scenario.needs_days > horizon_days:
            continue  # the history ends before the outcome would show
        scenario.script(_Script(history, household, start))
        planted.append(
            Scenario(
                name=scenario.name,
                household_key=household.key,
                description=scenario.description,
                expect=scenario.expect,
            )
        )
    return planted


def _failures(scenario: Scenario, outputs: Mapping[str, list[dict[str, Any]]]) -> list[str]:
    key = scenario.household_key
    mine = {name: [o for o in records if o.get("household_key") == key] for name, records in outputs.items()}
    e, signals = scenario.expect, mine.get("signals", [])
    found: dict[str, Any] = {
        "signals": len({s["signal_id"] for s in signals}),
        "reminder_issued": bool(mine.get("reminders")),
        "costs_permitted": bool(mine.get("costs-permitted")),
        "violations": tuple(sorted(v["kind"] for v in mine.get("cost-violations", []))),
        "resolved": bool(mine.get("signal-resolutions")),
    }
    wanted = e.model_dump(exclude_none=True, exclude={"signal"})
    problems = [f"{k}: expected {v!r}, got {found[k]!r}" for k, v in wanted.items() if found[k] != v]
    if e.signal is not None and not any(
        set(e.signal.kinds) <= set(s["kinds"]) and s["priority"] == e.signal.priority for s in signals
    ):
        seen = [(s["kinds"], s["priority"]) for s in signals]
        problems.append(f"signal: expected kinds {list(e.signal.kinds)} {e.signal.priority}, got {seen}")
    return problems


def check_scenarios(scenarios: Sequence[Scenario], outputs: Mapping[str, list[dict[str, Any]]]) -> list[str]:
    """One line per planted household whose outputs differ from its expectation (empty: all hold).

    `outputs` maps an output file's stem ('signals', 'reminders', ...) to its records.
    """
    return [
        f"{s.name} ({s.household_key}): {problem}" for s in scenarios for problem in _failures(s, outputs)
    ]


def planted_addresses(addresses: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """The sample addresses the scenarios use, spread over the sample's teams by a fixed stride.

    >>> planted_addresses([("1011AB", n) for n in range(1, 41)])[:3]
    [('1011AB', 1), ('1011AB', 4), ('1011AB', 7)]
    """
    return [addresses[(i * 3) % len(addresses)] for i in range(len(SCENARIOS))]
