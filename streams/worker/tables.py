"""Faust tables with raw byte values: one JSON encoding (pydantic's) instead of two."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from datetime import datetime
from typing import Any

import faust


def raw_table(app: faust.App, name: str, *, partitions: int, options: Mapping[str, Any] | None = None) -> Any:
    """A changelogged table whose keys and values travel as raw bytes (`options`: for its store)."""
    table: Any = app.Table(
        name, partitions=partitions, key_type=bytes, value_type=bytes, options=dict(options or {})
    )
    # Set before the changelog topic is first built (lazily, at start-up).
    table.key_serializer = "raw"
    table.value_serializer = "raw"
    return table


def rocksdb_options(*, write_buffer_mib: int, block_cache_mib: int) -> dict[str, int]:
    """Memory bounds of each partition's RocksDB database (faust.stores.rocksdb.RocksDBOptions)."""
    mib = 1024 * 1024
    return {
        "write_buffer_size": write_buffer_mib * mib,
        "max_write_buffer_number": 2,  # one being flushed while the other fills
        "block_cache_size": block_cache_mib * mib,
        "block_cache_compressed_size": block_cache_mib * mib,  # used by the python-rocksdb driver only
    }


class TextKeys(MutableMapping[str, bytes]):
    """A raw table seen with text keys: encodes on the way in, decodes on the way out."""

    def __init__(self, table: MutableMapping[bytes, bytes]) -> None:
        self._table = table

    def __getitem__(self, key: str) -> bytes:
        return self._table[key.encode()]

    def __setitem__(self, key: str, value: bytes) -> None:
        self._table[key.encode()] = value

    def __delitem__(self, key: str) -> None:
        del self._table[key.encode()]

    def __iter__(self) -> Iterator[str]:
        return (k.decode() for k in list(self._table.keys()))

    def __len__(self) -> int:
        return len(self._table)

    def items(self) -> Iterator[tuple[str, bytes]]:  # type: ignore[override]
        """Every (key, value) of the partitions this worker holds.

        Not via __getitem__: a RocksDB store looks a key up in the database of
        the current event's partition only, so keys of other partitions would
        seem missing.
        """
        return ((k.decode(), v) for k, v in self._table.items())

    def get(self, key: str, default: Any = None) -> Any:
        return self._table.get(key.encode(), default)


def read_time(table: Mapping[str, bytes], key: str) -> datetime | None:
    """A stream time stored as ISO text, or None before the first message."""
    raw = table.get(key)
    return datetime.fromisoformat(raw.decode()) if raw is not None else None
