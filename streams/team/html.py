"""Server-rendered HTML of the team pages: Dutch, accessible (WCAG 2.1 AA), readable on a phone, no JavaScript.

The pages are Jinja2 templates in `streams/team/templates/` with autoescape on: every value from
data is escaped on its way into a page. `render(name, **context)` renders any template; the
functions below give each page its context. How to add a page: /work/coord/s4/pages.md and the
comments at the top of `templates/base.html`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from connectors.readmodel.case_queries import CASE_SIGNALS_PAGE_SIZE, INBOX_PAGE_SIZE, CaseDetail, CaseSummary
from connectors.readmodel.household_queries import HouseholdContact, HouseholdEvent
from schemas.cases_v1 import CONTACTSOORTEN, DAGDELEN, EINDRESULTATEN, SIGNAALSTATUSSEN
from signals.calendar import local_day
from signals.money import eur_nl
from streams.team.auth import Principal
from streams.team.cases import today

__all__ = [
    "CreditorContact",
    "TimelineItem",
    "accessibility_page",
    "case_page",
    "e",
    "error_page",
    "euro",
    "inbox_page",
    "login_page",
    "render",
    "timeline_of",
    "today",
]

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
CLOSE_NL = {
    "paid": "betaald",
    "arrangement": "betalingsregeling",
    "withdrawn": "ingetrokken",
    "transferred": "overgedragen",
    "written_off": "kwijtgescholden",
}
VIOLATION_NL = {
    "before_pay_by": "voor het einde van de betaaltermijn",
    "above_scale": "boven de wettelijke staffel",
    "above_raise": "boven de wettelijke verhoging",
    "before_free_reminder": "zonder gratis herinnering vooraf",
    "supply_ending_in_winter": "afsluiting in de winter",
}
NOTICES = {
    "contactpoging": "De contactpoging is vastgelegd.",
    "resultaat": "Het eindresultaat is vastgelegd.",
    "status": "De status van het signaal is opgeslagen.",
    "toewijzing": "De toewijzing is opgeslagen.",
    "actie": "De volgende actie is opgeslagen.",
    "verwerking": "Uw wijziging is ontvangen en wordt nog verwerkt; vernieuw de pagina zo.",
}


def e(value: object) -> str:
    """Escape any value for HTML text and attributes (for code outside the templates).

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
    """A day as Dutch people write it; an instant as its day in Amsterdam.

    >>> from datetime import UTC
    >>> _nl_date(datetime(2026, 9, 1, 23, 30, tzinfo=UTC))
    '02-09-2026'
    """
    day = local_day(value) if isinstance(value, datetime) else value
    return day.strftime("%d-%m-%Y")


def _postcode(value: str) -> str:
    """`1011AB` as written on a letter.

    >>> _postcode("1011AB")
    '1011 AB'
    """
    return f"{value[:4]} {value[4:]}" if len(value) == 6 else value


def _tel(value: str) -> str:
    """The digits (and a leading +) of a phone number, for a tel: link.

    >>> _tel("020 - 123 45 67")
    '0201234567'
    """
    return "".join(c for c in value if c.isdigit() or (c == "+" and not value.index(c)))


