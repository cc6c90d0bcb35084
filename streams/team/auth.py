"""Who is asking: a team member by bearer token (API) or by a signed session cookie (web pages).

The session cookie holds a random session id, the member id, team, expiry and a
fingerprint of the member's token hash, signed with HMAC-SHA256 under the
deployment's own `session_key` (rotation: signed with the new key, the previous
one still accepted until its sessions expire). The session id must also be in the
session store every worker shares, so logging out ends the session everywhere.
The cookie is HttpOnly and SameSite=Strict; changing a member's token in the
teams file ends that member's sessions too.

A member signed in through the municipality's OpenID provider (streams/team/oidc.py) is not
in the teams file: the cookie then carries `p: "oidc"`, the member's name, team and role as
the provider's claims gave them at sign-in, signed like any session; such a session ends at
logout, at expiry, or when its team leaves the teams file or OIDC is switched off.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import orjson

from connectors.team_access import TeamDirectory, TeamMember
from streams.team.roles import ROLES, Role
from streams.worker.edge import bearer_token, cookie

__all__ = [
    "SESSION_COOKIE",
    "SESSION_TTL_S",
    "Principal",
    "SessionKeys",
    "SessionStore",
    "TeamAuth",
    "normal_origin",
    "origin_allowed",
]

SESSION_COOKIE = "vs_team_session"
SESSION_TTL_S = 8 * 3600  # one working day
_FINGERPRINT_HEX = 16


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated team member; `session_id` only for a cookie session.

    `provider`: a token from the teams file, or a sign-in at the municipality's OpenID provider;
    `role`: what the member may do in the team (streams/team/roles.py)."""

    member_id: str
    team_id: str
    name: str
    via: Literal["bearer", "session"]
    session_id: str | None = None
    role: Role = "medewerker"
    provider: Literal["token", "oidc"] = "token"


@dataclass(frozen=True, slots=True)
class SessionKeys:
    """The key that signs new sessions and the previous one, still accepted during a rotation."""

    current: bytes
    previous: bytes | None = None

    def __post_init__(self) -> None:
        if len(self.current) < 16 or (self.previous is not None and len(self.previous) < 16):
            raise ValueError("a session key must be at least 16 bytes")


