"""`vroegsignaal report cbs`: the DDAS "Uitwisselmodel" v1.2 JSON of one gemeente and period for CBS.

What goes in (DDAS is per signal partner, our signal per household):
- every case (vroegsignaalzaak) of the gemeente whose matching period overlaps the
  report period, with its contact attempts, outcome and pick-up date;
- one vroegsignaal per signal-worthy debt of each signal of those cases: the
  creditor that signalled, its amount in whole euros, when the arrears began
  (signal date minus days overdue), the signal's DDAS status;
- the client by postcode and house number (the pipeline never holds a BSN in clear).
Cases routed without a gemeente (addresses outside the map) cannot be reported.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from connectors.readmodel import ReadModel
from connectors.readmodel.case_queries import SignalView
from connectors.readmodel.report_queries import ReportCase, cases_in_period
from schemas.household import HouseholdKeyError
from signals.calendar import local_day
from signals.ids import stable_id
from streams.errors import StreamsError

__all__ = ["SIGNAALPARTNER", "ReportError", "client_of", "uitwisselmodel", "write_cbs_report"]

# Our sources as DDAS EnumSignaalpartner; CJIB has no own value in v1.2.
SIGNAALPARTNER = {
    "housing": "Huur",
    "energy": "Energie",
    "water": "Water",
    "health": "Zorg",
    "cjib": "Overige",
}
CLI_READ_TIMEOUT_S = 300.0  # `vroegsignaal report cbs` reads a whole period at once
_GEMEENTE = re.compile(r"^GM([0-9]{4})$")
_KEY = re.compile(
    r"^(?P<pc>[1-9][0-9]{3}[A-Z]{2})-(?P<nr>[0-9]{1,5})(?P<letter>[A-Z]?)(?:-(?P<add>[A-Z0-9]{1,4}))?$"
)


class ReportError(StreamsError, ValueError):
    """The report cannot be made as asked."""


def client_of(household_key: str) -> dict[str, str]:
    """DDAS client by address.

    >>> client_of("1011AB-12A-2")
    {'postcode': '1011AB', 'huisnummer': '12', 'huisnummertoevoeging': 'A-2'}
    >>> client_of("1011AB-1")
    {'postcode': '1011AB', 'huisnummer': '1'}
    """
    match = _KEY.match(household_key)
    if match is None:
        raise HouseholdKeyError(f"{household_key!r} is not a household key")
    client = {"postcode": match["pc"], "huisnummer": match["nr"]}
    addition = "-".join(part for part in (match["letter"], match["add"]) if part)
    if addition:
        client["huisnummertoevoeging"] = addition
    return client


def _signals(view: SignalView, household_key: str) -> list[dict[str, Any]]:
    """One DDAS vroegsignaal per creditor debt that made the signal."""
    sig = view.signal
    worthy = [d for d in sig.debts if d.signal_worthy] or sorted(sig.debts, key=lambda d: -d.principal_cents)[
        :1
    ]
    return [
        {
            "ID": stable_id("ddas", sig.signal_id, d.debt.source, d.debt.creditor_id, d.debt.debt_ref),
            "crisissignaal": "crisis" in sig.kinds,
            "bedrag": (d.principal_cents + d.costs_cents + 50) // 100,
            "ontstaansdatum": (local_day(sig.raised_at) - timedelta(days=d.days_overdue)).isoformat(),
            "signaaldatum": local_day(sig.raised_at).isoformat(),
            "status": view.status,
            "signaalpartner": {"type": SIGNAALPARTNER[d.debt.source]},
            "client": client_of(household_key),
        }
        for d in worthy
    ]


def _zaak(case: ReportCase, signal_ids: list[str]) -> dict[str, Any]:
    zaak: dict[str, Any] = {
        "matchingsdatum": case.matched_on.isoformat(),
        "startdatumMatchingperiode": case.period_start.isoformat(),
        "einddatumMatchingperiode": case.period_end.isoformat(),
        "vroegsignalen": [{"ID": i} for i in signal_ids],
        "contactpogingen": [
            {"soort": a.soort, "bereikt": a.bereikt, "datum": a.datum.isoformat()}
            | ({"dagdeel": a.dagdeel} if a.dagdeel else {})
            for a in case.attempts
        ],
    }
    if case.outcome is not None:
        zaak["resultaat"] = case.outcome.resultaat
    if case.picked_up_on is not None:
        zaak["datumOpgepakt"] = case.picked_up_on.isoformat()
    return zaak


def uitwisselmodel(
    cases: list[ReportCase],
    *,
    gemeente: str,
    start: date,
    end: date,
    delivered_at: datetime,
    supplier: str,
    organisation: str,
) -> dict[str, Any]:
    """The whole DDAS document for one gemeente (one levering); cases without signals are left out."""
    match = _GEMEENTE.match(gemeente)
    if match is None:
        raise ReportError(f"gemeente {gemeente!r} is not a CBS code like GM0363")
    signalen: list[dict[str, Any]] = []
    zaken: list[dict[str, Any]] = []
    for case in cases:
        mine = [s for view in case.signals for s in _signals(view, case.household_key)]
        if not mine:
            continue
        signalen += mine
        zaken.append(_zaak(case, [s["ID"] for s in mine]))
    levering = {
        "teller": 1,
        "gemeentecode": match[1],  # DDAS uses the four digits, as in the gemeentetabel
        "aanleverendeOrganisatie": {"naam": organisation},
        "vroegsignalen": signalen,
        "vroegsignaalzaken": zaken,
    }
    return {
        "startdatumLevering": start.isoformat(),
        "einddatumLevering": end.isoformat(),
        "aanleverdatumEnTijd": delivered_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "codeGegevensleverancier": supplier,
        "leveringen": [levering],
    }


async def write_cbs_report(
    database_url: str,
    *,
    gemeente: str,
    start: date,
    end: date,
    out: Path,
    supplier: str = "vroegsignaal",
    organisation: str | None = None,
) -> dict[str, Any]:
    """Read the cases, build the document, write it as UTF-8 JSON; returns the document."""
    if end < start:
        raise ReportError(f"--to {end} is before --from {start}")
    # A command, not a request: a large period may read for longer than a page may.
    read_model = await ReadModel.open(database_url, read_timeout_s=CLI_READ_TIMEOUT_S)
    try:
        cases = await cases_in_period(read_model, gemeente, start, end)
    finally:
        await read_model.close()
    document = uitwisselmodel(
        cases,
        gemeente=gemeente,
        start=start,
        end=end,
        delivered_at=datetime.now(UTC),
        supplier=supplier,
        organisation=organisation or f"Gemeente {gemeente}",
    )
    await asyncio.to_thread(_write_json, out, document)
    return document


def _write_json(out: Path, document: dict[str, Any]) -> None:
    """Write the file (in a thread: file I/O must not block the event loop)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
