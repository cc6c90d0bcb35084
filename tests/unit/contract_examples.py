"""Valid creditor events for tests: one builder for fixed examples, one hypothesis strategy."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta, timezone
from typing import Any, get_args

from hypothesis import strategies as st

from schemas.contract_v1 import (
    SOURCES,
    CloseReason,
    ContactMethod,
    EventType,
    FineKind,
    ReminderChannel,
    ReminderKind,
    SupplyEndingException,
)

EVENT_TYPES: tuple[str, ...] = get_args(EventType)
VALID_BSN = "111222333"

_SPECIFIC: dict[str, dict[str, Any]] = {
    "debt.opened": {"due_date": "2024-02-01"},
    "debt.updated": {"due_date": "2024-02-01"},
    "reminder.sent": {"reminder_kind": "free", "term_days": 14},
    "costs.charged": {"costs_cents": 4000},
    "payment.received": {"paid_cents": 25000},
    "debt.closed": {"reason": "paid"},
    "supply.ending": {"supply_end_date": "2024-04-01"},
    "collection.paused": {"until": "2024-05-01"},
    "contact.attempted": {"method": "home_visit", "reached": False},
}


def default_source(type_: str) -> str:
    """The source an example of `type_` uses unless told otherwise."""
    return "energy" if type_ == "supply.ending" else "housing"


def event(type_: str = "debt.opened", *, source: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A complete valid event dict of `type_`; keyword arguments replace top-level fields."""
    source = source or default_source(type_)
    document: dict[str, Any] = {
        "event_id": f"evt-{type_}-1",
        "type": type_,
        "source": source,
        "creditor_id": "woonstad-rotterdam",
        "creditor_name": "Woonstad Rotterdam",
        "debt_ref": "HUUR-2024-0042",
        "occurred_at": "2024-03-01T09:30:00+01:00",
        "debtor": {"name": "J. de Vries", "birth_date": "1980-05-17", "bsn": VALID_BSN},
        "address": {"postcode": "3011AB", "house_number": 12, "house_letter": "A"},
        "amount_cents": 95000,
        **copy.deepcopy(_SPECIFIC[type_]),
    }
    if type_ in ("debt.opened", "debt.updated") and source in ("housing", "health"):
        document["monthly_amount_cents"] = 95000
    if type_ == "debt.opened" and source == "cjib":
        document["fine_kind"] = "wahv"
    document.update(overrides)
    return document


def with_path(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `document` with the dotted `path` set to `value`."""
    result = copy.deepcopy(document)
    *parents, leaf = path.split(".")
    target = result
    for part in parents:
        target = target[part]
    target[leaf] = value
    return result


def without(document: dict[str, Any], path: str) -> dict[str, Any]:
    """A deep copy of `document` with the dotted `path` removed."""
    result = copy.deepcopy(document)
    *parents, leaf = path.split(".")
    target = result
    for part in parents:
        target = target[part]
    del target[leaf]
    return result


def _bsn_from(digits: list[int]) -> str | None:
    check = sum(d * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2), strict=True)) % 11
    if check == 10 or (check == 0 and not any(digits)):
        return None
    return "".join(map(str, digits)) + str(check)


bsns = st.lists(st.integers(0, 9), min_size=8, max_size=8).map(_bsn_from).filter(lambda bsn: bsn is not None)
_letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_postcode_letters = st.tuples(st.sampled_from(_letters), st.sampled_from(_letters)).map("".join)
postcodes = st.builds(
    lambda number, letters, space, lower: (
        f"{number}{' ' if space else ''}{letters.lower() if lower else letters}"
    ),
    st.integers(1000, 9999),
    _postcode_letters.filter(lambda letters: letters not in ("SA", "SD", "SS")),
    st.booleans(),
    st.booleans(),
)
_offsets = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
rfc3339 = st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1), timezones=_offsets).map(
    lambda moment: moment.isoformat()
)
iso_dates = st.dates(date(1900, 1, 1), date(2100, 12, 31)).map(date.isoformat)


def _text(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(min_size=min_size, max_size=max_size)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


debtors = st.fixed_dictionaries(
    {
        "name": _text(1, 200),
        "birth_date": _optional(iso_dates),
        "bsn": _optional(bsns),
        "phone": _optional(_text(1, 32)),
        "email": _optional(st.from_regex(r"[a-z0-9._]{1,20}@[a-z0-9.-]{1,20}", fullmatch=True)),
    }
).map(_drop_none)
addresses = st.fixed_dictionaries(
    {
        "postcode": postcodes,
        "house_number": st.integers(1, 99999),
        "house_letter": _optional(st.sampled_from(_letters + _letters.lower())),
        "house_number_addition": _optional(st.from_regex(r"[A-Za-z0-9]{1,4}", fullmatch=True)),
        "street": _optional(_text(0, 200)),
        "city": _optional(_text(0, 200)),
    }
).map(_drop_none)
cents = st.integers(0, 10**10)
positive_cents = st.integers(1, 10**10)


@st.composite
def _type_specific(draw: st.DrawFn, type_: str, source: str) -> dict[str, Any]:
    if type_ in ("debt.opened", "debt.updated"):
        monthly = positive_cents if source in ("housing", "health") else _optional(positive_cents)
        fine_kind: st.SearchStrategy[Any] = st.none()
        if source == "cjib":
            fine_options = st.sampled_from(get_args(FineKind))
            fine_kind = fine_options if type_ == "debt.opened" else _optional(fine_options)
        return _drop_none(
            {"due_date": draw(iso_dates), "monthly_amount_cents": draw(monthly), "fine_kind": draw(fine_kind)}
        )
    specific: dict[str, st.SearchStrategy[Any]] = {
        "reminder.sent": st.fixed_dictionaries(
            {"reminder_kind": st.sampled_from(get_args(ReminderKind)), "term_days": st.integers(1, 365)},
            optional={"channel": st.sampled_from(get_args(ReminderChannel)), "pay_by": iso_dates},
        ),
        "costs.charged": st.fixed_dictionaries({"costs_cents": positive_cents}),
        "payment.received": st.fixed_dictionaries({"paid_cents": positive_cents}),
        "debt.closed": st.fixed_dictionaries({"reason": st.sampled_from(get_args(CloseReason))}),
        "supply.ending": st.fixed_dictionaries(
            {"supply_end_date": iso_dates},
            optional={"exception": st.sampled_from(get_args(SupplyEndingException))},
        ),
        "collection.paused": st.fixed_dictionaries({"until": iso_dates}),
        "contact.attempted": st.fixed_dictionaries(
            {"method": st.sampled_from(get_args(ContactMethod))}, optional={"reached": st.booleans()}
        ),
    }
    return draw(specific[type_])


@st.composite
def valid_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid creditor event of any type and any source that type allows, as a JSON-ready dict."""
    type_ = draw(st.sampled_from(EVENT_TYPES))
    source = "energy" if type_ == "supply.ending" else draw(st.sampled_from(SOURCES))
    common = draw(
        st.fixed_dictionaries(
            {
                "event_id": _text(1, 128),
                "creditor_id": _text(1, 64),
                "creditor_name": _text(1, 200),
                "debt_ref": _text(1, 64),
                "occurred_at": rfc3339,
                "debtor": debtors,
                "address": addresses,
                "amount_cents": cents,
            }
        )
    )
    return {"type": type_, "source": source, **common, **draw(_type_specific(type_, source))}
