"""Building blocks of the synthetic history: fictional creditors, households and a debt's events.

Everything here is deterministic given a `random.Random`: no wall clock, no global state.
The people, creditors and (outside the routing sample) addresses are made up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson

from schemas.contract_v1 import SOURCES, Source

__all__ = [
    "CREDITORS",
    "Creditor",
    "DebtRecord",
    "DebtWriter",
    "History",
    "Household",
    "Line",
    "add_months",
    "at_hour",
    "days",
    "encode",
    "make_bsn",
    "make_household",
    "synthetic_address",
]


@dataclass(frozen=True)
class Creditor:
    """A fictional signaalpartner: id (KvK-like) and name."""

    source: Source
    creditor_id: str
    name: str


def _creditors(source: Source, *rows: tuple[str, str]) -> tuple[Creditor, ...]:
    return tuple(Creditor(source, cid, name) for cid, name in rows)


CREDITORS: dict[Source, tuple[Creditor, ...]] = {
    "housing": _creditors(
        "housing",
        ("27100001", "Woonstichting De Linden"),
        ("27100002", "Woonbron Fictief"),
        ("27100003", "Stadswonen Demo"),
    ),
    "energy": _creditors(
        "energy",
        ("33200001", "Stroom & Gas Noord"),
        ("33200002", "Groene Energie Fictief"),
        ("33200003", "Energiedirect Demo"),
    ),
    "water": _creditors("water", ("34300001", "Waterbedrijf Rivierland"), ("34300002", "Duinwater Demo")),
    "health": _creditors(
        "health",
        ("30400001", "Zorgverzekeraar Samen"),
        ("30400002", "Gezond Verzekerd Fictief"),
        ("30400003", "Zorg & Zekerheid Demo"),
    ),
    "cjib": _creditors("cjib", ("27370512", "CJIB")),
}
_INITIALS = "ABCDEFGHIJKLMNPRSTWY"
_SURNAMES = (
    "de Vries", "Jansen", "El Amrani", "Bakker", "Yilmaz", "Visser", "Smit", "Mulder", "de Boer",
    "Meijer", "Bos", "Vos", "Peters", "Hendriks", "Kaya", "Dekker", "Brouwer", "de Wit", "Dijkstra",
    "Janssen", "Ouali", "Nguyen", "Pinas", "Kramer", "van Dam", "Postma", "Koster", "Prins",
)  # fmt: skip
_STREETS = ("Dorpsstraat", "Kerkstraat", "Molenweg", "Schoolstraat", "Julianalaan", "Stationsweg", "Parklaan")
_CITIES = ("Amsterdam", "Utrecht", "Zwolle", "Arnhem", "Tilburg", "Groningen", "Almere", "Leiden")
# No S in the pairs: PostNL never issues SA, SD or SS.
_POSTCODE_LETTERS = "ABCDEFGHJKLMNPRTVWXZ"


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the 28th so every month has it.

    >>> add_months(date(2026, 1, 31), 1), add_months(date(2026, 11, 1), 3)
    (datetime.date(2026, 2, 28), datetime.date(2027, 2, 1))
    """
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, min(day.day, 28))


def at_hour(day: date, rng: random.Random) -> datetime:
    """A moment in office hours (UTC) of `day`, when creditors' systems report."""
    return datetime.combine(day, time(7 + rng.randrange(11), rng.randrange(60)), tzinfo=UTC)


def make_bsn(rng: random.Random) -> str:
    """A random 9-digit number passing the elfproef (fictional, not issued to anyone known)."""
    while True:
        digits = [rng.randrange(1, 10), *(rng.randrange(10) for _ in range(7))]
        total = sum(d * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2), strict=True))
        check = total % 11  # the last digit counts -1: sum - check must be divisible by 11
        if check < 10:
            return "".join(map(str, digits)) + str(check)


@dataclass(frozen=True, kw_only=True)
class Household:
    """One fictional household: address, debtor, its creditors and what it owes per month."""

    index: int
    postcode: str
    number: int
    letter: str | None = None
    addition: str | None = None
    name: str
    bsn: str | None = None
    email: str | None = None
    phone: str | None = None
    street: str
    city: str
    creditors: dict[Source, Creditor]
    rent_cents: int
    premium_cents: int
    risk: float = 1.0

    @property
    def key(self) -> str:
        """The household key the pipeline derives from the address."""
        key = f"{self.postcode}-{self.number}{self.letter or ''}"
        return f"{key}-{self.addition}" if self.addition else key

    def address(self) -> dict[str, Any]:
        """The contract's address object."""
        address: dict[str, Any] = {"postcode": self.postcode, "house_number": self.number}
        if self.letter:
            address["house_letter"] = self.letter
        if self.addition:
            address["house_number_addition"] = self.addition
        return address | {"street": self.street, "city": self.city}

    def debtor(self, source: Source) -> dict[str, Any]:
        """The contract's debtor object; insurers and CJIB know the BSN, others rarely."""
        debtor: dict[str, Any] = {"name": self.name}
        if self.bsn and source in ("health", "cjib"):
            debtor["bsn"] = self.bsn
        for name in ("email", "phone"):
            if getattr(self, name):
                debtor[name] = getattr(self, name)
        return debtor