_ENV = Environment(
    loader=PackageLoader("streams.team", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)


def _reminder_lines(reminders: Iterable[Any]) -> list[str]:
    """A debt's reminders as lines, each once (the creditor's own and the one the pipeline asked for
    are the same letter when kind and day agree)."""
    return list(
        dict.fromkeys(
            f"{'gratis' if r.kind == 'free' else 'formeel'} {_nl_date(r.sent_on)}" for r in reminders
        )
    )


_ENV.filters.update(
    reminder_lines=_reminder_lines,
    nl_date=_nl_date,
    euro=euro,
    postcode=_postcode,
    tel=_tel,
    kind_nl=lambda k: KIND_NL.get(k, k),
)
_ENV.globals.update(
    PRIORITY_NL=PRIORITY_NL,
    SOURCE_NL=SOURCE_NL,
    STATUS_NL=STATUS_NL,
    CLOSE_NL=CLOSE_NL,
    CONTACTSOORTEN=CONTACTSOORTEN,
    DAGDELEN=DAGDELEN,
    EINDRESULTATEN=EINDRESULTATEN,
    SIGNAALSTATUSSEN=SIGNAALSTATUSSEN,
)


def render(template: str, *, who: Principal | None = None, team_name: str = "", **context: Any) -> str:
    """Render a page template (one that extends base.html) with the member and team for its header."""
    context.setdefault("active", "")
    return _ENV.get_template(template).render(who=who, team_name=team_name, **context)


def login_page(error: str | None = None, *, oidc: bool = False) -> str:
    """The login form: a member types the personal token it was given; with `oidc` also the way
    in through the municipality's identity provider (GET /team/oidc/login)."""
    return render("login.html", error=error, oidc=oidc)


def error_page(status: int, message: str, who: Principal | None = None, team_name: str = "") -> str:
    """A short page for 403, 404 and friends."""
    # Escaped as before the templates (html.escape: &#x27; for a quote), so the message reads the same.
    return render("error.html", who=who, team_name=team_name, status=status, message=Markup(e(message)))


def accessibility_page(who: Principal | None = None, team_name: str = "") -> str:
    """The accessibility statement (toegankelijkheidsverklaring), linked from every page's footer."""
    return render("accessibility.html", who=who, team_name=team_name)


def inbox_page(
    who: Principal,
    team_name: str,
    cases: list[CaseSummary],
    *,
    total: int | None = None,
    page: int = 1,
    page_size: int = INBOX_PAGE_SIZE,
    **extra: Any,
) -> str:
    """Open cases of the team by priority, each with its reasons; one page of `page_size` of `total`.

    `extra` goes to the template as it is (the work queue's filters and counts); `page_base` there
    replaces the start of the pager links (the page number is appended).
    """
    total = len(cases) if total is None else total
    extra.setdefault("page_base", f"/team/{who.team_id}/zaken?pagina=")
    return render(
        "inbox.html",
        who=who,
        team_name=team_name,
        active="werklijst",
        cases=cases,
        total=total,
        page=page,
        pages=max(1, -(-total // page_size)),
        **extra,
    )


@dataclass(frozen=True)
class CreditorContact:
    """Where a household can arrange payment with a creditor (from the creditor directory)."""

    phone: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class TimelineItem:
    """One line of the case's timeline, in Dutch."""

    day: date
    kind: str
    what: str
    detail: str = ""


def _event_text(event: HouseholdEvent) -> tuple[str, str]:
    creditor = event.creditor or "schuldeiser"
    amount = euro(event.amount_cents) if event.amount_cents is not None else ""
    match event.kind:
        case "debt_due":
            return f"Schuld bij {creditor} vervallen", f"hoofdsom {amount}"
        case "reminder":
            return f"{'Gratis' if event.note == 'free' else 'Formele'} herinnering van {creditor}", ""
        case "costs_permitted":
            return f"{creditor} mag incassokosten rekenen", f"ten hoogste {amount}"
        case "costs_charged":
            return (
                f"{creditor} rekende kosten",
                f"{amount}, niet toegestaan: {VIOLATION_NL.get(event.note or '', event.note or '')}",
            )
        case "paid":
            return f"Schuld bij {creditor} betaald", ""
        case "closed":
            return f"Schuld bij {creditor} afgesloten", CLOSE_NL.get(event.note or "", event.note or "")
        case "signal":
            return "Vroegsignaal", f"{PRIORITY_NL.get(event.note or '', '')}, totaal {amount}".lstrip(", ")
        case "signal_resolved":
            return "Signaal opgelost", "alle schulden van het signaal betaald"
        case "attempt":
            return "Contactpoging", event.note or ""
        case "outcome":
            return "Eindresultaat vastgelegd", event.note or ""
    return event.kind, event.note or ""  # pragma: no cover - every kind is named above


def timeline_of(events: Iterable[HouseholdEvent], *, limit: int = 200) -> list[TimelineItem]:
    """The household's events as timeline lines, oldest first, at most the newest `limit`."""
    items: list[TimelineItem] = []
    for event in events:
        what, detail = _event_text(event)
        day = local_day(event.at) if isinstance(event.at, datetime) else event.at
        item = TimelineItem(day, event.kind, what, detail)
        if item not in items[-5:]:  # a reminder the creditor sent on the pipeline's word: once
            items.append(item)
    return items[-limit:]


@dataclass(frozen=True)
class _SignalPages:
    from_: int
    to: int
    count: int
    page: int
    pages: int


def _signal_pages(case: CaseSummary) -> _SignalPages | None:
    """Pages from the newest: page 1 holds the newest signals, "meer" leads to older ones."""
    count, size = case.signal_count, CASE_SIGNALS_PAGE_SIZE
    if count <= len(case.signals):
        return None
    first, last = case.signals_offset + 1, case.signals_offset + len(case.signals)
    return _SignalPages(
        count - last + 1, count - first + 1, count, case.signals_offset // size + 1, max(1, -(-count // size))
    )


def case_page(
    who: Principal,
    team_name: str,
    detail: CaseDetail,
    request_id: str,
    notice: str | None,
    *,
    contact: HouseholdContact | None = None,
    timeline: Iterable[TimelineItem] = (),
    creditors: Mapping[str, CreditorContact] | None = None,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    **extra: Any,
) -> str:
    """The case: contact data, reasons, debts per creditor, timeline, signals, contact attempts, outcome.

    `errors` (control id -> Dutch message) and `values` (control id -> what was typed) re-render a
    form that had a mistake; `creditors` maps `source:creditor_id` to where to arrange payment.
    """
    case = detail.summary
    creditors = dict(creditors or {})
    known = detail.overview is not None and any(
        f"{d.debt.source}:{d.debt.creditor_id}" in creditors for d in detail.overview.debts
    )
    return render(
        "case.html",
        who=who,
        team_name=team_name,
        detail=detail,
        case=case,
        overview=detail.overview,
        request_id=request_id,
        notice=NOTICES.get(notice or ""),
        contact=contact,
        timeline=list(timeline),
        creditors=creditors,
        creditors_known=known,
        signal_pages=_signal_pages(case),
        errors=dict(errors or {}),
        values=dict(values or {}),
        today=today().isoformat(),
        **extra,
    )
