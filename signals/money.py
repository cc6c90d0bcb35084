"""The one euro formatter module: cents to text, in the notations the outputs need."""

from __future__ import annotations

__all__ = ["eur_en", "eur_nl", "eur_plain"]


def _split(cents: int) -> tuple[str, int, int]:
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return sign, whole, rest


def eur_nl(cents: int) -> str:
    """Dutch notation, for the Dutch sentences and team pages.

    >>> eur_nl(190000), eur_nl(5), eur_nl(-123456)
    ('EUR 1.900,00', 'EUR 0,05', 'EUR -1.234,56')
    """
    sign, whole, rest = _split(cents)
    return f"EUR {sign}" + f"{whole:,}".replace(",", ".") + f",{rest:02d}"


def eur_en(cents: int) -> str:
    """English notation, for the English sentences and the rules table.

    >>> eur_en(190000), eur_en(677500), eur_en(-5)
    ('EUR 1,900.00', 'EUR 6,775.00', 'EUR -0.05')
    """
    sign, whole, rest = _split(cents)
    return f"EUR {sign}{whole:,}.{rest:02d}"


def eur_plain(cents: int) -> str:
    """A plain decimal euro amount for machine-readable output (JSON, CSV).

    >>> eur_plain(190000), eur_plain(-5)
    ('1900.00', '-0.05')
    """
    sign, whole, rest = _split(cents)
    return f"{sign}{whole}.{rest:02d}"
