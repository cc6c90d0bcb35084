"""Who is asking: a team member by bearer token (API) or by a signed session cookie (web pages).

The session cookie holds the member id, team, expiry and a fingerprint of the
member's token hash, signed with HMAC-SHA256; it is HttpOnly and
SameSite=Strict, so scripts cannot read it and other sites cannot send it.
Changing a member's token in the teams file ends that member's sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import orjson

from connectors.team_access import TeamDirectory, TeamMember

__all__ = ["SESSION_COOKIE", "SESSION_TTL_S", "Principal", "TeamAuth", "same_origin", "session_key_from"]

SESSION_COOKIE = "vs_team_session"
SESSION_TTL_S = 8 * 3600  # one working day
_FINGERPRINT_HEX = 16


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated team member."""

    member_id: str
    team_id: str
    name: str
    via: Literal["bearer", "session"]


def session_key_from(secret: bytes) -> bytes:
    """A key for session signatures, derived from the deployment's secret for this one purpose.

    >>> session_key_from(b"k") == session_key_from(b"k") != session_key_from(b"other")
    True
    """
    return hmac.new(secret, b"vroegsignaal team session v1", hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TeamAuth:
    """Authenticates requests against the team directory; issues and checks session cookies."""

    def __init__(
        self, directory: TeamDirectory, session_key: bytes, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._directory = directory
        self._key = session_key
        self._clock = clock

    @property
    def directory(self) -> TeamDirectory:
        """The members and team names."""
        return self._directory

    def login(self, token: str) -> TeamMember | None:
        """The member a token belongs to (the login form posts it)."""
        return self._directory.authenticate(token.strip())

    def authenticate(self, headers: Mapping[str, str], cookies: Mapping[str, str]) -> Principal | None:
        """A bearer token wins over a session cookie; None when neither is valid."""
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            member = self._directory.authenticate(token.strip())
            return _principal(member, "bearer") if member else None
        cookie = cookies.get(SESSION_COOKIE)
        return self.verify(cookie) if cookie else None

    def issue(self, member: TeamMember) -> str:
        """A signed session value for the cookie."""
        payload = orjson.dumps(
            {
                "m": member.member_id,
                "t": member.team_id,
                "exp": int(self._clock()) + SESSION_TTL_S,
                "fp": member.token_sha256[:_FINGERPRINT_HEX],
            }
        )
        body = _b64(payload)
        return f"{body}.{self._sign(body)}"

    def verify(self, value: str) -> Principal | None:
        """The member of a valid, unexpired session whose token has not changed since; else None."""
        body, _, signature = value.partition(".")
        if not body or not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            return None
        try:
            claims = orjson.loads(_unb64(body))
        except (ValueError, orjson.JSONDecodeError):
            return None
        member = self._directory.member(str(claims.get("m", "")))
        if member is None or member.team_id != claims.get("t") or int(claims.get("exp", 0)) < self._clock():
            return None
        if not hmac.compare_digest(member.token_sha256[:_FINGERPRINT_HEX], str(claims.get("fp", ""))):
            return None
        return _principal(member, "session")

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest())


def _principal(member: TeamMember, via: Literal["bearer", "session"]) -> Principal:
    return Principal(member_id=member.member_id, team_id=member.team_id, name=member.name, via=via)


def same_origin(headers: Mapping[str, str]) -> bool:
    """For cookie-authenticated posts: an Origin (or Referer) header, when sent, must be this host.

    >>> same_origin({"Host": "127.0.0.1:6066", "Origin": "http://127.0.0.1:6066"})
    True
    >>> same_origin({"Host": "127.0.0.1:6066", "Origin": "https://evil.example"})
    False
    >>> same_origin({"Host": "127.0.0.1:6066"})
    True
    """
    host = headers.get("Host", "")
    origin = headers.get("Origin") or headers.get("Referer")
    # Browsers send Origin on every cross-site POST; SameSite=Strict already keeps the cookie out.
    if not origin or origin == "null":
        return origin != "null"
    return urlsplit(origin).netloc == host
