"""Routing a household key to its CBS codes and neighbourhood team."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from schemas.household import HouseholdKeyError
from signals.routing import AddressRow, RoutingError, RoutingTable, Team

CENTRUM_BUURT = "BU03630000"
CENTRUM_OTHER_BUURT = "BU03630001"
CENTRUM_WIJK = "WK036300"
OOST_BUURT = "BU03630100"


def _row(postcode: str, house_number: int, buurt_code: str) -> AddressRow:
    return AddressRow(
        postcode=postcode,
        house_number=house_number,
        buurt_code=buurt_code,
        wijk_code="WK" + buurt_code[2:8],
        gemeente_code="GM" + buurt_code[2:6],
    )


def _team(team_id: str, *, buurten: tuple[str, ...] = (), wijken: tuple[str, ...] = ()) -> Team:
    return Team(
        team_id=team_id, name=team_id.title(), buurt_codes=frozenset(buurten), wijk_codes=frozenset(wijken)
    )


ROWS = (
    _row("1011AB", 1, CENTRUM_BUURT),
    _row("1011AB", 2, CENTRUM_BUURT),
    _row("1012EF", 1, CENTRUM_OTHER_BUURT),
    _row("1091GH", 1, OOST_BUURT),
)
TEAMS = (
    _team("centrum", wijken=(CENTRUM_WIJK,)),
    _team("grachten", buurten=(CENTRUM_OTHER_BUURT,)),
    _team("centraal"),
)


def _table(
    rows: tuple[AddressRow, ...] = ROWS, teams: tuple[Team, ...] = TEAMS, **kwargs: str
) -> RoutingTable:
    return RoutingTable(rows=rows, teams=teams, fallback_team_id="centraal", **kwargs)


@pytest.mark.parametrize("teams", [TEAMS, tuple(reversed(TEAMS))])
def test_team_covering_the_buurt_beats_team_covering_its_wijk(teams: tuple[Team, ...]) -> None:
    route = _table(teams=teams).route("1012EF-1")
    assert (route.team_id, route.fallback) == ("grachten", False)
    assert (route.buurt_code, route.wijk_code, route.gemeente_code) == (
        CENTRUM_OTHER_BUURT,
        CENTRUM_WIJK,
        "GM0363",
    )


def test_team_covering_a_wijk_gets_its_buurten_no_one_claims() -> None:
    route = _table().route("1011AB-2")
    assert (route.team_id, route.buurt_code, route.fallback) == ("centrum", CENTRUM_BUURT, False)


def test_unknown_address_goes_to_fallback_team_with_fallback_flag() -> None:
    table = _table(map_version="v7")
    route = table.route("9999ZZ-1")
    assert route.model_dump() == {
        "team_id": "centraal",
        "buurt_code": None,
        "wijk_code": None,
        "gemeente_code": None,
        "map_version": "v7",
        "fallback": True,
    }


def test_unknown_house_number_on_known_postcode_goes_to_fallback() -> None:
    assert _table().route("1011AB-3").fallback is True


def test_address_in_buurt_no_team_covers_goes_to_fallback_with_its_codes() -> None:
    route = _table().route("1091GH-1")
    assert (route.team_id, route.fallback, route.buurt_code, route.wijk_code) == (
        "centraal",
        True,
        OOST_BUURT,
        "WK036301",
    )


def test_fallback_team_covering_a_buurt_is_not_a_fallback_route() -> None:
    teams = (*TEAMS[:2], _team("centraal", buurten=(OOST_BUURT,)))
    route = _table(teams=teams).route("1091GH-1")
    assert (route.team_id, route.fallback) == ("centraal", False)


@pytest.mark.parametrize("key", ["1011AB-1A", "1011AB-1-2", "1011AB-1B-BIS"])
def test_house_letter_and_addition_route_like_the_bare_number(key: str) -> None:
    assert _table().route(key) == _table().route("1011AB-1")


def test_malformed_household_key_is_an_error_not_a_fallback() -> None:
    with pytest.raises(HouseholdKeyError):
        _table().route("not-a-key")


def test_same_map_gives_same_version_whatever_the_order() -> None:
    first = _table()
    second = _table(rows=tuple(reversed(ROWS)), teams=tuple(reversed(TEAMS)))
    assert first.map_version == second.map_version
    assert first.map_version.startswith("sha256:")
    assert first.route("1011AB-1").map_version == first.map_version


def test_changed_row_changes_version() -> None:
    moved = (*ROWS[:-1], _row("1091GH", 1, CENTRUM_BUURT))
    assert _table(rows=moved).map_version != _table().map_version


def test_changed_team_changes_version() -> None:
    teams = (_team("centrum", wijken=(CENTRUM_WIJK, "WK036301")), *TEAMS[1:])
    assert _table(teams=teams).map_version != _table().map_version


def test_given_map_version_is_used() -> None:
    assert _table(map_version="cbs-2025-08").map_version == "cbs-2025-08"


def test_buurt_claimed_by_two_teams_is_rejected_naming_both() -> None:
    teams = (*TEAMS, _team("jordaan", buurten=(CENTRUM_OTHER_BUURT,)))
    with pytest.raises(RoutingError, match=r"BU03630001 is claimed by two teams: 'grachten' and 'jordaan'"):
        _table(teams=teams)


def test_wijk_claimed_by_two_teams_is_rejected_naming_both() -> None:
    teams = (*TEAMS, _team("binnenstad", wijken=(CENTRUM_WIJK,)))
    with pytest.raises(RoutingError, match=r"'centrum' and 'binnenstad'"):
        _table(teams=teams)


def test_missing_fallback_team_is_rejected() -> None:
    with pytest.raises(RoutingError, match="fallback team 'centraal'"):
        _table(teams=TEAMS[:2])


def test_team_id_used_twice_is_rejected() -> None:
    with pytest.raises(RoutingError, match="team id 'centrum' is used twice"):
        _table(teams=(*TEAMS, _team("centrum")))


def test_address_mapped_twice_is_rejected() -> None:
    with pytest.raises(RoutingError, match="1011AB 1 is mapped twice"):
        _table(rows=(*ROWS, _row("1011AB", 1, CENTRUM_OTHER_BUURT)))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("postcode", "1011 AB", "postcode"),
        ("postcode", "0011AB", "postcode"),
        ("house_number", 0, "house number"),
        ("buurt_code", "BU0363000", "buurt"),
        ("buurt_code", "03630000", "buurt"),
        ("wijk_code", "WK0363", "wijk"),
        ("gemeente_code", "GM363", "gemeente"),
        ("wijk_code", "WK036301", "does not lie in wijk"),
        ("gemeente_code", "GM0364", "does not lie in gemeente"),
    ],
)
def test_address_row_rejects_malformed_or_inconsistent_codes(field: str, value: Any, message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        dataclasses.replace(ROWS[0], **{field: value})


def test_alphanumeric_wijk_and_buurt_parts_are_accepted() -> None:
    # CBS uses letters when a gemeente has 100+ wijken or a wijk 100+ buurten.
    row = _row("1011AB", 1, "BU0363AD03")
    table = _table(rows=(row,), teams=(_team("centrum", wijken=("WK0363AD",)), _team("centraal")))
    assert table.route("1011AB-1").team_id == "centrum"


@pytest.mark.parametrize(
    ("buurten", "wijken"), [(("BU0363000",), ()), ((), ("WK03630",)), (("WK036300",), ())]
)
def test_team_rejects_malformed_codes(buurten: tuple[str, ...], wijken: tuple[str, ...]) -> None:
    with pytest.raises(RoutingError, match="team 'x'"):
        _team("x", buurten=buurten, wijken=wijken)


def test_table_is_immutable() -> None:
    table = _table()
    with pytest.raises(AttributeError):
        table.map_version = "other"  # type: ignore[misc]  # read-only property; proving the runtime guard
    with pytest.raises(TypeError):
        table.teams["new"] = _team("new")  # type: ignore[index]  # read-only mapping; proving it at runtime


def test_addresses_lists_every_mapped_address_sorted() -> None:
    assert _table().addresses() == [("1011AB", 1), ("1011AB", 2), ("1012EF", 1), ("1091GH", 1)]
