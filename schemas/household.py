"""The household key: the address that links signals of different creditors."""

from __future__ import annotations

import re

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
    """Key from what a person types: '1011 AB' and '12', '12A', '12-2' or '12 A bis'.

    >>> parse_household("1011 ab", "12a")
    '1011AB-12A'
    >>> parse_household("1011AB", "12-bis")
    '1011AB-12-BIS'
    """
    match = re.fullmatch(r"\s*([0-9]{1,5})\s*([A-Za-z]?)\s*(?:[-\s]\s*([A-Za-z0-9]{1,4}))?\s*", house)
    if not match:
        raise HouseholdKeyError(f"house number {house!r} is not like 12, 12A or 12-2")
    number, letter, addition = match.groups()
    key = f"{normalise_postcode(postcode)}-{int(number)}{letter.upper()}"
    if addition:
        key += f"-{addition.upper()}"
    if not _KEY.match(key):
        raise HouseholdKeyError(f"{postcode!r} {house!r} is not a Dutch address")
    return key


def postcode_and_number(key: str) -> tuple[str, int]:
    """The PC6 postcode and house number of a key, which is what CBS routing tables use."""
    match = _KEY.match(key)
    if not match:
        raise HouseholdKeyError(f"{key!r} is not a household key")
    return match["pc"], int(match["nr"])
