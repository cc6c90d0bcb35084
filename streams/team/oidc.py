"""Municipal sign-in: OpenID Connect authorization code flow with PKCE against the municipality's provider.

The worker is a confidential client of the provider named by `oidc_issuer` (discovered from
`<issuer>/.well-known/openid-configuration`, which must name the same issuer). A login:
1. `begin`: a fresh `state`, `nonce` and PKCE `code_verifier` (S256), kept in a short-lived
   signed cookie (`LoginTicket`), and the provider's authorization URL (authlib builds it);
2. the provider authenticates the member (with MFA, under the BIO) and redirects back with a code;
3. `finish`: the callback's `state` must equal the ticket's (and its `iss`, when given, the
   issuer: RFC 9207 against mix-up); the code is exchanged with the verifier and the client
   secret; the ID token's signature (provider JWKS), `iss`, `aud`, `exp`, `iat` and `nonce`
   are checked (joserfc); then the member id and the team(s) and role come from the
   configured claims (ID token, completed by the userinfo endpoint).
Nothing here keeps the provider's tokens: the session is the worker's own (streams/team/auth.py).
"""

from __future__ import annotations

import hmac
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

import aiohttp
import orjson
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from streams.errors import StreamsError
from streams.team.oidc_ticket import LOGIN_TICKET_TTL_S, LoginTicket
from streams.team.roles import ROLES, Role, stronger

__all__ = [
    "CALLBACK_PATH",
    "Membership",
    "OidcClient",
    "OidcConfig",
    "OidcError",
    "SignedIn",
    "load_group_map",
    "memberships",
]

CALLBACK_PATH = "/team/oidc/callback"
_METADATA_TTL_S = 3600.0
_HTTP_TIMEOUT_S = 10.0
# Asymmetric algorithms only: an HMAC ID token would be signed with our own client secret.
_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
    "Ed25519",
)


