"""Load the routing map (CBS postcode + house number table) and the team list from files.

The map is the CBS table ``PC6;Huisnummer;BuurtYYYY;WijkYYYY;GemeenteYYYY`` (';'
separated, UTF-8 with or without BOM, codes prefixed like ``BU03630001`` or bare
like ``3630001``). The teams are a TOML file; see ``data/teams-sample.toml``.

The shipped sample (``data/buurten-sample.csv``, ``data/teams-sample.toml``) is
FICTIONAL: made-up buurten and teams in gemeente GM0363 for the demo and tests.
"""

from __future__ import annotations

import csv
import re
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from connectors.errors import ConnectorError
from signals.routing import AddressRow, RoutingError, RoutingTable, Team

__all__ = [
    "RoutingFileError",
    "default_routing",
    "load_routing",
    "normalise_code",
    "sample_addresses",
]

CodePrefix = Literal["BU", "WK", "GM"]

_SAMPLE_MAP = "buurten-sample.csv"
_SAMPLE_TEAMS = "teams-sample.toml"
_WIDTH: dict[CodePrefix, int] = {"BU": 8, "WK": 6, "GM": 4}
# CBS puts the year of the indeling in the column name (Buurt2025); a bare name is accepted too.
_HEADER: dict[str, re.Pattern[str]] = {
    "postcode": re.compile(r"PC6", re.IGNORECASE),
    "house_number": re.compile(r"Huisnummer", re.IGNORECASE),
    "buurt": re.compile(r"Buurt(?:\d{4})?", re.IGNORECASE),
    "wijk": re.compile(r"Wijk(?:\d{4})?", re.IGNORECASE),
    "gemeente": re.compile(r"Gemeente(?:\d{4})?", re.IGNORECASE),
}
_TOP_KEYS = frozenset({"fallback_team", "map_version", "teams"})
_TEAM_KEYS = frozenset({"id", "name", "buurten", "wijken", "members"})


class RoutingFileError(ConnectorError, RoutingError):
    """A routing map or teams file cannot be read; the message names the file and line."""


def normalise_code(raw: str, prefix: CodePrefix) -> str:
    """CBS code with its prefix; a bare number (as CBS writes it) also gets its leading zeros back.

    >>> normalise_code("3630001", "BU"), normalise_code("wk036300", "WK"), normalise_code("363", "GM")
    ('BU03630001', 'WK036300', 'GM0363')
    """
    value = raw.strip().upper()
    if not value:
        raise RoutingError(f"empty {prefix} code")
    if value.startswith(prefix):
        # A prefixed code is taken as written, so a short typo fails validation instead of being padded.
        return value
    return prefix + value.zfill(_WIDTH[prefix])


def _columns(header: list[str], where: str) -> dict[str, int]:
    """Index of each needed column in the CBS header; exactly one column per role."""
    found: dict[str, int] = {}
    for role, pattern in _HEADER.items():
        matches = [i for i, name in enumerate(header) if pattern.fullmatch(name.strip())]
        if len(matches) != 1:
            names = [header[i] for i in matches] or "none"
            raise RoutingFileError(
                f"{where}, line 1: need exactly one {pattern.pattern} column, found {names}; "
                f"expected a header like PC6;Huisnummer;Buurt2025;Wijk2025;Gemeente2025"
            )
        found[role] = matches[0]
    return found


def _row(fields: list[str], columns: dict[str, int]) -> AddressRow:
    """One CBS row as an AddressRow; raises RoutingError on a bad value."""
    number = fields[columns["house_number"]].strip()
    if not re.fullmatch(r"[0-9]+", number):
        raise RoutingError(f"house number {number!r} is not a number")
    return AddressRow(
        postcode=re.sub(r"\s+", "", fields[columns["postcode"]]).upper(),
        house_number=int(number),
        buurt_code=normalise_code(fields[columns["buurt"]], "BU"),
        wijk_code=normalise_code(fields[columns["wijk"]], "WK"),
        gemeente_code=normalise_code(fields[columns["gemeente"]], "GM"),
    )


def _read_map(path: Path) -> list[AddressRow]:
    """Rows of a CBS map file; the first bad line raises RoutingFileError naming it."""
    try:
        return list(_parse_map(path))
    except UnicodeDecodeError as exc:
        raise RoutingFileError(f"{path}: not UTF-8 ({exc}); save the CBS file as UTF-8") from exc


