"""Figures derived from one frozen state object, remembered while that same object lives.

A household's fold, its deadlines and its overview read the same figures of the same debt many
times per event (the episodes, the gate, the pending deadlines). The models are frozen and a fold
builds new objects only for what changed, so an unchanged debt is the very same object from
one read to the next: its results are kept per object identity (and the policy's), in one small
table per object that is dropped with the object (a weak reference's callback). Nothing is kept
alive by it, and an id is never looked up after its object is gone.

Only immutable results (tuples, None, frozen values) are remembered: callers share them.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

__all__ = ["per_object", "per_object_and_policy"]

_A = TypeVar("_A")
_B = TypeVar("_B")
_R = TypeVar("_R")

_LIMIT = 1 << 17  # a safety net only: entries leave with their objects


class _Ref(weakref.ref):  # type: ignore[type-arg]
    """A weak reference to the object that also holds its remembered results (no further objects
    per entry: this bookkeeping lives as long as the object, and the collector walks it)."""

    __slots__ = ("key", "policy", "values")
    key: int
    policy: object  # the policy the per-policy results are for (a process runs one)
    values: dict[Any, Any]


def _drop(ref: _Ref) -> None:
    _tables.pop(ref.key, None)


# id(obj) -> a weak reference to obj holding its remembered results by function
_tables: dict[int, _Ref] = {}


def _entry(obj: object) -> _Ref:
    key = id(obj)
    ref = _tables.get(key)
    if ref is not None and ref() is obj:
        return ref
    if len(_tables) >= _LIMIT:
        _tables.clear()  # the dropped references die with their entries: no callback then
    ref = _Ref(obj, _drop)
    ref.key, ref.policy, ref.values = key, None, {}
    _tables[key] = ref
    return ref


def per_object(fn: Callable[[_A], _R]) -> Callable[[_A], _R]:
    """`fn(obj)` remembered per `obj` identity (for a frozen `obj` and an immutable result)."""

    @wraps(fn)
    def remembered(obj: _A) -> _R:
        values = _entry(obj).values
        try:
            return values[fn]  # type: ignore[no-any-return]
        except KeyError:
            value = values[fn] = fn(obj)
            return value

    return remembered


def per_object_and_policy(fn: Callable[[_A, _B], _R]) -> Callable[[_A, _B], _R]:
    """`fn(obj, policy)` remembered per identity of both (frozen arguments, an immutable result).

    One policy per object is remembered (a process runs one); a call with another policy
    forgets the object's results and starts over with that one.
    """

    @wraps(fn)
    def remembered(obj: _A, policy: _B) -> _R:
        entry = _entry(obj)
        if entry.policy is not policy:
            if entry.policy is not None:
                entry.values = {}
            entry.policy = policy
        values = entry.values
        try:
            return values[fn]  # type: ignore[no-any-return]
        except KeyError:
            value = values[fn] = fn(obj, policy)
            return value

    return remembered
