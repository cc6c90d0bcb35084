"""The municipal sign-in on the team pages: redirect to the provider, its callback, and logout there.

| method | path | what |
|---|---|---|
| GET | /team/oidc/login | to the provider's login (`?team=` picks the team of a member of several) |
| GET | /team/oidc/callback | the provider's answer: checks it, starts the session, on to the inbox |
| POST | /team/oidc/logout | ends the session here, then (if the provider offers it) there too |

Logout answers with a page that moves on to the provider's logout by itself (meta refresh, no
script): the CSP's `form-action 'self'` forbids a form post that redirects to another site.

Without `oidc_issuer` these paths answer 404. The login ticket (state, nonce, PKCE verifier) lives
in a signed HttpOnly cookie on /team/oidc with SameSite=Lax: the callback is a top-level navigation
from the provider's site, on which a Strict cookie would not be sent. For the same reason the
callback answers with a page that moves on to the inbox itself: the session cookie is SameSite=Strict,
and a browser leaves it out of the redirects of a navigation that a cross-site page started.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlsplit

import faust
from faust.web import Request, Response, View

from streams.team import cases as cc
from streams.team import html as pages
from streams.team.auth import SESSION_COOKIE, SESSION_TTL_S, TeamAuth
from streams.team.login_limits import LoginLimiter
from streams.team.oidc import CALLBACK_PATH, OidcClient, OidcConfig, OidcError, load_group_map
from streams.team.oidc_ticket import (
    LOGIN_TICKET_COOKIE,
    LOGIN_TICKET_TTL_S,
    TICKET_MISSING,
    open_ticket,
    seal_ticket,
)
from streams.worker.edge import cookie as edge_cookie
from streams.worker.settings import Settings, SettingsError

__all__ = ["oidc_config", "register_oidc_pages"]

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}

_TICKET_PATH = "/team/oidc"
_NO_STORE = {"Cache-Control": "no-store"}
_FOREIGN_FORM = "Dit formulier komt niet van deze site."


def oidc_config(settings: Settings, public_origin: str) -> OidcConfig | None:
    """The relying party's configuration from the settings; None while `oidc_issuer` is not set."""
    issuer = settings.oidc_issuer
    if issuer is None:
        return None
    if urlsplit(issuer).scheme != "https" and urlsplit(issuer).hostname not in _LOOPBACK:
        raise SettingsError("setting 'oidc_issuer' must be an https:// URL (http only on loopback)")
    if not settings.oidc_client_id or settings.oidc_client_secret is None:
        raise SettingsError(
            "settings 'oidc_client_id' and 'oidc_client_secret' are required with 'oidc_issuer'"
            " (VROEGSIGNAAL_OIDC_CLIENT_ID, VROEGSIGNAAL_OIDC_CLIENT_SECRET)"
        )
    try:
        groups = load_group_map(settings.oidc_groups_file) if settings.oidc_groups_file else None
    except (OSError, ValueError) as exc:
        raise SettingsError(f"setting 'oidc_groups_file': {exc}") from None
    return OidcConfig(
        issuer=issuer,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        redirect_uri=public_origin + CALLBACK_PATH,
        post_logout_redirect_uri=public_origin + "/team/login",
        scopes=settings.oidc_scopes,
        member_claim=settings.oidc_member_claim,
        teams_claim=settings.oidc_teams_claim,
        roles_claim=settings.oidc_roles_claim,
        group_map=groups,
    )


def _secure(request: Request, auth: TeamAuth) -> bool:
    """Secure cookies over HTTPS, directly, via a proxy, or whenever the public origin is HTTPS."""
    raw: Any = request
    return (
        bool(getattr(raw, "secure", False))
        or request.headers.get("X-Forwarded-Proto") == "https"
        or auth.public_origin.startswith("https://")
    )


def _redirect(view: View, location: str) -> Any:
    return view.text("", status=303, headers={"Location": location, **_NO_STORE})


