"""One household, one key: the house letter and addition normalised the way BAG stores them.

BAG (Basisregistratie Adressen en Gebouwen) keeps a house number, a house letter (huisletter: one
letter) and an addition (huisnummertoevoeging: up to four letters or digits). Creditors and people
write the same home in many ways; `normalise_house` brings them to that one form. The table in
docs/contract-v1.md ("Address normalisation") lists the spellings and is tested spelling by spelling.

Rules, in order:
1. upper-case; spaces, `-`, `/`, `.` and `_` only separate parts and are dropped;
2. a house number is an integer (`012` is `12`);
3. with no house letter, an addition whose first part is one letter makes that letter the house
   letter (`12 A`, `12-a` and letter `A` are one home); so does an addition that is one letter and
   digits once its separators are dropped (`12 A2` is letter `A`, addition `2`, like `12A-2`);
4. an addition of digits only loses its leading zeros (`02` is `2`);
5. what is left must be a house letter of one letter A-Z and an addition of 1-4 letters or digits.
"""

from __future__ import annotations

import re

__all__ = ["AddressError", "normalise_house", "split_house"]

_SEPARATORS = re.compile(r"[\s\-/._]+")
_LETTER = re.compile(r"[A-Z]")
_ADDITION = re.compile(r"[A-Z0-9]{1,4}")
_LETTER_AND_DIGITS = re.compile(r"([A-Z])([0-9]{1,4})")
_HOUSE = re.compile(r"\s*([0-9]{1,6})(.*)", re.DOTALL)


class AddressError(ValueError):
    """A house letter or addition that no normalisation can make BAG-like."""


def _parts(text: str | None) -> list[str]:
    if text is None:
        return []
    if not text.isascii():
        raise AddressError(f"{text!r} has characters outside A-Z and 0-9")
    return [part for part in _SEPARATORS.split(text.upper()) if part]


def normalise_house(letter: str | None, addition: str | None) -> tuple[str | None, str | None]:
    """(house letter, addition) in BAG form; raises AddressError when that is impossible.

    >>> normalise_house(None, "a"), normalise_house("a", None), normalise_house(None, "A-2")
    (('A', None), ('A', None), ('A', '2'))
    >>> normalise_house(None, "02"), normalise_house(None, " ii "), normalise_house(None, "a2")
    ((None, '2'), (None, 'II'), ('A', '2'))
    """
    letters, rest = _parts(letter), _parts(addition)
    if len(letters) > 1 or (letters and not _LETTER.fullmatch(letters[0])):
        raise AddressError(f"house letter {letter!r} must be one letter")
    house_letter = letters[0] if letters else None
    if house_letter is None and rest and _LETTER.fullmatch(rest[0]):
        house_letter, rest = rest[0], rest[1:]
    joined = "".join(rest)
    if house_letter is None and (split := _LETTER_AND_DIGITS.fullmatch(joined)):
        house_letter, joined = split[1], split[2]
    if joined.isdigit():
        joined = joined.lstrip("0") or "0"
    if joined and not _ADDITION.fullmatch(joined):
        raise AddressError(f"house number addition {addition!r} must be 1-4 letters or digits")
    return house_letter, joined or None


def split_house(text: str) -> tuple[int, str | None, str | None]:
    """A typed house number with letter and addition: '012a', '12 A 2', '12-bis' -> parts.

    >>> split_house("012a"), split_house("12 A 2"), split_house("12-bis")
    ((12, 'A', None), (12, 'A', '2'), (12, None, 'BIS'))
    """
    match = _HOUSE.fullmatch(text)
    if not match or not 1 <= int(match[1]) <= 99999:
        raise AddressError(f"house number {text!r} is not like 12, 12A or 12-2")
    letter, addition = normalise_house(None, match[2].strip() or None)
    return int(match[1]), letter, addition
