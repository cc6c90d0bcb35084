"""The login ticket of a municipal sign-in: what the callback must match, kept in a signed cookie.

Between the redirect to the provider and its callback the worker keeps no state of its own:
the `state`, `nonce` and PKCE `code_verifier` of the login travel in an HttpOnly cookie on
/team/oidc, HMAC-signed under the session key (domain-separated from session cookies), valid
for 10 minutes. The provider never sees it; the verifier never leaves this browser and us.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

import orjson

__all__ = [
    "LOGIN_TICKET_COOKIE",
    "LOGIN_TICKET_TTL_S",
    "TICKET_MISSING",
    "LoginTicket",
    "open_ticket",
    "seal_ticket",
]

LOGIN_TICKET_COOKIE = "vs_oidc_login"
LOGIN_TICKET_TTL_S = 600  # from the redirect to the provider until the callback
TICKET_MISSING = "Deze inlogpoging is verlopen of niet in deze browser begonnen. Probeer opnieuw."


@dataclass(frozen=True, slots=True)
class LoginTicket:
    """What the callback must match: state, nonce and PKCE verifier of one login, and the wanted team."""

    state: str
    nonce: str
    verifier: str
    team: str
    expires_at: int


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _sign(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, b"oidc-ticket." + body.encode("ascii"), hashlib.sha256).digest())


def seal_ticket(ticket: LoginTicket, key: bytes) -> str:
    """The cookie value: the ticket, signed (HttpOnly, never shown to the provider)."""
    body = _b64(
        orjson.dumps(
            {
                "s": ticket.state,
                "n": ticket.nonce,
                "v": ticket.verifier,
                "t": ticket.team,
                "e": ticket.expires_at,
            }
        )
    )
    return f"{body}.{_sign(key, body)}"


def open_ticket(value: str, keys: tuple[bytes, ...], now: float) -> LoginTicket | None:
    """The ticket of a cookie signed with one of the keys and not expired; else None."""
    body, _, signature = value.partition(".")
    if not body or not value.isascii():
        return None
    if not any(hmac.compare_digest(signature.encode(), _sign(k, body).encode()) for k in keys):
        return None
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        ticket = LoginTicket(str(raw["s"]), str(raw["n"]), str(raw["v"]), str(raw["t"]), int(raw["e"]))
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return None
    return ticket if ticket.expires_at >= now else None