class SessionStore(Protocol):
    """Where sessions live so that every worker sees a login and a logout (the read model)."""

    async def start(self, session_id: str, *, member_id: str, team_id: str, expires_at: datetime) -> None:
        """Record a new session."""

    async def active(self, session_id: str, *, member_id: str, now: datetime) -> bool:
        """Whether the session exists for this member and has not expired."""

    async def end(self, session_id: str) -> None:
        """End the session on every worker."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())


class TeamAuth:
    """Authenticates requests against the team directory; starts, checks and ends sessions."""

    def __init__(
        self,
        directory: TeamDirectory,
        keys: SessionKeys,
        sessions: SessionStore,
        *,
        public_origin: str,
        clock: Callable[[], float] = time.time,
        oidc_enabled: bool = False,
    ) -> None:
        self._directory = directory
        self._keys = keys
        self._sessions = sessions
        self.public_origin = normal_origin(public_origin)
        self._clock = clock
        self.oidc_enabled = oidc_enabled

    @property
    def keys(self) -> SessionKeys:
        """The signing keys (the OIDC login ticket is signed with them too)."""
        return self._keys

    @property
    def directory(self) -> TeamDirectory:
        """The members and team names."""
        return self._directory

    def login(self, token: str) -> TeamMember | None:
        """The member a token belongs to (the login form posts it)."""
        token = token.strip()
        return self._directory.authenticate(token) if token.isascii() and token.isprintable() else None

    async def authenticate(self, headers: Mapping[str, str], cookies: Mapping[str, str]) -> Principal | None:
        """A bearer token wins over a session cookie; None when neither is valid."""
        token = bearer_token(headers)  # '' for one that cannot be a token (edge.py: never an exception)
        if token is not None:
            member = self._directory.authenticate(token) if token else None
            return _principal(member, "bearer") if member else None
        session = cookie(cookies, SESSION_COOKIE)
        return await self.verify(session) if session else None

    async def issue(self, member: TeamMember) -> str:
        """Start a session for the member; the signed value for the cookie."""
        return await self._start(
            member.member_id, member.team_id, {"fp": member.token_sha256[:_FINGERPRINT_HEX]}
        )

    async def issue_signed_in(self, *, member_id: str, name: str, team_id: str, role: Role) -> str:
        """Start a session for a member the OpenID provider vouched for; the signed value for the cookie."""
        return await self._start(member_id, team_id, {"p": "oidc", "n": name, "r": role})

    async def _start(self, member_id: str, team_id: str, extra: dict[str, str]) -> str:
        session_id = secrets.token_urlsafe(32)
        expires = int(self._clock()) + SESSION_TTL_S
        await self._sessions.start(
            session_id, member_id=member_id, team_id=team_id, expires_at=datetime.fromtimestamp(expires, UTC)
        )
        payload = orjson.dumps({"s": session_id, "m": member_id, "t": team_id, "exp": expires, **extra})
        body = _b64(payload)
        return f"{body}.{_sign(self._keys.current, body)}"

    async def verify(self, value: str) -> Principal | None:
        """The member of a live, unexpired session whose token has not changed since; else None."""
        claims = self._claims(value)
        if claims is None or _int(claims.get("exp")) < self._clock():
            return None
        found = self._signed_in(claims) if claims.get("p") == "oidc" else self._token_member(claims)
        session_id = str(claims.get("s", ""))
        now = datetime.fromtimestamp(self._clock(), UTC)
        if found is None or not session_id:
            return None
        if not await self._sessions.active(session_id, member_id=found.member_id, now=now):
            return None
        return Principal(
            member_id=found.member_id,
            team_id=found.team_id,
            name=found.name,
            via="session",
            session_id=session_id,
            role=found.role,
            provider=found.provider,
        )

    def _token_member(self, claims: dict[str, Any]) -> Principal | None:
        member = self._directory.member(str(claims.get("m", "")))
        if member is None or member.team_id != claims.get("t"):
            return None
        if not hmac.compare_digest(member.token_sha256[:_FINGERPRINT_HEX], str(claims.get("fp", ""))):
            return None
        return _principal(member, "session")

    def _signed_in(self, claims: dict[str, Any]) -> Principal | None:
        member_id, team_id, name, role = (claims.get(k) for k in ("m", "t", "n", "r"))
        if not self.oidc_enabled or team_id not in self._directory.team_names or role not in ROLES:
            return None
        if not (isinstance(member_id, str) and member_id and isinstance(name, str)):
            return None
        return Principal(
            member_id=member_id, team_id=str(team_id), name=name, via="session", role=role, provider="oidc"
        )

    async def end(self, value: str) -> None:
        """Log out: the session of a validly signed cookie ends on every worker."""
        claims = self._claims(value)
        if claims is not None and claims.get("s"):
            await self._sessions.end(str(claims["s"]))

    def _claims(self, value: str) -> dict[str, Any] | None:
        """The claims of a value signed with the current or the previous key."""
        body, _, signature = value.partition(".")
        if (
            not body
            or not value.isascii()
            or not any(
                hmac.compare_digest(signature.encode(), _sign(key, body).encode())
                for key in (self._keys.current, self._keys.previous)
                if key is not None
            )
        ):
            return None
        try:
            claims = orjson.loads(_unb64(body))
        except (ValueError, orjson.JSONDecodeError):
            return None
        return claims if isinstance(claims, dict) else None

    def origin_allowed(self, headers: Mapping[str, str]) -> bool:
        """For cookie-authenticated posts (login and logout too): see `origin_allowed`."""
        return origin_allowed(headers, self.public_origin)


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def _principal(
    member: TeamMember, via: Literal["bearer", "session"], session_id: str | None = None
) -> Principal:
    return Principal(
        member_id=member.member_id,
        team_id=member.team_id,
        name=member.name,
        via=via,
        session_id=session_id,
        role=member.role,
    )


_DEFAULT_PORTS = {"http": 80, "https": 443}


def normal_origin(url: str) -> str:
    """scheme://host[:port] of a URL, lower case, without the scheme's default port; '' when it has none.

    >>> normal_origin("HTTPS://Team.Example.nl:443/zaken/1?x=2")
    'https://team.example.nl'
    >>> normal_origin("http://127.0.0.1:6066"), normal_origin("null")
    ('http://127.0.0.1:6066', '')
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return ""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    suffix = f":{port}" if port is not None and port != _DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{host}{suffix}"


def origin_allowed(headers: Mapping[str, str], public_origin: str) -> bool:
    """A cookie-authenticated post must name the public origin in Origin, or else in Referer.

    Not the request's own Host, which the sender chooses; and a post naming neither is
    refused, since a browser sends at least one of them on every form post.

    >>> origin_allowed({"Origin": "http://127.0.0.1:6066"}, "http://127.0.0.1:6066")
    True
    >>> origin_allowed({"Host": "evil.example", "Origin": "http://evil.example"}, "http://127.0.0.1:6066")
    False
    >>> origin_allowed({"Referer": "http://127.0.0.1:6066/zaken/c1"}, "http://127.0.0.1:6066")
    True
    >>> origin_allowed({}, "http://127.0.0.1:6066"), origin_allowed({"Origin": "null"}, "http://127.0.0.1:6066")
    (False, False)
    >>> origin_allowed({"Origin": "http://\u00e9.example"}, "http://127.0.0.1:6066")
    False
    """
    expected = normal_origin(public_origin)
    origin = headers.get("Origin")
    given = origin if origin is not None else headers.get("Referer")
    if not expected or given is None:
        return False
    # As bytes: compare_digest refuses str with non-ASCII characters, which a sender may put in a host.
    return hmac.compare_digest(normal_origin(given).encode("utf-8", "surrogatepass"), expected.encode())
