"""`vroegsignaal generate`: a deterministic synthetic creditor history, one JSON Lines file per source.

The shape follows the national figures of the Monitor vroegsignalering, loosely: about 400
signal-worthy arrears per 100,000 inhabitants per month; of those, health insurers ~41%,
landlords ~20%, energy ~20%, water ~18% and CJIB the rest; ~11% of signalled households owe
two or more creditors at once; ~40% are signalled again within six months; most arrears are
paid within the free reminder's term. Debts have reminders, partial payments, costs, pauses
and closures. A small share of lines is duplicated, delivered late (within the 48 h
lateness grace) or invalid, as real creditor files are.

Households at the start take the addresses of the routing sample (they reach the sample's
teams); all others get synthetic postcodes outside the sample, which route to the fallback
team. `scenarios.jsonl` lists planted households and the outcome the rules must give.

Deterministic: a `random.Random` per household seeded from (seed, household), no wall clock;
the same options give byte-identical files.
"""

from __future__ import annotations

import itertools
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import orjson

from connectors.routing_files import sample_addresses
from schemas.contract_v1 import SOURCES, Source
from signals.overview import day_start
from synthetic.episodes import household_history
from synthetic.history import (
    DebtRecord,
    History,
    Household,
    Line,
    add_months,
    encode,
    make_household,
    synthetic_address,
)
from synthetic.scenarios import Scenario, plant, planted_addresses

__all__ = ["GenerateOptions", "GenerateReport", "generate", "shape"]

INHABITANTS_PER_HOUSEHOLD = 2.1  # CBS: average household size
# (share of households, risk multiplier): debt problems concentrate in a minority.
RISK_CLASSES = ((0.7, 0.4), (0.25, 1.6), (0.05, 3.5))
P_LATE_DELIVERY = 0.01
MAX_LATE_HOURS = 40.0  # within the pipeline's 48 h lateness grace
P_DUPLICATE = 0.004
P_INVALID = 0.003
_INVALID_KINDS = (
    "postcode",
    "bsn",
    "missing",
    "not_json",
    "unknown_type",
    "no_offset",
    "negative",
    "wrong_file",
)
_PLANTED_INDEX = 900_000  # debt refs of planted households never collide with random ones
LOOKBACK = timedelta(days=183)


@dataclass(frozen=True, kw_only=True)
class GenerateOptions:
    """What to generate: how many households, over how many months from `start`, with which seed."""

    households: int
    months: int
    seed: int
    start: date = date(2026, 1, 1)

    @property
    def end(self) -> date:
        """The first day after the history."""
        return add_months(self.start, self.months)


@dataclass
class GenerateReport:
    """What was written: lines per file, the noise added, the planted scenarios, the measured shape."""

    lines: dict[str, int] = field(default_factory=dict)
    noise: Counter[str] = field(default_factory=Counter)
    scenarios: list[Scenario] = field(default_factory=list)
    shape: dict[str, Any] = field(default_factory=dict)


