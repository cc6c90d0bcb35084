"""The household key: the address that links signals of different creditors.

One home gives one key however it is written: the contract's `Address` and the team lookup
(`parse_household`) both go through `schemas.address.normalise_house` (BAG form).
"""

from __future__ import annotations

import re

from schemas.address import AddressError, split_house
from schemas.contract_v1 import Address, normalise_postcode

_KEY = re.compile(
    r"^(?P<pc>[1-9][0-9]{3}[A-Z]{2})-(?P<nr>[0-9]{1,5})(?P<letter>[A-Z]?)(?:-(?P<add>[A-Z0-9]{1,4}))?$"
)


class HouseholdKeyError(ValueError):
    """A text is not a household key or address."""


def household_key(address: Address) -> str:
    """Postcode, house number, letter and addition as one URL-safe key.

    >>> household_key(Address(postcode="1011ab", house_number=12, house_letter="a"))
    '1011AB-12A'
    >>> household_key(Address(postcode="1011AB", house_number=12, house_number_addition="2"))
    '1011AB-12-2'
    """
    key = f"{address.postcode}-{address.house_number}{address.house_letter or ''}"
    if address.house_number_addition:
        key += f"-{address.house_number_addition}"
    return key


def parse_household(postcode: str, house: str) -> str:
    """Key from what a person types: '1011 AB' and '12', '012', '12A', '12 a', '12-2' or '12 A bis'.

    >>> parse_household("1011 ab", "12a"), parse_household("1011AB", "012 A")
    ('1011AB-12A', '1011AB-12A')
    >>> parse_household("1011AB", "12-bis"), parse_household("1011AB", "12 2")
    ('1011AB-12-BIS', '1011AB-12-2')
    """
    try:
        number, letter, addition = split_house(house)
    except AddressError as exc:
        raise HouseholdKeyError(str(exc)) from exc
    key = f"{normalise_postcode(postcode)}-{number}{letter or ''}"
    if addition:
        key += f"-{addition}"
    if not _KEY.match(key):
        raise HouseholdKeyError(f"{postcode!r} {house!r} is not a Dutch address")
    return key


_TYPED_KEY = re.compile(r"\s*([1-9][0-9]{3})\s*([A-Za-z]{2})\s*-?\s*(.+)", re.DOTALL)


def normalise_key(text: str) -> str:
    """A household key however it is written ('3011ab-12a', '3011 AB 012-A') in its one form.

    >>> normalise_key("3011ab-12a"), normalise_key("3011 AB 012-A"), normalise_key("3011AB-12A-2")
    ('3011AB-12A', '3011AB-12A', '3011AB-12A-2')
    """
    match = _TYPED_KEY.fullmatch(text)
    if not match:
        raise HouseholdKeyError(f"{text!r} is not a household key")
    return parse_household(match[1] + match[2], match[3])


def postcode_and_number(key: str) -> tuple[str, int]:
    """The PC6 postcode and house number of a key, which is what CBS routing tables use."""
    match = _KEY.match(key)
    if not match:
        raise HouseholdKeyError(f"{key!r} is not a household key")
    return match["pc"], int(match["nr"])