def _error(view: View, status: int, message: str, **headers: str) -> Response:
    body = pages.render("signed_in.html", status=status, error=message, inbox="")
    return view.html(body, status=status, headers={**_NO_STORE, **headers})


def register_oidc_pages(app: faust.App, auth: TeamAuth, client: OidcClient, limiter: LoginLimiter) -> None:
    """Attach the sign-in views (only called when OIDC is configured)."""

    @app.page("/team/oidc/login")
    class Begin(View):
        async def get(self, request: Request) -> Response:
            try:
                url, ticket = await client.begin(team=request.query.get("team", "")[:100])
            except OidcError as exc:
                return _error(self, exc.status, exc.message)
            response = _redirect(self, url)
            response.set_cookie(
                LOGIN_TICKET_COOKIE,
                seal_ticket(ticket, auth.keys.current),
                max_age=LOGIN_TICKET_TTL_S,
                path=_TICKET_PATH,
                httponly=True,
                samesite="Lax",
                secure=_secure(request, auth),
            )
            return cast(Response, response)

    @app.page("/team/oidc/callback")
    class Callback(View):
        async def get(self, request: Request) -> Response:
            # Every callback counts against the address, like a token login.
            address = f"address:{cast(Any, request).remote}"
            if wait_s := limiter.retry_after_s(address):
                message = f"Te veel inlogpogingen. Probeer het over {wait_s} seconden opnieuw."
                return _error(self, 429, message, **{"Retry-After": str(wait_s)})
            limiter.record(address)
            keys = tuple(k for k in (auth.keys.current, auth.keys.previous) if k is not None)
            raw_ticket = edge_cookie(request.cookies, LOGIN_TICKET_COOKIE) or ""
            ticket = open_ticket(raw_ticket, keys, client.clock())
            if ticket is None:
                return _error(self, 400, TICKET_MISSING)
            try:
                claims = await client.finish(dict(request.query), ticket)
                who = client.signed_in(claims, set(auth.directory.team_names))
                chosen = next((m for m in who.memberships if m.team_id == ticket.team), who.memberships[0])
                session = await auth.issue_signed_in(
                    member_id=who.member_id, name=who.name, team_id=chosen.team_id, role=chosen.role
                )
            except OidcError as exc:
                return _error(self, exc.status, exc.message)
            except cc.CaseError as exc:  # the session store (read model) is not open yet
                return _error(self, exc.status, exc.message)
            inbox = f"/team/{chosen.team_id}/zaken"
            body = pages.render("signed_in.html", status=200, error=None, inbox=inbox)
            response: Any = self.html(body, headers=dict(_NO_STORE))
            response.del_cookie(LOGIN_TICKET_COOKIE, path=_TICKET_PATH)
            response.set_cookie(
                SESSION_COOKIE,
                session,
                max_age=SESSION_TTL_S,
                path="/",
                httponly=True,
                samesite="Strict",
                secure=_secure(request, auth),
            )
            return cast(Response, response)

    @app.page("/team/oidc/logout")
    class Logout(View):
        async def post(self, request: Request) -> Response:
            if not auth.origin_allowed(request.headers):
                return _error(self, 403, _FOREIGN_FORM)
            session = edge_cookie(request.cookies, SESSION_COOKIE)
            if session:
                try:
                    await auth.end(session)  # the old cookie stops working on every worker
                except cc.CaseError as exc:
                    return _error(self, exc.status, exc.message)
            provider_logout = await client.logout_url()
            if provider_logout is None:
                response = _redirect(self, "/team/login")
            else:  # a page that moves on: form-action 'self' forbids a post redirecting to another site
                body = pages.render("signed_out.html", provider_logout=provider_logout)
                response = self.html(body, headers=dict(_NO_STORE))
            response.del_cookie(SESSION_COOKIE, path="/")
            return cast(Response, response)
