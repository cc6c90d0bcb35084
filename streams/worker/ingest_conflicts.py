"""What `POST /v1/ingest/{source}` can tell at once about an event_id sent before with other content.

The exact check is the household stage's (signals.overview `dedup_verdict`): it knows every
id of the household within the dedup horizon and dead-letters another content under a seen
id as `conflicting_duplicate`. It runs after the request has been answered, on the worker
that owns the household. Synchronously an HTTP request can know only two things: an id
repeated with other content within its own body, and an id this worker itself published
over HTTP before (a bounded memory, lost on restart, not shared between workers). Those
answer 409 and nothing of the request is published; anything else is accepted (202) and
judged by the stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.files import FileRow
from schemas.contract_v1 import CreditorEvent
from signals.overview import CONFLICTING_DUPLICATE, content_fingerprint
from streams.worker.dedup import RecentIds

__all__ = ["PublishedEvents"]


def _fingerprint(event: CreditorEvent) -> int:
    return int(content_fingerprint(event), 16) | 1


class PublishedEvents:
    """The ids (source, creditor, event_id) this worker published over HTTP, with their content's fingerprint."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._ids = RecentIds(capacity)

    def conflicts(self, rows: Sequence[FileRow]) -> list[dict[str, Any]]:
        """One 409 item per event whose id came earlier in the body, or was published here, with other content."""
        in_body: dict[str, int] = {}
        items = []
        for index, row in enumerate(rows):
            assert row.event is not None  # only valid rows get here
            key, fingerprint = row.event.dedup_key, _fingerprint(row.event)
            before = in_body.setdefault(key, fingerprint)
            known = self._ids.known(key)
            if before != fingerprint or known not in (None, 0, fingerprint):
                error = {"path": "event_id", "message": CONFLICTING_DUPLICATE}
                items.append({"index": index, "reason_class": "conflicting_duplicate", "errors": [error]})
        return items

    def remember(self, rows: Sequence[FileRow]) -> None:
        """After publishing: these ids now stand for this content."""
        for row in rows:
            assert row.event is not None
            self._ids.seen(row.event.dedup_key, _fingerprint(row.event))
