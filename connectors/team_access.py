"""Team members and their API tokens, read from the same teams TOML file as the routing.

Each ``[[teams]]`` table may list ``members``; a member who may use the team
pages and API has an ``id`` and ``token_sha256``, the hex SHA-256 of its random
bearer token, so the file never holds a usable token. A member without a token
(e.g. only a name and e-mail for notifications) cannot log in.

>>> directory = TeamDirectory.from_members(
...     [TeamMember(member_id="m1", team_id="centrum", name="M. One", token_sha256=sha256_hex("s3cret"))],
...     team_names={"centrum": "Buurtteam Centrum"},
... )
>>> directory.authenticate("s3cret").member_id, directory.authenticate("wrong")
('m1', None)
"""

from __future__ import annotations

import hashlib
import hmac
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from connectors.routing_files import RoutingFileError

__all__ = [
    "TeamDirectory",
    "TeamMember",
    "default_team_directory",
    "load_team_directory",
    "sha256_hex",
]

_MEMBER_KEYS = frozenset({"id", "name", "email", "token_sha256", "role"})
# What a member may do in the team (streams/team/roles.py); a member without `role` is a medewerker.
MemberRole = Literal["medewerker", "coordinator"]
_ROLES: tuple[MemberRole, ...] = ("medewerker", "coordinator")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_MEMBER_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def sha256_hex(token: str) -> str:
    """The hex SHA-256 of a token, as the teams file stores it.

    >>> sha256_hex("demo-centrum")[:16]
    '985b269b4f8ab9b5'
    """
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class TeamMember:
    """A member who can log in: id (what the audit log records), team, name, token hash, role."""

    member_id: str
    team_id: str
    name: str
    token_sha256: str
    role: MemberRole = "medewerker"


class TeamDirectory:
    """Who may use which team's pages: token -> member, in constant time over all members."""

    __slots__ = ("_by_id", "_members", "_team_names")

    def __init__(self, members: tuple[TeamMember, ...], team_names: Mapping[str, str]) -> None:
        self._members = members
        self._by_id = MappingProxyType({m.member_id: m for m in members})
        self._team_names = MappingProxyType(dict(team_names))

    @classmethod
    def from_members(cls, members: Iterable[TeamMember], *, team_names: Mapping[str, str]) -> TeamDirectory:
        """A directory of these members; ids and token hashes must be unique."""
        found = tuple(members)
        _unique([m.member_id for m in found], "member id")
        _unique([m.token_sha256 for m in found], "token_sha256")
        for member in found:
            if member.team_id not in team_names:
                raise RoutingFileError(f"member {member.member_id!r}: unknown team {member.team_id!r}")
        return cls(found, team_names)

    @property
    def team_names(self) -> Mapping[str, str]:
        """Team id -> display name, read-only."""
        return self._team_names

    def member(self, member_id: str) -> TeamMember | None:
        """The member with this id, if any."""
        return self._by_id.get(member_id)

    def members_of(self, team_id: str) -> tuple[TeamMember, ...]:
        """The team's members, in the teams file's order (who a case of the team can be assigned to)."""
        return tuple(m for m in self._members if m.team_id == team_id)

    def authenticate(self, token: str) -> TeamMember | None:
        """The member whose token this is, or None; no early exit, so timing tells nothing."""
        if not token:
            return None
        digest = sha256_hex(token).encode()
        found = None
        for member in self._members:
            if hmac.compare_digest(digest, member.token_sha256.encode()):
                found = member
        return found


def _unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise RoutingFileError(f"{what} {value!r} is used twice in the teams file")
        seen.add(value)


def _member(team_id: str, entry: object, where: str) -> TeamMember | None:
    """One member table; None for a member without a token (not a user of the team pages)."""
    if not isinstance(entry, dict):
        raise RoutingFileError(f"{where}: must be a table like {{ id = ..., token_sha256 = ... }}")
    unknown = sorted(set(entry) - _MEMBER_KEYS)
    if unknown:
        raise RoutingFileError(f"{where}: unknown keys {unknown}; allowed are {sorted(_MEMBER_KEYS)}")
    token_hash = entry.get("token_sha256")
    if token_hash is None:
        return None
    if not isinstance(token_hash, str) or not _HEX64.match(token_hash):
        raise RoutingFileError(
            f"{where}: token_sha256 must be 64 lowercase hex digits (SHA-256 of the token)"
        )
    member_id = entry.get("id")
    if not isinstance(member_id, str) or not _MEMBER_ID.match(member_id):
        raise RoutingFileError(
            f"{where}: a member with a token needs an id of letters, digits, '.', '_', '-'"
        )
    name = entry.get("name", member_id)
    if not isinstance(name, str):
        raise RoutingFileError(f"{where}: name must be text")
    role = entry.get("role", "medewerker")
    if role not in _ROLES:
        raise RoutingFileError(f"{where}: role must be one of {list(_ROLES)}")
    return TeamMember(member_id=member_id, team_id=team_id, name=name, token_sha256=token_hash, role=role)


def _members_of(team: dict[str, Any], where: str) -> list[TeamMember]:
    raw = team.get("members", [])
    if not isinstance(raw, list):
        raise RoutingFileError(f"{where}: members must be a list of tables")
    found = [_member(team["id"], entry, f"{where}, member #{i}") for i, entry in enumerate(raw, 1)]
    return [m for m in found if m is not None]


def load_team_directory(teams_toml: Path) -> TeamDirectory:
    """Members of every team in a teams file (its routing part is checked by `load_routing`)."""
    try:
        with teams_toml.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise RoutingFileError(f"{teams_toml}: not valid TOML: {exc}") from exc
    teams = data.get("teams")
    if not isinstance(teams, list):
        raise RoutingFileError(f"{teams_toml}: needs at least one [[teams]] table")
    names: dict[str, str] = {}
    members: list[TeamMember] = []
    for i, team in enumerate(teams, 1):
        where = f"{teams_toml}, [[teams]] #{i}"
        if not isinstance(team, dict) or not isinstance(team.get("id"), str):
            raise RoutingFileError(f"{where}: needs a text 'id'")
        names[team["id"]] = str(team.get("name", team["id"]))
        members += _members_of(team, where)
    return TeamDirectory.from_members(members, team_names=names)


def default_team_directory() -> TeamDirectory:
    """Members of the shipped (fictional) sample teams: one demo member per team.

    >>> default_team_directory().authenticate("demo-centrum").team_id
    'buurtteam-centrum'
    """
    with resources.as_file(resources.files("connectors") / "data" / "teams-sample.toml") as path:
        return load_team_directory(path)