def synthetic_address(rng: random.Random) -> tuple[str, int, str | None, str | None]:
    """A postcode outside the routing sample (which is 10xx/11xx) with a house number."""
    postcode = f"{rng.randrange(2000, 10000)}{rng.choice(_POSTCODE_LETTERS)}{rng.choice(_POSTCODE_LETTERS)}"
    letter = rng.choice("ABCD") if rng.random() < 0.08 else None
    addition = rng.choice(("1", "2", "3", "H", "BIS")) if rng.random() < 0.06 else None
    return postcode, rng.randrange(1, 250), letter, addition


def make_household(
    index: int, rng: random.Random, address: tuple[str, int, str | None, str | None], risk: float
) -> Household:
    """A household at `address` with random (fictional) person, creditors and amounts."""
    name = f"{rng.choice(_INITIALS)}. {rng.choice(_SURNAMES)}"
    mail = name.split()[-1].lower().replace(" ", "")
    return Household(
        index=index,
        postcode=address[0],
        number=address[1],
        letter=address[2],
        addition=address[3],
        name=name,
        bsn=make_bsn(rng) if rng.random() < 0.7 else None,
        email=f"{mail}{index}@example.org" if rng.random() < 0.5 else None,
        phone=f"06{rng.randrange(10**8):08d}" if rng.random() < 0.4 else None,
        street=rng.choice(_STREETS),
        city=rng.choice(_CITIES),
        creditors={source: rng.choice(CREDITORS[source]) for source in SOURCES},
        rent_cents=rng.randrange(550, 1150) * 100,
        premium_cents=rng.randrange(13000, 16500),
        risk=risk,
    )


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a source file: when the creditor delivered it, in which file, the bytes."""

    deliver_at: datetime
    seq: int
    source: Source
    raw: bytes


@dataclass(kw_only=True)
class DebtRecord:
    """What the generator knows of a debt, to measure the history's shape."""

    household: int
    source: Source
    creditor_id: str
    opened_at: datetime
    worthy_at: datetime | None = None
    settled_at: datetime | None = None
    in_term: bool = False


@dataclass
class History:
    """Every event of the history as (event time, source, payload), and the debts behind them."""

    end: datetime
    events: list[tuple[datetime, Source, dict[str, Any]]] = field(default_factory=list)
    debts: list[DebtRecord] = field(default_factory=list)
    refs: int = 0

    def debt(self, household: Household, source: Source, record: bool = True) -> DebtWriter:
        """A writer for a new debt of this household at its creditor of `source`."""
        self.refs += 1
        creditor = household.creditors[source]
        ref = f"{source[:2].upper()}-{household.index:06d}-{self.refs:07d}"
        return DebtWriter(history=self, household=household, creditor=creditor, ref=ref, record=record)


@dataclass(kw_only=True)
class DebtWriter:
    """Emits one debt's events in the v1 contract; events at or after the history's end are dropped."""

    history: History
    household: Household
    creditor: Creditor
    ref: str
    record: bool = True
    count: int = 0
    facts: DebtRecord | None = None

    @property
    def source(self) -> Source:
        return self.creditor.source

    def emit(self, at: datetime, kind: str, amount_cents: int, **fields: Any) -> None:
        """One event at `at` to the minute (the end of history cuts it off, like a real extract would)."""
        at = at.replace(second=0, microsecond=0)
        if at >= self.history.end:
            return
        self.count += 1
        payload = {
            "event_id": f"{self.ref}-{self.count:02d}",
            "type": kind,
            "source": self.source,
            "creditor_id": self.creditor.creditor_id,
            "creditor_name": self.creditor.name,
            "debt_ref": self.ref,
            "occurred_at": at.isoformat(),
            "debtor": self.household.debtor(self.source),
            "address": self.household.address(),
            "amount_cents": amount_cents,
            **{k: v.isoformat() if isinstance(v, date) else v for k, v in fields.items()},
        }
        self.history.events.append((at, self.source, payload))

    def opened(self, at: datetime, **flags: Any) -> DebtRecord:
        """Start the debt's shape record (kept only for the random part of the history)."""
        self.facts = DebtRecord(
            household=self.household.index,
            source=self.source,
            creditor_id=self.creditor.creditor_id,
            opened_at=at,
            **flags,
        )
        if self.record:
            self.history.debts.append(self.facts)
        return self.facts


def encode(payload: dict[str, Any]) -> bytes:
    """One JSON line, keys in contract order (orjson keeps insertion order)."""
    return orjson.dumps(payload)


def days(n: float) -> timedelta:
    """A timedelta of `n` days."""
    return timedelta(days=n)