def generate(options: GenerateOptions, out: Path, *, progress: TextIO | None = sys.stderr) -> GenerateReport:
    """Write `<source>.jsonl` per source, scenarios.jsonl and manifest.json into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    history, report, seq = History(end=day_start(options.end)), GenerateReport(), itertools.count()
    lines: list[Line] = []
    sample = sample_addresses()
    report.scenarios = _plant(options, history, planted_addresses(sample))
    lines += _deliveries(
        history, random.Random(f"{options.seed}/planted"), report.noise, seq, with_noise=False
    )
    every = max(1000, options.households // 20)
    for index, household in enumerate(_households(options, sample)):
        rng = random.Random(f"{options.seed}/{index}/episodes")
        household_history(household, rng, history, options.start, options.months)
        lines += _deliveries(history, rng, report.noise, seq, with_noise=True)
        if progress is not None and (index + 1) % every == 0:
            print(f"generate: {index + 1}/{options.households} households, {len(lines)} lines", file=progress)
    report.lines = _write_sources(out, lines)
    start = day_start(options.start)
    report.shape = shape(history.debts, options.households, start=start, end=history.end)
    _write_meta(out, options, report)
    if progress is not None:
        print(
            f"generate: wrote {sum(report.lines.values())} lines to {out}; {_describe(report)}", file=progress
        )
    return report


def _plant(
    options: GenerateOptions, history: History, addresses: Sequence[tuple[str, int]]
) -> list[Scenario]:
    households = [
        make_household(
            _PLANTED_INDEX + i, random.Random(f"{options.seed}/planted/{i}"), (pc, nr, None, None), 1.0
        )
        for i, (pc, nr) in enumerate(addresses)
    ]
    return plant(history, households, options.start, (options.end - options.start).days)


def _households(options: GenerateOptions, sample: Sequence[tuple[str, int]]) -> Iterator[Household]:
    """Households in index order: the unplanted sample addresses first, then unique synthetic ones."""
    planted = set(planted_addresses(sample))
    free = [a for a in sample if a not in planted]
    taken: set[tuple[str, int, str | None, str | None]] = set()
    for index in range(options.households):
        rng = random.Random(f"{options.seed}/{index}")
        if index < len(free):
            address: tuple[str, int, str | None, str | None] = (*free[index], None, None)
        else:
            while (address := synthetic_address(rng)) in taken:
                pass
        taken.add(address)
        yield make_household(index, rng, address, _risk(rng))


def _risk(rng: random.Random) -> float:
    roll = rng.random()
    for share, risk in RISK_CLASSES:
        if roll < share:
            return risk
        roll -= share
    return RISK_CLASSES[-1][1]


def _deliveries(
    history: History, rng: random.Random, noise: Counter[str], seq: Iterator[int], *, with_noise: bool
) -> list[Line]:
    """The pending events as file lines, with late deliveries, duplicates and invalid lines mixed in."""
    lines = []
    for at, source, payload in history.events:
        raw, deliver = encode(payload), at
        if with_noise and rng.random() < P_LATE_DELIVERY:
            deliver, noise["late"] = at + timedelta(hours=rng.uniform(6, MAX_LATE_HOURS)), noise["late"] + 1
        lines.append(Line(deliver, next(seq), source, raw))
        if with_noise and rng.random() < P_DUPLICATE:
            noise["duplicate"] += 1
            lines.append(Line(at + timedelta(hours=rng.uniform(1, 30)), next(seq), source, raw))
        if with_noise and rng.random() < P_INVALID:
            kind = rng.choice(_INVALID_KINDS)
            noise[f"invalid.{kind}"] += 1
            bad_source, bad = _corrupt(kind, at, source, payload)
            lines.append(Line(at, next(seq), bad_source, bad))
    history.events.clear()
    return lines


def _corrupt(kind: str, at: datetime, source: Source, payload: dict[str, Any]) -> tuple[Source, bytes]:
    """An invalid copy of an event (its own event id), of one of the kinds creditors get wrong."""
    bad = dict(payload, event_id=f"{payload['event_id']}-bad")
    if kind == "postcode":
        bad["address"] = {**payload["address"], "postcode": "12345"}
    elif kind == "bsn":
        bad["debtor"] = {**payload["debtor"], "bsn": "123456789"}
    elif kind == "missing":
        del bad["debt_ref"]
    elif kind == "not_json":
        raw = encode(bad)
        return source, raw[: len(raw) // 2]
    elif kind == "unknown_type":
        bad["type"] = "debt.reopened"
    elif kind == "no_offset":
        bad["occurred_at"] = at.strftime("%Y-%m-%dT%H:%M:%S")
    elif kind == "negative":
        bad["amount_cents"] = -100
    elif kind == "wrong_file":
        return SOURCES[(SOURCES.index(source) + 1) % len(SOURCES)], encode(bad)
    return source, encode(bad)


def _write_sources(out: Path, lines: list[Line]) -> dict[str, int]:
    """One file per source, lines in delivery order (ties in generation order)."""
    per_source: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        per_source[line.source].append(line)
    counts: dict[str, int] = {}
    for source in SOURCES:
        ordered = sorted(per_source[source], key=lambda line: (line.deliver_at, line.seq))
        (out / f"{source}.jsonl").write_bytes(b"".join(line.raw + b"\n" for line in ordered))
        counts[source] = len(ordered)
    return counts


def _write_meta(out: Path, options: GenerateOptions, report: GenerateReport) -> None:
    scenarios = b"".join(s.model_dump_json().encode() + b"\n" for s in report.scenarios)
    (out / "scenarios.jsonl").write_bytes(scenarios)
    manifest = {
        "format": "vroegsignaal-synthetic/1",
        "seed": options.seed,
        "households": options.households,
        "months": options.months,
        "start": options.start.isoformat(),
        "end": options.end.isoformat(),
        "lines": report.lines,
        "noise": dict(sorted(report.noise.items())),
        "scenarios": len(report.scenarios),
        "shape": report.shape,
    }
    (out / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n")


def _describe(report: GenerateReport) -> str:
    s = report.shape
    return (
        f"{s['signals_per_100k_inhabitants_per_month']:.0f} signal-worthy arrears per 100k inhabitants/month, "
        f"{s['multiple_creditor_share']:.0%} with 2+ creditors, {s['again_within_6_months_share']:.0%} "
        f"again within 6 months, {s['paid_in_term_share']:.0%} of arrears paid in term; "
        f"{report.noise.total()} noisy lines; {len(report.scenarios)} planted scenarios"
    )


def shape(debts: Sequence[DebtRecord], households: int, *, start: datetime, end: datetime) -> dict[str, Any]:
    """The measured shape of a history (random households only), to compare with the national figures."""
    worthy = [d for d in debts if d.worthy_at is not None and start <= d.worthy_at < end]
    months = (end - start).days / (365.25 / 12)
    inhabitants = households * INHABITANTS_PER_HOUSEHOLD
    sources = Counter(d.source for d in worthy)
    opened = [d for d in debts if d.opened_at < end - timedelta(days=15)]
    return {
        "signal_worthy_debts": len(worthy),
        "signals_per_100k_inhabitants_per_month": round(len(worthy) / months / inhabitants * 100_000, 1),
        "source_shares": {s: round(sources[s] / max(1, len(worthy)), 3) for s in SOURCES},
        "multiple_creditor_share": round(_multiple_share(debts, worthy, worthy_only=True), 3),
        "multiple_open_creditors_share": round(_multiple_share(debts, worthy, worthy_only=False), 3),
        "again_within_6_months_share": round(_again_share(debts, end), 3),
        "paid_in_term_share": round(sum(d.in_term for d in opened) / max(1, len(opened)), 3),
    }


def _open_at(debt: DebtRecord, at: datetime) -> bool:
    return debt.opened_at <= at and (debt.settled_at is None or debt.settled_at > at)


def _creditors_at_once(debts: Sequence[DebtRecord], at: datetime, *, worthy_only: bool) -> int:
    return len(
        {
            (o.source, o.creditor_id)
            for o in debts
            if _open_at(o, at) and (not worthy_only or (o.worthy_at is not None and o.worthy_at <= at))
        }
    )


def _multiple_share(debts: Sequence[DebtRecord], worthy: Sequence[DebtRecord], *, worthy_only: bool) -> float:
    """Of signalled households: the share with two or more creditors at once when a debt became worthy.

    `worthy_only` counts creditors with signal-worthy debts (the monitor's notion); otherwise every
    open debt counts, as the pipeline's `multiple` kind does.
    """
    by_household: dict[int, list[DebtRecord]] = defaultdict(list)
    for debt in debts:
        by_household[debt.household].append(debt)
    multiple = {
        d.household
        for d in worthy
        if d.worthy_at is not None
        and _creditors_at_once(by_household[d.household], d.worthy_at, worthy_only=worthy_only) >= 2
    }
    return len(multiple) / max(1, len({d.household for d in worthy}))


def _again_share(debts: Sequence[DebtRecord], end: datetime) -> float:
    """Of households first signalled at least six months before the end: signalled again within six months."""
    firsts: dict[int, datetime] = {}
    for d in debts:
        if d.worthy_at is not None and d.worthy_at < end:
            firsts[d.household] = min(firsts.get(d.household, d.worthy_at), d.worthy_at)
    eligible = {h for h, first in firsts.items() if first <= end - LOOKBACK}
    again = {
        d.household
        for d in debts
        if d.household in eligible
        and d.worthy_at is not None
        and d.opened_at > firsts[d.household]
        and d.worthy_at <= firsts[d.household] + LOOKBACK
    }
    return len(again) / max(1, len(eligible))
