"""The team pages on the worker's web server: login, the inbox (werklijst), a case, and its forms.

| method | path | what |
|---|---|---|
| GET/POST | /team/login | login form; posting a valid token sets the session cookie (rate limited: 429) |
| POST | /team/logout | ends the session on every worker |
| GET | /team/style.css | the one stylesheet (no inline style or script: the CSP forbids them) |
| GET | /team/toegankelijkheid | the accessibility statement (public; linked from every page's footer) |
| GET | /team | to the member's own inbox |
| GET | /team/{team}/zaken | open cases by priority with their reasons |
| GET | /zaken/{case_id} | the case and the household's overview (audited) |
| POST | /zaken/{case_id}/contactpogingen | record a contact attempt |
| POST | /zaken/{case_id}/resultaat | record the final outcome |
| POST | /zaken/{case_id}/signalen/{signal_id}/status | set a signal's status |

Pages take the session cookie or a bearer token. Without either a page sends
you to the login form (303); another team's inbox answers 403, another team's case 404
(as an unknown one: need to know, signals/access.py; the refused read is audited).
A cookie-authenticated post (login and logout too) must carry an Origin or Referer
of the configured public origin, else 403.
A form post publishes its event, waits for the broker and (briefly) for the
sink, then redirects to the case page, which shows the change (post/redirect/get).
A form with a mistake re-renders the case page (400) with an error summary at the top,
a plain-Dutch message at each wrong field and what was typed kept.
The pages are Jinja2 templates (streams/team/templates/, see streams/team/html.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import faust
from faust.web import Request, Response, View

from connectors.creditor_directory import (
    CreditorDirectory,
    default_creditor_directory,
    load_creditor_directory,
)
from connectors.readmodel.case_queries import (
    CASE_SIGNALS_PAGE_SIZE,
    CaseDetail,
    CaseSummary,
)
from connectors.readmodel.household_queries import household_contact, household_events
from schemas.cases_v1 import CONTACTSOORTEN, EINDRESULTATEN, SIGNAALSTATUSSEN
from streams.team import cases as cc
from streams.team import html as pages
from streams.team import work_queue as wq
from streams.team.auth import SESSION_COOKIE, SESSION_TTL_S, Principal, TeamAuth
from streams.team.login_limits import LoginLimiter
from streams.team.paging import PagingError, page_of
from streams.team.style import CSS
from streams.worker.edge import BadInput, read_form
from streams.worker.edge import cookie as edge_cookie
from streams.worker.pipeline import Pipeline
from streams.worker.settings import Settings

__all__ = ["register_pages"]

Handler = Callable[[Principal], Awaitable[Response]]
# No caching of personal data; the CSP and other security headers come with every response
# (streams/worker/web_security.py).
_HTML_HEADERS = {"Cache-Control": "no-store"}
_FOREIGN_FORM = "Dit formulier komt niet van deze site."


def _redirect(view: View, location: str) -> Response:
    return view.text("", status=303, headers={"Location": location, "Cache-Control": "no-store"})


def _secure(request: Request) -> bool:
    """Mark the cookie Secure when the request came over HTTPS (directly or via a proxy)."""
    raw: Any = request
    return bool(getattr(raw, "secure", False)) or request.headers.get("X-Forwarded-Proto") == "https"


def _html(view: View, body: str, status: int = 200) -> Response:
    return view.html(body, status=status, headers=dict(_HTML_HEADERS))


def _team_name(auth: TeamAuth, who: Principal) -> str:
    return auth.directory.team_names.get(who.team_id, who.team_id)


def _guard(auth: TeamAuth) -> Any:
    """The wrapper of every page: a member or the login form, same-origin posts, errors as pages."""

    async def guarded(view: View, request: Request, handler: Handler, *, post: bool = False) -> Response:
        try:
            who = await auth.authenticate(request.headers, request.cookies)
        except cc.CaseError as exc:  # the session store (read model) is not open yet
            return _html(view, pages.error_page(exc.status, exc.message), exc.status)
        if who is None:
            return _redirect(view, "/team/login")
        if post and who.via == "session" and not auth.origin_allowed(request.headers):
            return _html(view, pages.error_page(403, _FOREIGN_FORM, who, _team_name(auth, who)), 403)
        try:
            return await handler(who)
        except cc.CaseError as exc:
            return _html(
                view, pages.error_page(exc.status, exc.message, who, _team_name(auth, who)), exc.status
            )

    return guarded


def register_pages(app: faust.App, pipeline: Pipeline, auth: TeamAuth, limiter: LoginLimiter) -> None:
    """Attach the HTML views."""
    guarded = _guard(auth)
    settings = pipeline.settings
    css = CSS + (settings.team_theme_file.read_text(encoding="utf-8") if settings.team_theme_file else "")
    _register_session(app, auth, limiter, guarded, settings.web_body_timeout_s, css)
    creditors = creditor_directory(settings)
    _register_reads(app, pipeline, auth, guarded, creditors)
    _register_forms(app, pipeline, auth, guarded, creditors)


def creditor_directory(settings: Settings) -> CreditorDirectory:
    """The configured creditors file; the shipped fictional sample in demo mode; else an empty one."""
    if settings.creditors_file is not None:
        return load_creditor_directory(settings.creditors_file)
    return default_creditor_directory() if settings.demo else CreditorDirectory({})


def _too_many(view: View, retry_after_s: int) -> Response:
    body = pages.login_page(f"Te veel inlogpogingen. Probeer het over {retry_after_s} seconden opnieuw.")
    return view.html(body, status=429, headers={**_HTML_HEADERS, "Retry-After": str(retry_after_s)})


def _register_session(
    app: faust.App, auth: TeamAuth, limiter: LoginLimiter, guarded: Any, body_timeout_s: float, css: str
) -> None:
    """Login, logout, the stylesheet and the way to one's own inbox."""
    html = _html

    @app.page("/team/style.css")
    class Stylesheet(View):
        async def get(self, request: Request) -> Response:
            return self.text(css, content_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

    @app.page("/team/toegankelijkheid")
    class Statement(View):
        async def get(self, request: Request) -> Response:
            return html(self, pages.accessibility_page())

    @app.page("/team/login")
    class Login(View):
        async def get(self, request: Request) -> Response:
            return html(self, pages.login_page(oidc=auth.oidc_enabled))

        async def post(self, request: Request) -> Response:
            if not auth.origin_allowed(request.headers):
                return html(self, pages.error_page(403, _FOREIGN_FORM), 403)
            # Every attempt counts against the address; one naming a member also against that member.
            address = f"address:{cast(Any, request).remote}"
            if wait_s := limiter.retry_after_s(address):
                return _too_many(self, wait_s)
            limiter.record(address)
            try:
                form = await read_form(request, timeout_s=body_timeout_s)
            except BadInput as exc:
                return html(self, pages.login_page(exc.message, oidc=auth.oidc_enabled), exc.status)
            member = auth.login(form.get("token", ""))
            if member is None:
                unknown = pages.login_page("Deze toegangscode is niet bekend.", oidc=auth.oidc_enabled)
                return html(self, unknown, 401)
            if wait_s := limiter.retry_after_s(f"member:{member.member_id}"):
                return _too_many(self, wait_s)
            limiter.record(f"member:{member.member_id}")
            try:
                session = await auth.issue(member)
            except cc.CaseError as exc:  # the session store (read model) is not open yet
                return html(self, pages.error_page(exc.status, exc.message), exc.status)
            response: Any = _redirect(self, f"/team/{member.team_id}/zaken")
            response.set_cookie(
                SESSION_COOKIE,
                session,
                max_age=SESSION_TTL_S,
                path="/",
                httponly=True,
                samesite="Strict",
                # Secure whenever the public origin is HTTPS, also behind a proxy that does not say so.
                secure=_secure(request) or auth.public_origin.startswith("https://"),
            )
            return response

    @app.page("/team/logout")
    class Logout(View):
        async def post(self, request: Request) -> Response:
            if not auth.origin_allowed(request.headers):
                return html(self, pages.error_page(403, _FOREIGN_FORM), 403)
            cookie = edge_cookie(request.cookies, SESSION_COOKIE)
            if cookie:
                try:
                    await auth.end(cookie)  # the old cookie stops working on every worker
                except cc.CaseError as exc:
                    return html(self, pages.error_page(exc.status, exc.message), exc.status)
            response: Any = _redirect(self, "/team/login")
            response.del_cookie(SESSION_COOKIE, path="/")
            return response

    @app.page("/team")
    class Home(View):
        async def get(self, request: Request) -> Response:
            async def handle(who: Principal) -> Response:
                return _redirect(self, f"/team/{who.team_id}/zaken")

            return await guarded(self, request, handle)


def _register_reads(
    app: faust.App, pipeline: Pipeline, auth: TeamAuth, guarded: Any, creditors: CreditorDirectory
) -> None:
    """The inbox and the case page."""
    html = _html

    @app.page("/team/{team}/zaken")
    class Inbox(View):
        async def get(self, request: Request, team: str) -> Response:
            async def handle(who: Principal) -> Response:
                if team != who.team_id:
                    raise cc.CaseError(403, "Dit is de werklijst van een ander team.")
                page = _page_number(request, "pagina")
                # The work queue (issue 19): filters, search, counts (streams/team/work_queue.py).
                found, queue = await wq.inbox_queue(pipeline, auth.directory, who, request.query, page)
                name = auth.directory.team_names.get(team, team)
                return html(
                    self,
                    pages.inbox_page(who, name, list(found.cases), total=found.total, page=page, **queue),
                )

            return await guarded(self, request, handle)

    @app.page("/zaken/{case_id}")
    class Case(View):
        async def get(self, request: Request, case_id: str) -> Response:
            async def handle(who: Principal) -> Response:
                page = _page_number(request, "signalen")
                body = await _case_page(
                    pipeline, auth, creditors, who, case_id, page=page, notice=request.query.get("melding")
                )
                return html(self, body)

            return await guarded(self, request, handle)


async def _case_page(
    pipeline: Pipeline,
    auth: TeamAuth,
    creditors: CreditorDirectory,
    who: Principal,
    case_id: str,
    *,
    page: int = 1,
    notice: str | None = None,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
) -> str:
    """The case page of the member's own case: its read audited first (cc.read_case), then the
    household's contact data and timeline, which only a reader of the case gets to see."""
    detail = await cc.read_case(pipeline, who, case_id, signals_offset=(page - 1) * CASE_SIGNALS_PAGE_SIZE)
    read_model = cc.read_model_of(pipeline)
    case = detail.summary
    contact = await household_contact(read_model, case.household_key)
    events = await household_events(read_model, case.household_key, team_id=who.team_id, case_id=case_id)
    name = auth.directory.team_names.get(who.team_id, who.team_id)
    return pages.case_page(
        who,
        name,
        detail,
        uuid.uuid4().hex,
        notice,
        contact=contact,
        timeline=pages.timeline_of(events),
        creditors=_creditors(creditors, detail),
        errors=errors,
        values=values,
        **await wq.case_extra(pipeline, auth.directory, who, case),
    )


def _creditors(directory: CreditorDirectory, detail: CaseDetail) -> dict[str, pages.CreditorContact]:
    """Where to arrange payment with each creditor of the case, as far as the directory knows."""
    found: dict[str, pages.CreditorContact] = {}
    for d in detail.overview.debts if detail.overview is not None else ():
        key = f"{d.debt.source}:{d.debt.creditor_id}"
        if (entry := directory.get(key)) is not None:
            found[key] = pages.CreditorContact(entry.phone, entry.url)
    return found


def _page_number(request: Request, name: str) -> int:
    """`?pagina=` / `?signalen=`: a page from 1, else a 400 (issue 16: pages are bounded)."""
    try:
        return page_of(request.query, name)
    except PagingError as exc:
        raise cc.CaseError(400, str(exc)) from None


@dataclass(frozen=True)
class FormField:
    """A form field as the page shows it: its control's id, a valid stand-in (to find the next
    mistake once this one is known) and the plain-Dutch message for a wrong value."""

    control: str
    stand_in: str | None  # None: today
    message: Callable[[str], str]


def _fixed(text: str) -> Callable[[str], str]:
    return lambda _raw: text


def _date_message(what: str) -> Callable[[str], str]:
    def message(raw: str) -> str:
        try:
            date.fromisoformat(raw)
        except ValueError:
            return f"Vul de datum {what} in, bijvoorbeeld {cc.today():%d-%m-%Y}."
        return f"De datum {what} moet in het afgelopen jaar liggen en mag niet in de toekomst liggen."

    return message


CONTACT_FORM = {
    "soort": FormField(
        "soort", CONTACTSOORTEN[0], _fixed("Kies hoe u contact hebt gezocht (soort contact).")
    ),
    "bereikt": FormField("bereikt", "ja", _fixed("Geef aan of u de inwoner hebt bereikt: ja of nee.")),
    "datum": FormField("datum", None, _date_message("van de contactpoging")),
    "dagdeel": FormField("dagdeel", "", _fixed("Kies een dagdeel, of laat het op Onbekend staan.")),
}
OUTCOME_FORM = {
    "resultaat": FormField(
        "resultaat-keuze", EINDRESULTATEN[0], _fixed("Kies het eindresultaat van de zaak.")
    ),
    "datum": FormField("resultaat-datum", None, _date_message("van het eindresultaat")),
}


def status_form(signal_id: str) -> dict[str, FormField]:
    """The status form of one signal (one per signal on the case page, each its own control id)."""
    return {
        "status": FormField(
            f"status-{signal_id}",
            SIGNAALSTATUSSEN[0],
            _fixed("Kies een status uit de lijst voor dit signaal."),
        )
    }


def form_errors(
    validate: Callable[[Mapping[str, Any]], object], form: Mapping[str, Any], fields: Mapping[str, FormField]
) -> tuple[dict[str, str], dict[str, str]]:
    """Every mistake in a form, found with the real validation: (control id -> message, control id -> typed).

    The validation stops at the first wrong field; that field gets a valid stand-in and the form is
    checked again, until it passes or names a field the page does not show (then that error is raised).
    """
    typed = {name: str(form.get(name, "")) for name in fields}
    values = {f.control: typed[name] for name, f in fields.items()}
    trial, errors = dict(form), {}
    for _ in range(len(fields) + 1):
        try:
            validate(trial)
            break
        except cc.CaseError as exc:
            field = fields.get(exc.field or "")
            if exc.status != 400 or field is None or field.control in errors:
                raise
            errors[field.control] = field.message(typed[exc.field or ""])
            trial[exc.field or ""] = cc.today().isoformat() if field.stand_in is None else field.stand_in
    return errors, values


def _field_error(exc: cc.CaseError, fields: Mapping[str, FormField]) -> bool:
    """A mistake the page shows at its field (not a conflict or a refusal)."""
    return exc.status == 400 and exc.field in fields


def _register_forms(
    app: faust.App, pipeline: Pipeline, auth: TeamAuth, guarded: Any, creditors: CreditorDirectory
) -> None:
    """The three form posts; each redirects back to the case page, or shows it again with its mistakes."""

    async def again(
        view: View,
        who: Principal,
        case: CaseSummary,
        validate: Callable[[Mapping[str, Any]], object],
        form: Mapping[str, Any],
        fields: Mapping[str, FormField],
    ) -> Response:
        errors, values = form_errors(validate, form, fields)
        body = await _case_page(pipeline, auth, creditors, who, case.case_id, errors=errors, values=values)
        return _html(view, body, 400)

    async def done(view: View, event: cc.TeamChange, notice: str) -> Response:
        stored = await cc.wait_stored(pipeline, event)
        return _redirect(view, f"/zaken/{event.case_id}?melding={notice if stored else 'verwerking'}")

    async def form_of(request: Request) -> Mapping[str, Any]:
        try:
            return await read_form(request, timeout_s=pipeline.settings.web_body_timeout_s)
        except BadInput as exc:
            raise cc.CaseError(exc.status, exc.message) from None

    @app.page("/zaken/{case_id}/contactpogingen")
    class Attempt(View):
        async def post(self, request: Request, case_id: str) -> Response:
            async def handle(who: Principal) -> Response:
                case = await cc.authorised_case(pipeline, who, case_id)
                form = await form_of(request)
                try:
                    event = await cc.record_contact_attempt(pipeline, who, case, form)
                except cc.CaseError as exc:
                    if not _field_error(exc, CONTACT_FORM):
                        raise
                    check = lambda f: cc.contact_attempt(who, case, f)  # noqa: E731
                    return await again(self, who, case, check, form, CONTACT_FORM)
                return await done(self, event, "contactpoging")

            return await guarded(self, request, handle, post=True)

    @app.page("/zaken/{case_id}/resultaat")
    class Outcome(View):
        async def post(self, request: Request, case_id: str) -> Response:
            async def handle(who: Principal) -> Response:
                case = await cc.authorised_case(pipeline, who, case_id)
                form = await form_of(request)
                try:
                    event = await cc.record_outcome(pipeline, who, case, form)
                except cc.CaseError as exc:
                    if not _field_error(exc, OUTCOME_FORM):
                        raise
                    check = lambda f: cc.outcome(who, case, f)  # noqa: E731
                    return await again(self, who, case, check, form, OUTCOME_FORM)
                return await done(self, event, "resultaat")

            return await guarded(self, request, handle, post=True)

    @app.page("/zaken/{case_id}/signalen/{signal_id}/status")
    class Status(View):
        async def post(self, request: Request, case_id: str, signal_id: str) -> Response:
            async def handle(who: Principal) -> Response:
                case = await cc.authorised_case(pipeline, who, case_id)
                form, fields = await form_of(request), status_form(signal_id)
                try:
                    event = await cc.change_status(pipeline, who, case, signal_id, form)
                except cc.CaseError as exc:
                    if not _field_error(exc, fields):
                        raise
                    check = lambda f: cc.status_change(who, case, signal_id, f)  # noqa: E731
                    return await again(self, who, case, check, form, fields)
                return await done(self, event, "status")

            return await guarded(self, request, handle, post=True)
