"""The tables' stores: a RocksDB store gets the memory bounds of the settings, not Faust's defaults."""

from __future__ import annotations

from pathlib import Path

from streams.bootstrap import create_app
from streams.worker.settings import Settings

MIB = 1024 * 1024
TABLES = ("state_by_household", "stream_time_by_partition", "clock_time_by_partition")


def _stores(tmp_path: Path, **settings: object) -> dict[str, object]:
    app = create_app(
        Settings(
            demo=True,
            broker_url="kafka://127.0.0.1:1",  # nothing is started: the stores are only built
            data_dir=tmp_path,
            session_key="k" * 40,
            **settings,  # type: ignore[arg-type]
        )
    )
    return {name: app.tables[name].data for name in TABLES}  # type: ignore[attr-defined]


def test_each_rocksdb_table_is_bounded_by_the_settings(tmp_path: Path) -> None:
    # Faust's own defaults are 3 x 64 MiB of write buffers and a 2 GiB block cache per partition.
    stores = _stores(tmp_path, store="rocksdb://", rocksdb_write_buffer_mib=4, rocksdb_block_cache_mib=12)
    for store in stores.values():
        options = store.rocksdb_options  # type: ignore[attr-defined]
        assert options.write_buffer_size == 4 * MIB
        assert options.max_write_buffer_number == 2
        assert options.block_cache_size == 12 * MIB


def test_the_defaults_bound_a_rocksdb_table_to_a_few_tens_of_mib_per_partition(tmp_path: Path) -> None:
    (store, *_) = _stores(tmp_path, store="rocksdb://").values()
    options = store.rocksdb_options  # type: ignore[attr-defined]
    assert options.write_buffer_size * options.max_write_buffer_number + options.block_cache_size <= 32 * MIB


def test_a_memory_store_takes_no_rocksdb_options(tmp_path: Path) -> None:
    for store in _stores(tmp_path).values():
        assert not hasattr(store, "rocksdb_options")
