"""One household, one key: every spelling of the documented table gives one key, and normalising is stable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.address import AddressError, normalise_house, split_house
from schemas.contract_v1 import Address
from schemas.household import HouseholdKeyError, household_key, parse_household

DOC = Path(__file__).resolve().parents[2] / "docs" / "contract-v1.md"
PC = "3011AB"

# key -> (what creditors send as (house_letter, house_number_addition), what a team types)
TABLE: dict[str, tuple[list[tuple[str | None, str | None]], list[str]]] = {
    "3011AB-12A": ([("A", None), ("a", None), (None, "A"), (None, "a"), (None, " a "), (None, "-A")],
                   ["12A", "12a", "12 A", "012A", "12-a", "12 - A", "12-A"]),
    "3011AB-12-2": ([(None, "2"), (None, "02"), (None, " 2 "), (None, "0 2")],
                    ["12-2", "12 2", "12/2", "12-02", "012-2"]),
    "3011AB-12A-2": ([("A", "2"), ("a", "02"), (None, "A2"), (None, "A-2"), (None, "a 2")],
                     ["12A-2", "12a 2", "12 A 2", "12 A2", "12a2"]),
    "3011AB-12-II": ([(None, "II"), (None, "ii"), (None, " ii ")], ["12 II", "12-ii"]),
    "3011AB-12-BIS": ([(None, "bis"), (None, "BIS")], ["12bis", "12-bis", "12 BIS"]),
    "3011AB-12A-BIS": ([("A", "bis"), (None, "A BIS")], ["12 A bis", "12A-bis"]),
}  # fmt: skip


def _address(letter: str | None, addition: str | None, number: int = 12) -> Address:
    return Address.model_validate(
        {"postcode": PC, "house_number": number, "house_letter": letter, "house_number_addition": addition}
    )


@pytest.mark.parametrize(
    ("key", "letter", "addition"),
    [(key, letter, addition) for key, (sent, _) in TABLE.items() for letter, addition in sent],
)
def test_every_way_a_creditor_writes_a_home_gives_its_one_key(
    key: str, letter: str | None, addition: str | None
) -> None:
    assert household_key(_address(letter, addition)) == key


@pytest.mark.parametrize(
    ("key", "typed"), [(key, spelling) for key, (_, spellings) in TABLE.items() for spelling in spellings]
)
def test_every_way_a_team_types_a_home_finds_the_same_key(key: str, typed: str) -> None:
    assert parse_household("3011 ab", typed) == key


@pytest.mark.parametrize("typed", [typed for _, typed_list in TABLE.values() for typed in typed_list])
def test_every_spelling_is_in_the_documented_table(typed: str) -> None:
    assert f"`{typed}`" in DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("letter", "addition"),
    [("AB", None), ("1", None), (None, "ABCDE"), (None, "12345"), ("é", None), (None, "ı")],
)
def test_what_bag_cannot_store_is_rejected(letter: str | None, addition: str | None) -> None:
    with pytest.raises(ValidationError):
        _address(letter, addition)


@pytest.mark.parametrize("typed", ["", "A12", "12 ABCDEF", "0", "123456"])
def test_a_typed_house_that_is_no_house_number_is_refused(typed: str) -> None:
    with pytest.raises(HouseholdKeyError):
        parse_household(PC, typed)


_separators = st.sampled_from(["", " ", "-", "/", ".", "_", " - "])
_parts = st.lists(st.from_regex(r"[A-Za-z0-9]{1,2}", fullmatch=True), min_size=0, max_size=3)


@given(
    letter=st.one_of(st.none(), st.sampled_from(list("abcxyzABCXYZ"))),
    parts=_parts,
    sep=_separators,
)
def test_normalising_twice_changes_nothing(letter: str | None, parts: list[str], sep: str) -> None:
    addition = sep.join(parts) or None
    try:
        once = normalise_house(letter, addition)
    except AddressError:
        return
    assert normalise_house(*once) == once
    assert once[0] is None or re.fullmatch(r"[A-Z]", once[0])
    assert once[1] is None or re.fullmatch(r"[A-Z0-9]{1,4}", once[1])


@given(
    number=st.integers(1, 99999),
    zeros=st.integers(0, 2),
    letter=st.one_of(st.just(""), st.sampled_from(list("abAB"))),
    addition=st.one_of(st.just(""), st.from_regex(r"[0-9]{1,3}|[A-Za-z]{2,3}", fullmatch=True)),
    sep=_separators,
)
def test_a_typed_house_and_the_contracts_address_agree(
    number: int, zeros: int, letter: str, addition: str, sep: str
) -> None:
    typed = "0" * zeros + str(number) + letter + (sep + addition if addition else "")
    try:
        parsed_number, parsed_letter, parsed_addition = split_house(typed)
    except AddressError:
        return
    key = parse_household(PC, typed)
    assert key == household_key(_address(parsed_letter, parsed_addition, parsed_number))
    # The key's own house part reads back to the same key.
    assert parse_household(PC, key.split("-", 1)[1].replace("-", " ")) == key
