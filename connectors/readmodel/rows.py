"""Pure mapping between the output contracts and the read model's rows (no database here).

`plan_batch` turns one batch of pipeline outputs into the rows to upsert, applying
the batch rules: the same id twice keeps the last, and for one household the
newest overview wins (the last one on a tie).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas.outputs_v1 import (
    CostsPermitted,
    CostViolation,
    DebtRef,
    DebtView,
    Effect,
    HouseholdOverview,
    ReminderIssued,
    Route,
    Signal,
    SignalResolved,
)

Row = dict[str, Any]
Item = Effect | HouseholdOverview


def debt_key(ref: DebtRef) -> Row:
    """The three columns that name a debt."""
    return {"source": ref.source, "creditor_id": ref.creditor_id, "debt_ref": ref.debt_ref}


def household_row(ov: HouseholdOverview) -> Row:
    """The `households` row of an overview (the writer adds `updated_at`)."""
    return {
        "household_key": ov.household_key,
        "as_of": ov.as_of,
        "team_id": ov.team_id,
        "buurt_code": ov.buurt_code,
        "total_principal_cents": ov.total_principal_cents,
        "total_costs_cents": ov.total_costs_cents,
        "open_creditors": ov.open_creditors,
        "source_kinds": ov.source_kinds,
        "open_signal_id": ov.open_signal_id,
    }


_JSON_COLUMNS = {"reminders", "earlier_episodes"}
_DEBT_COLUMNS = set(DebtView.model_fields) - _JSON_COLUMNS - {"debt"}


def debt_rows(ov: HouseholdOverview) -> list[Row]:
    """The `debts` rows of an overview, in its order; a repeated debt keeps its last view."""
    by_key: dict[tuple[str, str, str], Row] = {}
    # Two dumps per overview, not one per debt, reminder and episode (the sink's largest rows).
    views = ov.model_dump(mode="python", include={"debts": {"__all__": _DEBT_COLUMNS}})["debts"]
    nested = ov.model_dump(mode="json", include={"debts": {"__all__": _JSON_COLUMNS}})["debts"]
    for view, columns, json_columns in zip(ov.debts, views, nested, strict=True):
        row = {"household_key": ov.household_key, **debt_key(view.debt)} | columns | json_columns
        by_key[(view.debt.source, view.debt.creditor_id, view.debt.debt_ref)] = row
    return [row | {"position": i} for i, row in enumerate(by_key.values())]


def signal_row(sig: Signal) -> Row:
    """The `signals` row of a signal; `resolved_at`/`resolution_id` come from resolutions."""
    return {
        "signal_id": sig.signal_id,
        "household_key": sig.household_key,
        "team_id": sig.route.team_id,
        "buurt_code": sig.route.buurt_code,
        "wijk_code": sig.route.wijk_code,
        "gemeente_code": sig.route.gemeente_code,
        "map_version": sig.route.map_version,
        "route_fallback": sig.route.fallback,
        "priority": sig.priority,
        "kinds": list(sig.kinds),
        # One dump of the three JSON columns instead of one per reason, debt and violation.
        **sig.model_dump(mode="json", include={"reasons", "debts", "violations"}),
        "total_cents": sig.total_cents,
        "raised_at": sig.raised_at,
    }


def resolution_row(res: SignalResolved) -> Row:
    """The `signal_resolutions` row of a resolution."""
    return res.model_dump(mode="python", exclude={"type", "v"})


def reminder_row(rem: ReminderIssued) -> Row:
    """The `reminders` row of an issued reminder, contact details flattened."""
    contact = {f"contact_{k}": v for k, v in rem.contact.model_dump(mode="python").items()}
    base = rem.model_dump(mode="python", exclude={"type", "v", "debt", "contact"})
    return base | debt_key(rem.debt) | contact


def decision_row(cp: CostsPermitted) -> Row:
    """The `cost_gate_decisions` row of a costs-permitted decision."""
    return cp.model_dump(mode="python", exclude={"type", "v", "debt"}) | debt_key(cp.debt)


def violation_row(cv: CostViolation, signal_id: str | None = None) -> Row:
    """The `cost_violations` row of a violation, linked to the signal that carried it, if any."""
    base = cv.model_dump(mode="python", exclude={"type", "v", "debt"})
    return base | debt_key(cv.debt) | {"signal_id": signal_id}


def link_signal(current: str | None, new: str | None) -> str | None:
    """The signal a violation links to: the smallest id that carried it, so order does not matter."""
    links = [s for s in (current, new) if s is not None]
    return min(links) if links else None


@dataclass
class BatchRows:
    """The rows one batch writes, deduplicated on their ids."""

    households: dict[str, Row] = field(default_factory=dict)
    debts: dict[str, list[Row]] = field(default_factory=dict)
    signals: dict[str, Row] = field(default_factory=dict)
    resolutions: dict[str, Row] = field(default_factory=dict)
    reminders: dict[str, Row] = field(default_factory=dict)
    decisions: dict[str, Row] = field(default_factory=dict)
    violations: dict[str, Row] = field(default_factory=dict)

    def add_violation(self, row: Row) -> None:
        """Keep the last content of a violation but the order-free signal link."""
        old = self.violations.get(row["violation_id"])
        link = link_signal(old["signal_id"] if old else None, row["signal_id"])
        self.violations[row["violation_id"]] = row | {"signal_id": link}

    def add_overview(self, ov: HouseholdOverview) -> None:
        """Keep the newest overview of a household; on equal `as_of` the later one."""
        old = self.households.get(ov.household_key)
        if old is not None and old["as_of"] > ov.as_of:
            return
        self.households[ov.household_key] = household_row(ov)
        self.debts[ov.household_key] = debt_rows(ov)


def plan_batch(batch: Sequence[Item]) -> BatchRows:
    """Rows to upsert for one batch, each id once."""
    rows = BatchRows()
    for item in batch:
        match item:
            case HouseholdOverview():
                rows.add_overview(item)
            case Signal():
                rows.signals[item.signal_id] = signal_row(item)
                for cv in item.violations:
                    rows.add_violation(violation_row(cv, item.signal_id))
            case SignalResolved():
                rows.resolutions[item.resolution_id] = resolution_row(item)
            case ReminderIssued():
                rows.reminders[item.reminder_id] = reminder_row(item)
            case CostsPermitted():
                rows.decisions[item.decision_id] = decision_row(item)
            case CostViolation():
                rows.add_violation(violation_row(item))
            case _:
                raise TypeError(f"not a read-model output: {type(item).__name__}")
    return rows


def overview_from_rows(household: Mapping[Any, Any], debts: Sequence[Mapping[Any, Any]]) -> HouseholdOverview:
    """Rebuild an overview from its `households` row and `debts` rows."""
    views = [_debt_view(d) for d in sorted(debts, key=lambda d: d["position"])]
    fields = {k: household[k] for k in _HOUSEHOLD_FIELDS}
    return HouseholdOverview.model_validate(fields | {"debts": tuple(views)})


_HOUSEHOLD_FIELDS = (
    "household_key",
    "as_of",
    "team_id",
    "buurt_code",
    "total_principal_cents",
    "total_costs_cents",
    "open_creditors",
    "source_kinds",
    "open_signal_id",
)
_DEBT_VIEW_FIELDS = tuple(f for f in DebtView.model_fields if f != "debt")


def _debt_view(row: Mapping[Any, Any]) -> DebtView:
    """Rebuild one debt view from its `debts` row."""
    fields = {k: row[k] for k in _DEBT_VIEW_FIELDS}
    ref = DebtRef(source=row["source"], creditor_id=row["creditor_id"], debt_ref=row["debt_ref"])
    return DebtView.model_validate(fields | {"debt": ref})


def signal_from_row(row: Mapping[Any, Any]) -> Signal:
    """Rebuild a signal from its `signals` row."""
    route = Route(
        team_id=row["team_id"],
        buurt_code=row["buurt_code"],
        wijk_code=row["wijk_code"],
        gemeente_code=row["gemeente_code"],
        map_version=row["map_version"],
        fallback=row["route_fallback"],
    )
    fields = {k: row[k] for k in _SIGNAL_FIELDS}
    return Signal.model_validate(fields | {"route": route})


_SIGNAL_FIELDS = (
    "signal_id",
    "household_key",
    "priority",
    "kinds",
    "reasons",
    "debts",
    "violations",
    "total_cents",
    "raised_at",
)
