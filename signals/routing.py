"""Team routing: postcode + house number -> CBS buurt/wijk/gemeente -> neighbourhood team.

A team may cover whole wijken and/or single buurten; a team that names a buurt
beats a team that covers the wijk around it, so a city can carve one buurt out
of a wijk. Addresses outside the map, or in a buurt no team covers, go to the
fallback team with ``fallback=True`` so the caller can count them.

>>> table = RoutingTable(
...     rows=[AddressRow(postcode="1011AB", house_number=1, buurt_code="BU03630000",
...                      wijk_code="WK036300", gemeente_code="GM0363")],
...     teams=[Team(team_id="centrum", name="Buurtteam Centrum", wijk_codes=frozenset({"WK036300"})),
...            Team(team_id="centraal", name="Team Schuldhulp Centraal")],
...     fallback_team_id="centraal",
...     map_version="demo-1",
... )
>>> table.route("1011AB-1A").team_id
'centrum'
>>> route = table.route("9999ZZ-1")
>>> route.team_id, route.fallback, route.buurt_code
('centraal', True, None)
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, NoReturn

from schemas.household import postcode_and_number
from schemas.outputs_v1 import Route

__all__ = [
    "BUURT_CODE",
    "GEMEENTE_CODE",
    "WIJK_CODE",
    "AddressRow",
    "RoutingError",
    "RoutingTable",
    "Team",
    "map_version_of",
]

# CBS: 4 digits of gemeente, then 2 characters of wijk and 2 of buurt. Those are
# digits in principle, but CBS allows letters where a gemeente has 100+ wijken or
# a wijk 100+ buurten (Amsterdam does), so the wijk and buurt parts are alphanumeric.
GEMEENTE_CODE = re.compile(r"^GM[0-9]{4}$")
WIJK_CODE = re.compile(r"^WK[0-9]{4}[0-9A-Z]{2}$")
BUURT_CODE = re.compile(r"^BU[0-9]{4}[0-9A-Z]{4}$")
_POSTCODE = re.compile(r"^[1-9][0-9]{3}[A-Z]{2}$")


class RoutingError(ValueError):
    """A routing map or team list is inconsistent, so routing cannot be trusted."""


def _check(pattern: re.Pattern[str], value: str, what: str) -> None:
    """Raise a RoutingError when `value` does not match the code pattern of `what`."""
    if not pattern.match(value):
        raise RoutingError(f"{what} {value!r} does not match {pattern.pattern}")


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressRow:
    """One row of the CBS table: which buurt, wijk and gemeente an address lies in.

    >>> AddressRow(postcode="1011AB", house_number=1, buurt_code="BU03630000",
    ...            wijk_code="WK036399", gemeente_code="GM0363")
    Traceback (most recent call last):
    ...
    signals.routing.RoutingError: buurt 'BU03630000' does not lie in wijk 'WK036399'
    """

    postcode: str
    house_number: int
    buurt_code: str
    wijk_code: str
    gemeente_code: str

    def __post_init__(self) -> None:
        _check(_POSTCODE, self.postcode, "postcode")
        if not 0 < self.house_number < 100_000:
            raise RoutingError(f"house number {self.house_number} is not between 1 and 99999")
        _check(BUURT_CODE, self.buurt_code, "buurt")
        _check(WIJK_CODE, self.wijk_code, "wijk")
        _check(GEMEENTE_CODE, self.gemeente_code, "gemeente")
        # CBS codes nest by prefix; a mismatch means swapped or shifted columns.
        if self.buurt_code[2:8] != self.wijk_code[2:]:
            raise RoutingError(f"buurt {self.buurt_code!r} does not lie in wijk {self.wijk_code!r}")
        if self.wijk_code[2:6] != self.gemeente_code[2:]:
            raise RoutingError(f"wijk {self.wijk_code!r} does not lie in gemeente {self.gemeente_code!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Team:
    """A neighbourhood team and the buurten and whole wijken it covers."""

    team_id: str
    name: str
    buurt_codes: frozenset[str] = field(default_factory=frozenset)
    wijk_codes: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.team_id.strip():
            raise RoutingError("a team needs a non-empty team_id")
        if not self.name.strip():
            raise RoutingError(f"team {self.team_id!r} needs a non-empty name")
        for code in self.buurt_codes:
            _check(BUURT_CODE, code, f"team {self.team_id!r}: buurt")
        for code in self.wijk_codes:
            _check(WIJK_CODE, code, f"team {self.team_id!r}: wijk")


def _claims(teams: Iterable[Team], kind: Literal["buurt", "wijk"]) -> dict[str, str]:
    """Map each buurt (or wijk) code to the one team claiming it; two claimants is an error."""
    owner: dict[str, str] = {}
    for team in teams:
        codes = team.buurt_codes if kind == "buurt" else team.wijk_codes
        for code in sorted(codes):
            other = owner.setdefault(code, team.team_id)
            if other != team.team_id:
                raise RoutingError(f"{kind} {code} is claimed by two teams: {other!r} and {team.team_id!r}")
    return owner


def map_version_of(rows: Iterable[AddressRow], teams: Iterable[Team], fallback_team_id: str) -> str:
    """Content hash of the map and teams, independent of row order, so replays name the same map.

    >>> map_version_of([], [Team(team_id="t", name="T")], "t")
    'sha256:276ee7465e9f9483'
    """
    content: dict[str, Any] = {
        "rows": sorted(
            [r.postcode, r.house_number, r.buurt_code, r.wijk_code, r.gemeente_code] for r in rows
        ),
        "teams": sorted([t.team_id, t.name, sorted(t.buurt_codes), sorted(t.wijk_codes)] for t in teams),
        "fallback": fallback_team_id,
    }
    blob = json.dumps(content, separators=(",", ":"), ensure_ascii=True).encode()
    return "sha256:" + hashlib.sha256(blob).hexdigest()[:16]


class RoutingTable:
    """Immutable lookup from household key to `Route`; every lookup is a few dict reads."""

    __slots__ = (
        "_by_address",
        "_fallback_team_id",
        "_map_version",
        "_team_by_buurt",
        "_team_by_wijk",
        "_teams",
    )

    _by_address: Mapping[tuple[str, int], AddressRow]
    _teams: Mapping[str, Team]
    _team_by_buurt: Mapping[str, str]
    _team_by_wijk: Mapping[str, str]
    _fallback_team_id: str
    _map_version: str

    def __init__(
        self,
        *,
        rows: Iterable[AddressRow],
        teams: Iterable[Team],
        fallback_team_id: str,
        map_version: str | None = None,
    ) -> None:
        rows = tuple(rows)
        teams = tuple(teams)
        by_address: dict[tuple[str, int], AddressRow] = {}
        for row in rows:
            address = (row.postcode, row.house_number)
            if by_address.setdefault(address, row) is not row:
                raise RoutingError(f"address {row.postcode} {row.house_number} is mapped twice")
        by_id: dict[str, Team] = {}
        for team in teams:
            if by_id.setdefault(team.team_id, team) is not team:
                raise RoutingError(f"team id {team.team_id!r} is used twice")
        if fallback_team_id not in by_id:
            raise RoutingError(f"fallback team {fallback_team_id!r} is not one of the teams {sorted(by_id)}")
        if map_version is not None and not map_version.strip():
            raise RoutingError("map_version, when given, must not be empty")
        init = object.__setattr__
        init(self, "_by_address", MappingProxyType(by_address))
        init(self, "_teams", MappingProxyType(by_id))
        init(self, "_team_by_buurt", MappingProxyType(_claims(teams, "buurt")))
        init(self, "_team_by_wijk", MappingProxyType(_claims(teams, "wijk")))
        init(self, "_fallback_team_id", fallback_team_id)
        init(self, "_map_version", map_version or map_version_of(rows, teams, fallback_team_id))

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"RoutingTable is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"RoutingTable is immutable; cannot delete {name!r}")

    def __repr__(self) -> str:
        return (
            f"RoutingTable(map_version={self.map_version!r}, addresses={len(self._by_address)}, "
            f"teams={len(self._teams)}, fallback_team_id={self.fallback_team_id!r})"
        )

    @property
    def map_version(self) -> str:
        """Which map and team list routed a household: given by the file, else a content hash."""
        return self._map_version

    @property
    def fallback_team_id(self) -> str:
        """The team for addresses outside the map or in a buurt no team covers."""
        return self._fallback_team_id

    @property
    def teams(self) -> Mapping[str, Team]:
        """The teams by id, read-only."""
        return self._teams

    def addresses(self) -> list[tuple[str, int]]:
        """Every mapped (postcode, house number), sorted."""
        return sorted(self._by_address)

    def route(self, household_key: str) -> Route:
        """Where a household belongs; raises HouseholdKeyError when the key is malformed."""
        row = self._by_address.get(postcode_and_number(household_key))
        if row is None:
            return Route(
                team_id=self.fallback_team_id,
                buurt_code=None,
                wijk_code=None,
                gemeente_code=None,
                map_version=self.map_version,
                fallback=True,
            )
        team_id = self._team_by_buurt.get(row.buurt_code) or self._team_by_wijk.get(row.wijk_code)
        return Route(
            team_id=team_id or self.fallback_team_id,
            buurt_code=row.buurt_code,
            wijk_code=row.wijk_code,
            gemeente_code=row.gemeente_code,
            map_version=self.map_version,
            fallback=team_id is None,
        )
