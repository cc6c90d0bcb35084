"""Turn pydantic validation failures into the dead-letter's field errors.

One place decides how a rejection reads for a creditor, so the file drop, the
HTTP endpoint and the ingest agent all report the same paths and messages.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import get_args

from pydantic import ValidationError

from schemas.contract_v1 import EventType
from schemas.deadletter_v1 import FieldError

__all__ = ["EVENT_TYPES", "errors_from_validation", "field_path"]

EVENT_TYPES: tuple[str, ...] = get_args(EventType)
_VALUE_ERROR_PREFIXES = ("Value error, ", "Assertion failed, ")


def field_path(loc: tuple[int | str, ...], *, tags: Collection[str] = EVENT_TYPES) -> str:
    """Dotted path of a pydantic error location, without the union's tag.

    A discriminated union puts the chosen member's tag first; a creditor thinks
    in fields, so ``('debt.opened', 'debtor', 'bsn')`` reads ``debtor.bsn``.

    >>> field_path(("debt.opened", "debtor", "bsn"))
    'debtor.bsn'
    >>> field_path(())
    ''
    """
    parts = list(loc)
    if parts and isinstance(parts[0], str) and parts[0] in tags:
        parts = parts[1:]
    return ".".join(str(part) for part in parts)


def errors_from_validation(
    exc: ValidationError, *, tags: Collection[str] = EVENT_TYPES
) -> tuple[FieldError, ...]:
    """Every problem of a rejected message as (path, message), without echoing the input.

    >>> from schemas.contract_v1 import Debtor
    >>> try:
    ...     Debtor(name="A", bsn="123456789")
    ... except ValidationError as exc:
    ...     errors_from_validation(exc)
    (FieldError(path='bsn', message='bsn must be 9 digits and pass the elfproef'),)
    """
    errors: list[FieldError] = []
    # include_input=False: the input may be a BSN, which must not travel into logs.
    for detail in exc.errors(include_url=False, include_input=False, include_context=False):
        message = detail["msg"]
        for prefix in _VALUE_ERROR_PREFIXES:
            message = message.removeprefix(prefix)
        error = FieldError(path=field_path(detail["loc"], tags=tags), message=message)
        if error not in errors:
            errors.append(error)
    if not errors:
        errors.append(FieldError(path="", message=f"{exc.title} is not valid"))
    return tuple(errors)
