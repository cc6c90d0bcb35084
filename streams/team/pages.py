"""The team pages on the worker's web server: login, the inbox (werklijst), a case, and its forms.

| method | path | what |
|---|---|---|
| GET/POST | /team/login | login form; posting a valid token sets the session cookie (rate limited: 429) |
| POST | /team/logout | ends the session on every worker |
| GET | /team/style.css | the one stylesheet (no inline style or script: the CSP forbids them) |
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
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

import faust
from faust.web import Request, Response, View

from connectors.readmodel.case_queries import CASE_SIGNALS_PAGE_SIZE, INBOX_PAGE_SIZE, open_cases_page
from streams.team import cases as cc
from streams.team import html as pages
from streams.team.auth import SESSION_COOKIE, SESSION_TTL_S, Principal, TeamAuth
from streams.team.login_limits import LoginLimiter
from streams.team.paging import PagingError, page_of
from streams.team.style import CSS
from streams.worker.edge import BadInput, read_form
from streams.worker.edge import cookie as edge_cookie
from streams.worker.pipeline import Pipeline

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
            return _html(view, pages.error_page(403, _FOREIGN_FORM, who), 403)
        try:
            return await handler(who)
        except cc.CaseError as exc:
            return _html(view, pages.error_page(exc.status, exc.message, who), exc.status)

    return guarded


def register_pages(app: faust.App, pipeline: Pipeline, auth: TeamAuth, limiter: LoginLimiter) -> None:
    """Attach the HTML views."""
    guarded = _guard(auth)
    _register_session(app, auth, limiter, guarded, pipeline.settings.web_body_timeout_s)
    _register_reads(app, pipeline, auth, guarded)
    _register_forms(app, pipeline, guarded)


def _too_many(view: View, retry_after_s: int) -> Response:
    body = pages.login_page(f"Te veel inlogpogingen. Probeer het over {retry_after_s} seconden opnieuw.")
    return view.html(body, status=429, headers={**_HTML_HEADERS, "Retry-After": str(retry_after_s)})


def _register_session(
    app: faust.App, auth: TeamAuth, limiter: LoginLimiter, guarded: Any, body_timeout_s: float
) -> None:
    """Login, logout, the stylesheet and the way to one's own inbox."""
    html = _html

    @app.page("/team/style.css")
    class Stylesheet(View):
        async def get(self, request: Request) -> Response:
            return self.text(CSS, content_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

    @app.page("/team/login")
    class Login(View):
        async def get(self, request: Request) -> Response:
            return html(self, pages.login_page())

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
                return html(self, pages.login_page(exc.message), exc.status)
            member = auth.login(form.get("token", ""))
            if member is None:
                return html(self, pages.login_page("Deze toegangscode is niet bekend."), 401)
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


def _register_reads(app: faust.App, pipeline: Pipeline, auth: TeamAuth, guarded: Any) -> None:
    """The inbox and the case page."""
    html = _html

    @app.page("/team/{team}/zaken")
    class Inbox(View):
        async def get(self, request: Request, team: str) -> Response:
            async def handle(who: Principal) -> Response:
                if team != who.team_id:
                    raise cc.CaseError(403, "Dit is de werklijst van een ander team.")
                page = _page_number(request, "pagina")
                found = await open_cases_page(
                    cc.read_model_of(pipeline),
                    team,
                    limit=INBOX_PAGE_SIZE,
                    offset=(page - 1) * INBOX_PAGE_SIZE,
                )
                name = auth.directory.team_names.get(team, team)
                return html(
                    self, pages.inbox_page(who, name, list(found.cases), total=found.total, page=page)
                )

            return await guarded(self, request, handle)

    @app.page("/zaken/{case_id}")
    class Case(View):
        async def get(self, request: Request, case_id: str) -> Response:
            async def handle(who: Principal) -> Response:
                page = _page_number(request, "signalen")
                detail = await cc.read_case(
                    pipeline, who, case_id, signals_offset=(page - 1) * CASE_SIGNALS_PAGE_SIZE
                )
                name = auth.directory.team_names.get(who.team_id, who.team_id)
                notice = request.query.get("melding")
                return html(self, pages.case_page(who, name, detail, uuid.uuid4().hex, notice))

            return await guarded(self, request, handle)


def _page_number(request: Request, name: str) -> int:
    """`?pagina=` / `?signalen=`: a page from 1, else a 400 (issue 16: pages are bounded)."""
    try:
        return page_of(request.query, name)
    except PagingError as exc:
        raise cc.CaseError(400, str(exc)) from None


def _register_forms(app: faust.App, pipeline: Pipeline, guarded: Any) -> None:
    """The three form posts; each redirects back to the case page."""

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
                event = await cc.record_contact_attempt(pipeline, who, case, await form_of(request))
                return await done(self, event, "contactpoging")

            return await guarded(self, request, handle, post=True)

    @app.page("/zaken/{case_id}/resultaat")
    class Outcome(View):
        async def post(self, request: Request, case_id: str) -> Response:
            async def handle(who: Principal) -> Response:
                case = await cc.authorised_case(pipeline, who, case_id)
                event = await cc.record_outcome(pipeline, who, case, await form_of(request))
                return await done(self, event, "resultaat")

            return await guarded(self, request, handle, post=True)

    @app.page("/zaken/{case_id}/signalen/{signal_id}/status")
    class Status(View):
        async def post(self, request: Request, case_id: str, signal_id: str) -> Response:
            async def handle(who: Principal) -> Response:
                case = await cc.authorised_case(pipeline, who, case_id)
                event = await cc.change_status(pipeline, who, case, signal_id, await form_of(request))
                return await done(self, event, "status")

            return await guarded(self, request, handle, post=True)