class OidcError(StreamsError):
    """A sign-in that cannot be completed; `message` is Dutch and fit for the page, `status` its HTTP code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Membership:
    """A team and the member's role in it, from the provider's claims."""

    team_id: str
    role: Role


@dataclass(frozen=True, slots=True, kw_only=True)
class OidcConfig:
    """The client registration at the provider and how its claims map onto members and teams."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    post_logout_redirect_uri: str
    scopes: str = "openid profile"
    member_claim: str = "sub"
    teams_claim: str = "groups"
    roles_claim: str = "roles"
    # group name -> memberships it grants; None: the teams claim holds team ids, the roles claim roles
    group_map: Mapping[str, tuple[Membership, ...]] | None = None
    leeway_s: int = 60


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who the provider says signed in: member id, display name and the known teams with roles."""

    member_id: str
    name: str
    memberships: tuple[Membership, ...]


def load_group_map(path: Path) -> dict[str, tuple[Membership, ...]]:
    """Read `[[groups]]` tables (`group`, `team`, `role`) from a TOML file: which group grants what.

    A group may be listed more than once (one group for several teams).
    """
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    found: dict[str, list[Membership]] = {}
    for i, entry in enumerate(data.get("groups", []), 1):
        if not isinstance(entry, dict) or set(entry) != {"group", "team", "role"}:
            raise ValueError(f"{path}: groups #{i} must have exactly group, team and role")
        if entry["role"] not in ROLES:
            raise ValueError(f"{path}: groups #{i}: role must be one of {list(ROLES)}")
        found.setdefault(str(entry["group"]), []).append(Membership(str(entry["team"]), entry["role"]))
    return {group: tuple(ms) for group, ms in found.items()}


def _values(claim: object) -> list[str]:
    if isinstance(claim, str):
        return claim.split()
    if isinstance(claim, list):
        return [v for v in claim if isinstance(v, str)]
    return []


def memberships(
    claims: Mapping[str, Any], config: OidcConfig, known_teams: set[str]
) -> tuple[Membership, ...]:
    """The known teams the claims grant, each with the strongest role granted for it, sorted by team.

    >>> cfg = OidcConfig(issuer="https://idp", client_id="c", client_secret="s", redirect_uri="r",
    ...                  post_logout_redirect_uri="p")
    >>> memberships({"groups": ["oost", "elders"], "roles": ["coordinator"]}, cfg, {"oost", "centrum"})
    (Membership(team_id='oost', role='coordinator'),)
    >>> memberships({"groups": "centrum oost"}, cfg, {"oost", "centrum"})[0]
    Membership(team_id='centrum', role='medewerker')
    """
    granted: list[Membership] = []
    if config.group_map is None:
        roles = set(_values(claims.get(config.roles_claim)))
        role: Role = "coordinator" if "coordinator" in roles else "medewerker"
        granted = [Membership(team, role) for team in _values(claims.get(config.teams_claim))]
    else:
        for group in _values(claims.get(config.teams_claim)):
            granted += config.group_map.get(group, ())
    best: dict[str, Role] = {}
    for m in granted:
        if m.team_id in known_teams:
            best[m.team_id] = stronger(best.get(m.team_id), m.role)
    return tuple(Membership(team, best[team]) for team in sorted(best))


@dataclass
class _Provider:
    metadata: dict[str, Any]
    keys: KeySet | None = None
    fetched_at: float = 0.0


@dataclass
class OidcClient:
    """The relying party: builds the authorization redirect, completes the callback, names the logout URL."""

    config: OidcConfig
    clock: Callable[[], float] = time.time
    _provider: _Provider | None = field(default=None, init=False, repr=False)

    async def begin(self, team: str = "") -> tuple[str, LoginTicket]:
        """The provider's authorization URL for a new login and the ticket the callback must match."""
        metadata = await self._metadata()
        ticket = LoginTicket(
            state=generate_token(32),
            nonce=generate_token(32),
            verifier=generate_token(64),  # 64 characters: within RFC 7636's 43..128
            team=team,
            expires_at=int(self.clock()) + LOGIN_TICKET_TTL_S,
        )
        url = prepare_grant_uri(
            metadata["authorization_endpoint"],
            client_id=self.config.client_id,
            response_type="code",
            redirect_uri=self.config.redirect_uri,
            scope=self.config.scopes,
            state=ticket.state,
            nonce=ticket.nonce,
            code_challenge=create_s256_code_challenge(ticket.verifier),
            code_challenge_method="S256",
        )
        return url, ticket

    async def finish(self, query: Mapping[str, str], ticket: LoginTicket) -> dict[str, Any]:
        """The verified claims of the callback's sign-in (ID token, completed by userinfo)."""
        if not hmac.compare_digest(query.get("state", "").encode(), ticket.state.encode()):
            raise OidcError(400, "Deze inlogpoging hoort niet bij deze browser. Probeer opnieuw.")
        if "iss" in query and query["iss"] != self.config.issuer:  # RFC 9207: an answer of another provider
            raise OidcError(400, "Dit antwoord komt van een andere inlogdienst. Probeer opnieuw.")
        if "error" in query:
            raise OidcError(401, "De gemeente heeft het inloggen niet toegestaan.")
        code = query.get("code", "")
        if not code:
            raise OidcError(400, "De gemeente stuurde geen inlogcode mee. Probeer opnieuw.")
        tokens = await self._exchange(code, ticket.verifier)
        claims = await self._verified_id_token(str(tokens.get("id_token", "")), ticket.nonce)
        missing = {self.config.member_claim, self.config.teams_claim} - set(claims)
        access_token = tokens.get("access_token")
        if missing and isinstance(access_token, str):
            claims = {**await self._userinfo(access_token, str(claims["sub"])), **claims}
        return claims

    def signed_in(self, claims: Mapping[str, Any], known_teams: set[str]) -> SignedIn:
        """Member id, name and known teams from verified claims; 403 when there is no known team."""
        member_id = claims.get(self.config.member_claim)
        if not isinstance(member_id, str) or not member_id or len(member_id) > 200:
            raise OidcError(403, "De gemeente gaf geen medewerkernummer mee; vraag uw beheerder.")
        found = memberships(claims, self.config, known_teams)
        if not found:
            raise OidcError(403, "Uw account hoort bij geen team van vroegsignaal; vraag uw beheerder.")
        name = claims.get("name")
        return SignedIn(member_id, name if isinstance(name, str) and name else member_id, found)

    async def logout_url(self) -> str | None:
        """RP-initiated logout at the provider, if it advertises an end_session_endpoint."""
        try:
            endpoint = (await self._metadata()).get("end_session_endpoint")
        except OidcError:
            return None
        if not isinstance(endpoint, str) or not endpoint:
            return None
        query = urlencode(
            {
                "client_id": self.config.client_id,
                "post_logout_redirect_uri": self.config.post_logout_redirect_uri,
            }
        )
        return f"{endpoint}{'&' if urlsplit(endpoint).query else '?'}{query}"

    async def _metadata(self) -> dict[str, Any]:
        provider = self._provider
        if provider is None or self.clock() - provider.fetched_at > _METADATA_TTL_S:
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            metadata = await self._get_json(url)
            if metadata.get("issuer") != self.config.issuer:
                raise OidcError(502, "De inlogdienst van de gemeente is verkeerd ingesteld (issuer).")
            for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(metadata.get(name), str):
                    raise OidcError(502, f"De inlogdienst van de gemeente noemt geen {name}.")
            provider = self._provider = _Provider(metadata, fetched_at=self.clock())
        return provider.metadata

    async def _key_set(self, refresh: bool) -> KeySet:
        metadata = await self._metadata()
        assert self._provider is not None  # set by _metadata
        if self._provider.keys is None or refresh:
            self._provider.keys = KeySet.import_key_set(cast(Any, await self._get_json(metadata["jwks_uri"])))
        return self._provider.keys

    async def _exchange(self, code: str, verifier: str) -> dict[str, Any]:
        metadata = await self._metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.config.redirect_uri,
            "code_verifier": verifier,
        }
        auth = aiohttp.BasicAuth(self.config.client_id, self.config.client_secret)
        refused = OidcError(401, "De gemeente heeft de inlogcode niet geaccepteerd. Probeer opnieuw.")
        return await _request_json("POST", metadata["token_endpoint"], refused, data=form, auth=auth)

    async def _verified_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        if not id_token:
            raise OidcError(502, "De gemeente stuurde geen ID-token.")
        try:
            try:
                token = jwt.decode(id_token, await self._key_set(refresh=False), algorithms=_ALGORITHMS)
            except JoseError:  # perhaps a new signing key: fetch the key set once more
                token = jwt.decode(id_token, await self._key_set(refresh=True), algorithms=_ALGORITHMS)
            registry = jwt.JWTClaimsRegistry(
                now=int(self.clock()),
                leeway=self.config.leeway_s,
                iss={"essential": True, "value": self.config.issuer},
                aud={"essential": True, "value": self.config.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            )
            registry.validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise OidcError(401, "Het ID-token van de gemeente is niet geldig. Probeer opnieuw.") from exc
        claims = dict(token.claims)
        audience = claims.get("aud")
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != self.config.client_id:
            raise OidcError(401, "Het ID-token van de gemeente is niet voor deze dienst.")
        return claims

    async def _userinfo(self, access_token: str, subject: str) -> dict[str, Any]:
        endpoint = (await self._metadata()).get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            return {}
        info = await self._get_json(endpoint, headers={"Authorization": f"Bearer {access_token}"})
        if info.get("sub") != subject:  # OIDC Core 5.3.2: else the answer may be someone else's
            raise OidcError(401, "De gegevens van de gemeente horen niet bij deze inlog.")
        return info

    async def _get_json(self, url: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        failed = OidcError(502, "De inlogdienst van de gemeente gaf een fout. Probeer het later.")
        return await _request_json("GET", url, failed, headers=headers)


async def _request_json(method: str, url: str, not_ok: OidcError, **options: Any) -> dict[str, Any]:
    """One call to the provider: its JSON object, `not_ok` for another status than 200, 502 when unreachable."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=_HTTP_TIMEOUT_S)) as http,
            http.request(method, url, **options) as response,
        ):
            body = await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise OidcError(502, "De inlogdienst van de gemeente is niet bereikbaar. Probeer het later.") from exc
    if response.status != 200:
        raise not_ok
    return _json_object(body)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        found = orjson.loads(body)
    except orjson.JSONDecodeError:
        found = None
    if not isinstance(found, dict):
        raise OidcError(502, "De inlogdienst van de gemeente gaf een onleesbaar antwoord.")
    return found
