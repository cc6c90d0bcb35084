"""Figures derived from one frozen state object, remembered while that same object lives.

A household's fold, its deadlines and its overview read the same figures of the same debt many
times per event (the episodes, the gate, the pending deadlines). The models are frozen and a fold
builds new objects only for what changed, so an unchanged debt is the very same object from
one read to the next: a result is kept per object identity (and the policy's), and forgotten
when the object is (a weak reference's callback), so nothing is kept alive by this table and
an id is never looked up after its object is gone.

Only immutable results (tuples, None, frozen values) are remembered: callers share them.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

__all__ = ["per_object", "per_object_and_policy"]

_A = TypeVar("_A")
_B = TypeVar("_B")
_R = TypeVar("_R")

_LIMIT = 1 << 16  # a safety net only: entries leave with their objects


def per_object(fn: Callable[[_A], _R]) -> Callable[[_A], _R]:
    """`fn(obj)` remembered per `obj` identity (for a frozen `obj` and an immutable result)."""
    table: dict[int, tuple[weakref.ref[_A], _R]] = {}

    @wraps(fn)
    def remembered(obj: _A) -> _R:
        key = id(obj)
        hit = table.get(key)
        if hit is not None and hit[0]() is obj:
            return hit[1]
        value = fn(obj)
        if len(table) >= _LIMIT:
            table.clear()
        table[key] = (weakref.ref(obj, lambda _, key=key: table.pop(key, None)), value)  # type: ignore[misc]
        return value

    return remembered


def per_object_and_policy(fn: Callable[[_A, _B], _R]) -> Callable[[_A, _B], _R]:
    """`fn(obj, policy)` remembered per identity of both (frozen arguments, an immutable result)."""
    table: dict[tuple[int, int], tuple[weakref.ref[_A], _B, _R]] = {}

    @wraps(fn)
    def remembered(obj: _A, policy: _B) -> _R:
        key = (id(obj), id(policy))
        hit = table.get(key)
        if hit is not None and hit[0]() is obj and hit[1] is policy:
            return hit[2]
        value = fn(obj, policy)
        if len(table) >= _LIMIT:
            table.clear()
        table[key] = (weakref.ref(obj, lambda _, key=key: table.pop(key, None)), policy, value)  # type: ignore[misc]
        return value

    return remembered
