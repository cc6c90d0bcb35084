"""Loading the CBS routing map and the teams file, and the shipped sample."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from connectors.routing_files import (
    RoutingFileError,
    default_routing,
    load_routing,
    normalise_code,
    sample_addresses,
)
from signals.routing import RoutingTable

HEADER = "PC6;Huisnummer;Buurt2025;Wijk2025;Gemeente2025"
TEAMS = """\
fallback_team = "centraal"

[[teams]]
id = "centrum"
name = "Buurtteam Centrum"
wijken = ["WK036300"]

[[teams]]
id = "oost"
name = "Buurtteam Oost"
buurten = ["BU03630100"]
members = [{ name = "A. de Vries", email = "a.devries@example.org" }]

[[teams]]
id = "centraal"
name = "Team Schuldhulp Centraal"
"""

Writer = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path) -> Writer:
    """Write text to a fresh file in this test's own directory and return its path."""

    def _write(name: str, text: str, *, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return _write


def _map(*lines: str, header: str = HEADER) -> str:
    return "\n".join((header, *lines)) + "\n"


def _load(write: Writer, map_text: str, teams_text: str = TEAMS) -> RoutingTable:
    return load_routing(write("map.csv", map_text), write("teams.toml", teams_text))


def test_cbs_header_with_any_year_suffix_loads(write: Writer) -> None:
    header = "PC6;Huisnummer;Buurt2023;Wijk2023;Gemeente2023"
    table = _load(write, _map("1011AB;1;BU03630000;WK036300;GM0363", header=header))
    assert table.route("1011AB-1").team_id == "centrum"


def test_columns_are_found_by_name_not_position(write: Writer) -> None:
    header = "Gemeente2025;Wijk2025;Buurt2025;Huisnummer;PC6"
    table = _load(write, _map("363;36301;3630100;7;1091GH", header=header))
    assert table.route("1091GH-7").team_id == "oost"


def test_bare_numeric_codes_are_normalised_to_prefixed_codes(write: Writer) -> None:
    table = _load(write, _map("1091GH;7;3630100;36301;363"))
    route = table.route("1091GH-7")
    assert (route.buurt_code, route.wijk_code, route.gemeente_code) == ("BU03630100", "WK036301", "GM0363")
    assert (route.team_id, route.fallback) == ("oost", False)


def test_utf8_bom_is_accepted(write: Writer) -> None:
    path = write("map.csv", _map("1011AB;1;3630000;36300;363"), encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert load_routing(path, write("teams.toml", TEAMS)).route("1011AB-1").team_id == "centrum"


def test_map_not_in_utf8_is_rejected_naming_the_file(write: Writer) -> None:
    path = write(
        "map.csv", _map("1011AB;1;3630000;36300;363", "1011AB;2;3630000;36300;363 ß"), encoding="latin-1"
    )
    with pytest.raises(RoutingFileError, match=r"map\.csv: not UTF-8"):
        load_routing(path, write("teams.toml", TEAMS))


def test_spaced_lowercase_postcode_and_blank_lines_are_tolerated(write: Writer) -> None:
    table = _load(write, _map("", "1011 ab;1;3630000;36300;363", ""))
    assert table.addresses() == [("1011AB", 1)]


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("1011AB;1;BU0363000;36300;363", "buurt 'BU0363000' does not match"),
        ("1011AB;x;3630000;36300;363", "house number 'x'"),
        ("1011AB;²;3630000;36300;363", "house number '²'"),
        ("1011AB;1;3630000;36300", "expected 5 fields, found 4"),
        ("1011AB;1;3630100;36300;363", "does not lie in wijk"),
        ("1011AB;1;;36300;363", "empty BU code"),
    ],
)
def test_bad_row_error_names_file_and_line(write: Writer, bad_line: str, reason: str) -> None:
    text = _map("1011AB;2;3630000;36300;363", "", bad_line)
    with pytest.raises(RoutingFileError, match=reason) as caught:
        _load(write, text)
    assert "map.csv, line 4:" in str(caught.value)


def test_address_twice_in_map_names_both_lines(write: Writer) -> None:
    text = _map("1011AB;1;3630000;36300;363", "1011AB;2;3630000;36300;363", "1011AB;1;3630001;36300;363")
    with pytest.raises(RoutingFileError, match=r"map\.csv, line 4: address 1011AB 1 already on line 2"):
        _load(write, text)


@pytest.mark.parametrize(
    "header",
    [
        "PC6;Huisnummer;Wijk2025;Gemeente2025",
        "PC6;Huisnummer;Buurt2024;Buurt2025;Wijk2025;Gemeente2025",
        "Postcode;Huisnummer;Buurt2025;Wijk2025;Gemeente2025",
    ],
)
def test_header_without_exactly_one_column_per_role_is_rejected(write: Writer, header: str) -> None:
    with pytest.raises(RoutingFileError, match=r"map\.csv, line 1: need exactly one"):
        _load(write, header + "\n")