def _parse_map(path: Path) -> Iterator[AddressRow]:
    """Yield the rows of a CBS map file, checking each line as it is read."""
    seen: dict[tuple[str, int], int] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        header = next(reader, None)
        if header is None:
            raise RoutingFileError(f"{path}: the file is empty")
        columns = _columns(header, str(path))
        for fields in reader:
            line = reader.line_num
            if not any(field.strip() for field in fields):
                continue
            if len(fields) != len(header):
                raise RoutingFileError(
                    f"{path}, line {line}: expected {len(header)} fields, found {len(fields)}"
                )
            try:
                row = _row(fields, columns)
            except RoutingError as exc:
                raise RoutingFileError(f"{path}, line {line}: {exc}") from exc
            first = seen.setdefault((row.postcode, row.house_number), line)
            if first != line:
                raise RoutingFileError(
                    f"{path}, line {line}: address {row.postcode} {row.house_number} already on line {first}"
                )
            yield row
    if not seen:
        raise RoutingFileError(f"{path}: the map has no address rows")


def _codes(entry: dict[str, Any], key: str, prefix: CodePrefix) -> frozenset[str]:
    """A team's list of buurt or wijk codes, normalised; numbers and strings both accepted."""
    raw = entry.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(v, str | int) for v in raw):
        raise RoutingError(f"{key} must be a list of codes")
    return frozenset(normalise_code(str(value), prefix) for value in raw)


def _team(entry: object, where: str) -> Team:
    """One [[teams]] table as a Team; `members` is left for the notification side."""
    try:
        if not isinstance(entry, dict):
            raise RoutingError("must be a table")
        unknown = sorted(set(entry) - _TEAM_KEYS)
        if unknown:
            raise RoutingError(f"unknown keys {unknown}; allowed are {sorted(_TEAM_KEYS)}")
        for key in ("id", "name"):
            if not isinstance(entry.get(key), str):
                raise RoutingError(f"needs a text {key!r}")
        return Team(
            team_id=entry["id"],
            name=entry["name"],
            buurt_codes=_codes(entry, "buurten", "BU"),
            wijk_codes=_codes(entry, "wijken", "WK"),
        )
    except RoutingError as exc:
        raise RoutingFileError(f"{where}: {exc}") from exc


def _read_teams(path: Path) -> tuple[list[Team], str, str | None]:
    """Teams, fallback team id and optional map version from a teams TOML file."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise RoutingFileError(f"{path}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise RoutingFileError(f"{path}: unknown keys {unknown}; allowed are {sorted(_TOP_KEYS)}")
    fallback = data.get("fallback_team")
    if not isinstance(fallback, str):
        raise RoutingFileError(f'{path}: needs fallback_team = "<team id>"')
    version = data.get("map_version")
    if version is not None and not isinstance(version, str):
        raise RoutingFileError(f"{path}: map_version must be text")
    entries = data.get("teams")
    if not isinstance(entries, list) or not entries:
        raise RoutingFileError(f"{path}: needs at least one [[teams]] table")
    teams = [_team(entry, f"{path}, [[teams]] #{i}") for i, entry in enumerate(entries, 1)]
    return teams, fallback, version


def load_routing(map_csv: Path, teams_toml: Path) -> RoutingTable:
    """Routing table from a CBS map file and a teams file; any defect raises RoutingFileError."""
    rows = _read_map(map_csv)
    teams, fallback, version = _read_teams(teams_toml)
    try:
        return RoutingTable(rows=rows, teams=teams, fallback_team_id=fallback, map_version=version)
    except RoutingError as exc:
        raise RoutingFileError(f"{teams_toml}: {exc}") from exc


def default_routing() -> RoutingTable:
    """Routing table of the shipped (fictional) sample files, for the demo and tests.

    >>> default_routing().route("1091GH-2").team_id
    'buurtteam-oost'
    """
    data = resources.files("connectors") / "data"
    with (
        resources.as_file(data / _SAMPLE_MAP) as map_csv,
        resources.as_file(data / _SAMPLE_TEAMS) as teams_toml,
    ):
        return load_routing(map_csv, teams_toml)


def sample_addresses() -> list[tuple[str, int]]:
    """Every (postcode, house number) in the sample map, sorted, for a demo feeder.

    >>> sample_addresses()[:2]
    [('1011AB', 1), ('1011AB', 2)]
    """
    return default_routing().addresses()
