"""Where a household arranges payment with a creditor: a small TOML file the municipality keeps.

>>> directory = default_creditor_directory()
>>> directory.get("housing:27123456").phone
'020 000 12 34'
>>> directory.get("housing:unknown") is None
True
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from connectors.routing_files import RoutingFileError

__all__ = ["CreditorDirectory", "CreditorEntry", "default_creditor_directory", "load_creditor_directory"]

_SOURCES = frozenset({"housing", "energy", "water", "health", "cjib"})
_KEYS = frozenset({"source", "creditor_id", "name", "phone", "url"})


@dataclass(frozen=True, slots=True)
class CreditorEntry:
    """One creditor: a phone number and a web page for a payment arrangement, either may be absent."""

    name: str
    phone: str | None = None
    url: str | None = None


class CreditorDirectory:
    """Creditors by `source:creditor_id`."""

    __slots__ = ("_by_key",)

    def __init__(self, entries: dict[str, CreditorEntry]) -> None:
        self._by_key = MappingProxyType(dict(entries))

    def get(self, key: str) -> CreditorEntry | None:
        """The entry of `source:creditor_id`, or None when the directory does not know it."""
        return self._by_key.get(key)

    def __len__(self) -> int:
        return len(self._by_key)


def _entry(row: Any, where: str) -> tuple[str, CreditorEntry]:
    if not isinstance(row, dict) or not set(row) <= _KEYS:
        raise RoutingFileError(f"{where}: a creditor has only the keys {sorted(_KEYS)}")
    source, creditor_id = row.get("source"), row.get("creditor_id")
    if source not in _SOURCES or not isinstance(creditor_id, str) or not creditor_id:
        raise RoutingFileError(f"{where}: source must be one of {sorted(_SOURCES)} and creditor_id a text")
    url, phone = row.get("url"), row.get("phone")
    if url is not None and not (isinstance(url, str) and url.startswith("https://")):
        raise RoutingFileError(f"{where}: url must start with https://")
    if phone is not None and not (isinstance(phone, str) and any(c.isdigit() for c in phone)):
        raise RoutingFileError(f"{where}: phone must be a phone number")
    return f"{source}:{creditor_id}", CreditorEntry(str(row.get("name") or creditor_id), phone, url)


def load_creditor_directory(path: Path) -> CreditorDirectory:
    """Read a creditors file (`[[creditors]]` tables); a wrong entry is an error naming the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RoutingFileError(f"{path}: {exc}") from exc
    entries: dict[str, CreditorEntry] = {}
    for number, row in enumerate(data.get("creditors", []), start=1):
        key, entry = _entry(row, f"{path} creditor {number}")
        if key in entries:
            raise RoutingFileError(f"{path}: creditor {key} is listed twice")
        entries[key] = entry
    return CreditorDirectory(entries)


def default_creditor_directory() -> CreditorDirectory:
    """The shipped (fictional) sample of the demo's creditors."""
    with resources.as_file(resources.files("connectors") / "data" / "creditors-sample.toml") as path:
        return load_creditor_directory(path)