@pytest.mark.parametrize(("text", "reason"), [("", "the file is empty"), (HEADER + "\n", "no address rows")])
def test_empty_map_is_rejected(write: Writer, text: str, reason: str) -> None:
    with pytest.raises(RoutingFileError, match=reason):
        _load(write, text)


def test_buurt_claimed_by_two_teams_in_file_names_file_and_both_teams(write: Writer) -> None:
    teams = TEAMS + '\n[[teams]]\nid = "watergraafsmeer"\nname = "Buurtteam W"\nbuurten = ["3630100"]\n'
    with pytest.raises(
        RoutingFileError, match=r"teams\.toml: buurt BU03630100 is claimed by two teams: 'oost' and "
    ):
        _load(write, _map("1011AB;1;3630000;36300;363"), teams)


@pytest.mark.parametrize(
    ("teams", "reason"),
    [
        (TEAMS.replace('fallback_team = "centraal"', 'fallback_team = "nobody"'), "fallback team 'nobody'"),
        (TEAMS.replace('fallback_team = "centraal"', ""), "needs fallback_team"),
        (TEAMS.replace("wijken =", "wijk ="), r"\[\[teams\]\] #1: unknown keys \['wijk'\]"),
        (TEAMS.replace('name = "Buurtteam Oost"', ""), r"\[\[teams\]\] #2: needs a text 'name'"),
        (TEAMS.replace('["BU03630100"]', '["BU0363010"]'), r"#2: team 'oost': buurt 'BU0363010'"),
        (TEAMS.replace('["BU03630100"]', '"BU03630100"'), "buurten must be a list of codes"),
        (TEAMS + "\nregion = 1\n", r"unknown keys \['region'\]"),
        (TEAMS.replace("[[teams]]", "[teams", 1), "not valid TOML"),
    ],
)
def test_bad_teams_file_is_rejected_naming_it(write: Writer, teams: str, reason: str) -> None:
    with pytest.raises(RoutingFileError, match=reason) as caught:
        _load(write, _map("1011AB;1;3630000;36300;363"), teams)
    assert "teams.toml" in str(caught.value)


def test_map_version_from_teams_file_wins_over_hash(write: Writer) -> None:
    teams = 'map_version = "cbs-2025-08+teams-3"\n' + TEAMS
    table = _load(write, _map("1011AB;1;3630000;36300;363"), teams)
    assert table.route("1011AB-1").map_version == "cbs-2025-08+teams-3"


def test_same_content_prefixed_or_bare_gives_same_version(write: Writer) -> None:
    teams = write("teams.toml", TEAMS)
    bare = load_routing(write("bare.csv", _map("1011AB;1;3630000;36300;363")), teams)
    prefixed = load_routing(write("prefixed.csv", _map("1011AB;1;BU03630000;WK036300;GM0363")), teams)
    assert bare.map_version == prefixed.map_version


def test_members_are_accepted_but_not_part_of_routing(write: Writer) -> None:
    table = _load(write, _map("1011AB;1;3630000;36300;363"))
    assert table.teams["oost"].name == "Buurtteam Oost"
    assert not hasattr(table.teams["oost"], "members")


@pytest.mark.parametrize(
    ("raw", "prefix", "code"),
    [
        ("3630001", "BU", "BU03630001"),
        (" bu03630001 ", "BU", "BU03630001"),
        ("363AD03", "BU", "BU0363AD03"),
        ("36300", "WK", "WK036300"),
        ("363", "GM", "GM0363"),
        ("GM0363", "GM", "GM0363"),
    ],
)
def test_normalise_code_adds_prefix_and_leading_zeros(raw: str, prefix: str, code: str) -> None:
    assert normalise_code(raw, prefix) == code  # type: ignore[arg-type]  # parametrized Literal


def test_shipped_sample_routes_every_address_to_a_neighbourhood_team() -> None:
    table = default_routing()
    addresses = sample_addresses()
    routes = [table.route(f"{postcode}-{number}") for postcode, number in addresses]
    assert len(addresses) == 40
    assert {postcode for postcode, _ in addresses} == {
        "1011AB",
        "1011CD",
        "1012EF",
        "1091GH",
        "1092JK",
        "1102LM",
        "1103NP",
    }
    assert not [route for route in routes if route.fallback]
    assert {route.gemeente_code for route in routes} == {"GM0363"}
    assert len({route.buurt_code for route in routes}) == 4
    assert len({route.wijk_code for route in routes}) == 3
    assert {table.teams[route.team_id].name for route in routes} == {
        "Buurtteam Centrum",
        "Buurtteam Oost",
        "Buurtteam Zuidoost",
    }
    assert table.teams[table.fallback_team_id].name == "Team Schuldhulp Centraal"


def test_shipped_sample_has_a_stable_map_version() -> None:
    assert default_routing().map_version == default_routing().map_version
    assert default_routing().route("9999ZZ-1").fallback is True
