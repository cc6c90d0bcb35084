"""The offsets Faust's consumer committed, read without a broker round trip (faust-streaming 0.15.3).

`faust.transport.consumer.Consumer` keeps the offsets it committed, and those the group had
on assignment, in `_committed_offset` (a defaultdict by TopicPartition) and has no getter.
The lag gauge (streams/worker/lag.py) reads it every few seconds; asking the broker instead
(`committed()`) would cost a request per partition per scrape. If an upgrade renames it, the
lag would silently fall back to positions: `tests/streams/test_faust_fixes.py` checks a real
Faust consumer still has it and that a commit shows in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from faust.types import TP

__all__ = ["FaustInternalsChanged", "committed_offsets"]


class FaustInternalsChanged(RuntimeError):
    """The installed Faust no longer has an internal these fixes rely on (read streams/faust_fixes/README.md)."""


def committed_offsets(consumer: Any) -> Mapping[TP, int | None]:
    """Faust's own record of committed offsets: read with `.get`, never `[...]` (a defaultdict must not grow)."""
    try:
        committed: Mapping[TP, int | None] = consumer._committed_offset  # noqa: SLF001  # no public getter
    except AttributeError as missing:
        raise FaustInternalsChanged("Faust's consumer has no _committed_offset any more") from missing
    return committed
