"""Server-rendered HTML of the team pages: Dutch, accessible, readable on a phone, no JavaScript.

Every value from data passes `html.escape` (the `e` helper) on its way into a page.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from html import escape

from connectors.readmodel.case_queries import (
    CASE_SIGNALS_PAGE_SIZE,
    INBOX_PAGE_SIZE,
    CaseDetail,
    CaseSummary,
    SignalView,
)
from schemas.cases_v1 import CONTACTSOORTEN, DAGDELEN, EINDRESULTATEN, SIGNAALSTATUSSEN
from schemas.outputs_v1 import DebtView
from signals.money import eur_nl
from streams.team.auth import Principal

__all__ = ["case_page", "e", "error_page", "euro", "inbox_page", "login_page"]

PRIORITY_NL = {"urgent": "Zeer dringend", "high": "Dringend", "normal": "Normaal"}
KIND_NL = {
    "single": "enkelvoudig",
    "multiple": "meervoudig",
    "consecutive": "opeenvolgend",
    "crisis": "crisis",
}
SOURCE_NL = {
    "housing": "Huur",
    "energy": "Energie",
    "water": "Water",
    "health": "Zorgverzekering",
    "cjib": "CJIB",
}
STATUS_NL = {"open": "Open", "paused": "Gepauzeerd", "closed": "Afgesloten"}
NOTICES = {
    "contactpoging": "De contactpoging is vastgelegd.",
    "resultaat": "Het eindresultaat is vastgelegd.",
    "status": "De status van het signaal is opgeslagen.",
    "verwerking": "Uw wijziging is ontvangen en wordt nog verwerkt; vernieuw de pagina zo.",
}


def e(value: object) -> str:
    """Escape any value for HTML text and attributes.

    >>> e('<b>"x"</b>')
    '&lt;b&gt;&quot;x&quot;&lt;/b&gt;'
    """
    return escape(str(value), quote=True)


def euro(cents: int) -> str:
    """Euros in Dutch notation.

    >>> euro(190000)
    '€ 1.900,00'
    """
    return eur_nl(cents).replace("EUR ", "€ ")


def _nl_date(value: date | datetime) -> str:
    return value.strftime("%d-%m-%Y")


def _page(title: str, body: str, who: Principal | None = None, team_name: str = "") -> str:
    """The frame of every page: language, viewport, skip link, header with logout."""
    header = ""
    if who is not None:
        header = (
            f'<p class="who">{e(who.name)} · {e(team_name)}</p>'
            '<form method="post" action="/team/logout" class="logout">'
            '<button type="submit">Uitloggen</button></form>'
        )
    return (
        '<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)} – Vroegsignalering</title>"
        '<link rel="stylesheet" href="/team/style.css"></head><body>'
        '<a class="skip" href="#inhoud">Naar de inhoud</a>'
        f'<header><p class="app">Vroegsignalering schulden</p>{header}</header>'
        f'<main id="inhoud">{body}</main></body></html>'
    )


def login_page(error: str | None = None) -> str:
    """The login form: a member types the team token it was given."""
    alert = f'<p class="alert" role="alert">{e(error)}</p>' if error else ""
    body = (
        "<h1>Inloggen voor buurtteams</h1>"
        f"{alert}"
        '<form method="post" action="/team/login" class="card">'
        '<label for="token">Uw persoonlijke toegangscode</label>'
        '<input id="token" name="token" type="password" autocomplete="current-password" required>'
        '<button type="submit">Inloggen</button></form>'
    )
    return _page("Inloggen", body)


def error_page(status: int, message: str, who: Principal | None = None) -> str:
    """A short page for 403, 404 and friends."""
    body = f'<h1>Foutmelding {status}</h1><p role="alert">{e(message)}</p><p><a href="/team">Naar de werklijst</a></p>'
    return _page(f"Fout {status}", body, who)


def inbox_page(
    who: Principal,
    team_name: str,
    cases: list[CaseSummary],
    *,
    total: int | None = None,
    page: int = 1,
    page_size: int = INBOX_PAGE_SIZE,
) -> str:
    """Open cases of the team by priority, each with its reasons; one page of `page_size` of `total`."""
    total = len(cases) if total is None else total
    pages = max(1, -(-total // page_size))
    shown = f" Pagina {page} van {pages}." if pages > 1 else ""
    parts = [
        f"<h1>Werklijst {e(team_name)}</h1>",
        f"<p>{total} open {'zaak' if total == 1 else 'zaken'}.{shown}</p>",
    ]
    for priority in ("urgent", "high", "normal"):
        group = [c for c in cases if c.priority == priority]
        if not group:
            continue
        parts.append(
            f'<section aria-labelledby="p-{priority}"><h2 id="p-{priority}">{PRIORITY_NL[priority]}</h2><ul class="cases">'
        )
        parts.extend(_case_item(c) for c in group)
        parts.append("</ul></section>")
    if not cases:
        parts.append(
            "<p>Er zijn geen open zaken voor uw team.</p>" if total == 0 else "<p>Deze pagina is leeg.</p>"
        )
    base = f"/team/{e(who.team_id)}/zaken?pagina="
    parts.append(_pager(base, page, pages, "Vorige pagina", "Volgende pagina", "Pagina's van de werklijst"))
    return _page(f"Werklijst {team_name}", "".join(parts), who, team_name)


def _pager(base: str, page: int, pages: int, previous: str, following: str, label: str) -> str:
    """Links to the previous and next page (plain links: no JavaScript)."""
    links = []
    if page > 1:
        links.append(f'<a rel="prev" href="{base}{min(page - 1, pages)}">← {previous}</a>')
    if page < pages:
        links.append(f'<a rel="next" href="{base}{page + 1}">{following} →</a>')
    return f'<nav aria-label="{label}"><p>{" · ".join(links)}</p></nav>' if links else ""


def _case_item(case: CaseSummary) -> str:
    reasons = "".join(f"<li>{e(r.nl)}</li>" for r in case.reasons)
    settled = ' <span class="tag">alle schulden betaald</span>' if case.resolved else ""
    return (
        f'<li class="card prio-{case.priority}"><h3><a href="/zaken/{e(case.case_id)}">Huishouden {e(case.household_key)}</a>{settled}</h3>'
        f"<p>Periode {_nl_date(case.period_start)} t/m {_nl_date(case.period_end)} · signaal sinds "
        f"{_nl_date(case.first_signal_at)} · totaal {euro(case.total_cents)}</p>"
        f'<ul class="reasons">{reasons}</ul></li>'
    )


def case_page(who: Principal, team_name: str, detail: CaseDetail, request_id: str, notice: str | None) -> str:
    """The case: reasons, the integrated overview, signals with status, contact attempts, outcome."""
    case = detail.summary
    message = f'<p class="notice" role="status">{e(NOTICES[notice])}</p>' if notice in NOTICES else ""
    body = (
        f'<p><a href="/team/{e(case.team_id)}/zaken">← Terug naar de werklijst</a></p>'
        f"<h1>Huishouden {e(case.household_key)}</h1>{message}"
        f"<p>Prioriteit: <strong>{PRIORITY_NL[case.priority]}</strong> · matchingsperiode "
        f"{_nl_date(case.period_start)} t/m {_nl_date(case.period_end)}</p>"
        f'<section aria-labelledby="redenen"><h2 id="redenen">Waarom dit huishouden</h2><ul class="reasons">'
        + "".join(f"<li>{e(r.nl)}</li>" for r in case.reasons)
        + "</ul></section>"
        + _overview(detail)
        + _signals(case, request_id)
        + _attempts(detail, request_id)
        + _outcome(case, request_id)
    )
    return _page(f"Huishouden {case.household_key}", body, who, team_name)


def _overview(detail: CaseDetail) -> str:
    ov = detail.overview
    head = '<section aria-labelledby="overzicht"><h2 id="overzicht">Integraal schuldenoverzicht</h2>'
    if ov is None:
        return head + "<p>Nog geen overzicht beschikbaar.</p></section>"
    rows = "".join(_debt_row(d) for d in ov.debts)
    return (
        head + f"<p>Stand {_nl_date(ov.as_of)}: {ov.open_creditors} schuldeiser(s) met open schulden, "
        f"hoofdsom {euro(ov.total_principal_cents)}, kosten {euro(ov.total_costs_cents)}.</p>"
        '<div class="scroll" tabindex="0" role="region" aria-label="Schulden per schuldeiser"><table>'
        "<caption>Schulden per schuldeiser</caption><thead><tr>"
        + "".join(
            f'<th scope="col">{h}</th>'
            for h in (
                "Schuldeiser",
                "Soort",
                "Hoofdsom",
                "Kosten",
                "Dagen achterstand",
                "Herinneringen",
                "Status",
            )
        )
        + f"</tr></thead><tbody>{rows}</tbody></table></div></section>"
    )


def _debt_row(d: DebtView) -> str:
    reminders = (
        ", ".join(f"{'gratis' if r.kind == 'free' else 'formeel'} {_nl_date(r.sent_on)}" for r in d.reminders)
        or "geen"
    )
    cells = (
        e(d.creditor_name),
        SOURCE_NL.get(d.debt.source, e(d.debt.source)),
        euro(d.principal_cents),
        euro(d.costs_cents),
        str(d.days_overdue),
        e(reminders),
        STATUS_NL.get(d.status, e(d.status)),
    )
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _options(values: Iterable[str], selected: str | None = None, blank: str | None = None) -> str:
    first = f'<option value="">{e(blank)}</option>' if blank is not None else ""
    return first + "".join(
        f'<option value="{e(v)}"{" selected" if v == selected else ""}>{e(v)}</option>' for v in values
    )


def _signals(case: CaseSummary, request_id: str) -> str:
    items = "".join(_signal_item(case, view, f"{request_id}-{i}") for i, view in enumerate(case.signals))
    count, size = case.signal_count, CASE_SIGNALS_PAGE_SIZE
    pager = ""
    if count > len(case.signals):
        # Pages from the newest: page 1 holds the newest signals, "meer" leads to older ones.
        page, pages = case.signals_offset // size + 1, max(1, -(-count // size))
        first, last = case.signals_offset + 1, case.signals_offset + len(case.signals)
        pager = (
            f"<p>Signalen {count - last + 1} tot en met {count - first + 1} van {count}; de eerste pagina toont de nieuwste.</p>"
            + _pager(
                f"/zaken/{e(case.case_id)}?signalen=",
                page,
                pages,
                "Nieuwere signalen",
                "Meer (oudere) signalen",
                "Pagina's met signalen",
            )
        )
    return f'<section aria-labelledby="signalen"><h2 id="signalen">Signalen</h2>{pager}<ul class="cases">{items}</ul></section>'


def _signal_item(case: CaseSummary, view: SignalView, request_id: str) -> str:
    sig = view.signal
    field = f"status-{e(sig.signal_id)}"
    kinds = ", ".join(KIND_NL.get(k, k) for k in sig.kinds)
    return (
        f'<li class="card"><p>Signaal van {_nl_date(sig.raised_at)} ({e(kinds)}), {euro(sig.total_cents)}'
        f"{' · opgelost ' + _nl_date(view.resolved_at) if view.resolved_at else ''}</p>"
        f'<form method="post" action="/zaken/{e(case.case_id)}/signalen/{e(sig.signal_id)}/status" class="inline">'
        f'<input type="hidden" name="request_id" value="{e(request_id)}">'
        f'<label for="{field}">Status van dit signaal</label>'
        f'<select id="{field}" name="status">{_options(SIGNAALSTATUSSEN, view.status)}</select>'
        '<button type="submit">Status opslaan</button></form></li>'
    )


def _attempts(detail: CaseDetail, request_id: str) -> str:
    rows = "".join(
        f"<tr><td>{_nl_date(a.datum)}</td><td>{e(a.dagdeel or '-')}</td><td>{e(a.soort)}</td>"
        f"<td>{'ja' if a.bereikt else 'nee'}</td><td>{e(a.actor)}</td></tr>"
        for a in detail.attempts
    )
    table = (
        '<div class="scroll"><table><caption>Vastgelegde contactpogingen</caption><thead><tr>'
        + "".join(f'<th scope="col">{h}</th>' for h in ("Datum", "Dagdeel", "Soort", "Bereikt", "Door"))
        + f"</tr></thead><tbody>{rows}</tbody></table></div>"
        if rows
        else "<p>Nog geen contactpogingen.</p>"
    )
    case_id = e(detail.summary.case_id)
    form = (
        f'<form method="post" action="/zaken/{case_id}/contactpogingen" class="card">'
        f'<input type="hidden" name="request_id" value="{e(request_id)}">'
        '<label for="soort">Soort contact</label>'
        f'<select id="soort" name="soort" required>{_options(CONTACTSOORTEN, blank="Kies…")}</select>'
        "<fieldset><legend>Inwoner bereikt?</legend>"
        '<label class="radio"><input type="radio" name="bereikt" value="ja" required> Ja</label>'
        '<label class="radio"><input type="radio" name="bereikt" value="nee"> Nee</label></fieldset>'
        '<label for="datum">Datum</label><input id="datum" name="datum" type="date" required>'
        '<label for="dagdeel">Dagdeel</label>'
        f'<select id="dagdeel" name="dagdeel">{_options(DAGDELEN, blank="Onbekend")}</select>'
        '<button type="submit">Contactpoging vastleggen</button></form>'
    )
    return f'<section aria-labelledby="contact"><h2 id="contact">Contactpogingen</h2>{table}{form}</section>'


def _outcome(case: CaseSummary, request_id: str) -> str:
    head = '<section aria-labelledby="resultaat"><h2 id="resultaat">Eindresultaat</h2>'
    if case.outcome is not None:
        o = case.outcome
        return (
            head
            + f"<p><strong>{e(o.resultaat)}</strong> op {_nl_date(o.datum)} (vastgelegd door {e(o.actor)}).</p></section>"
        )
    return (
        head + f'<form method="post" action="/zaken/{e(case.case_id)}/resultaat" class="card">'
        f'<input type="hidden" name="request_id" value="{e(request_id)}">'
        '<label for="resultaat-keuze">Eindresultaat van de zaak</label>'
        f'<select id="resultaat-keuze" name="resultaat" required>{_options(EINDRESULTATEN, blank="Kies…")}</select>'
        '<label for="resultaat-datum">Datum</label><input id="resultaat-datum" name="datum" type="date" required>'
        '<p class="hint">Een zaak heeft precies één eindresultaat; de schuldeiser hoort alleen of het signaal '
        "is opgepakt, nooit de reden.</p>"
        '<button type="submit">Eindresultaat vastleggen</button></form></section>'
    )
