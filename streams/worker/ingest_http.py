"""`POST /v1/ingest/{source}`: creditors deliver one event or a JSON array of events over HTTP.

All or nothing per request: when any item is invalid nothing is published and
the answer lists every problem by item index, so the creditor fixes and resends
the whole request. Valid items go to the source's inbound topic as JSON bytes
and the ingest agent does the rest, exactly as for Kafka deliveries. An event_id
sent before with other content answers 409 when this request can know it
(ingest_conflicts.py), else the stream dead-letters it as `conflicting_duplicate`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any

import faust
import orjson
from faust.web import Request, Response, View

from connectors.files import FileRow, parse_row
from connectors.kafka.probe import broker_within
from schemas.contract_v1 import SOURCES
from schemas.deadletter_v1 import FieldError
from signals.masking import mask_errors
from streams.errors import StreamsError
from streams.worker.edge import BadInput, bearer_token, read_body
from streams.worker.ingest_conflicts import PublishedEvents
from streams.worker.metrics import Metrics
from streams.worker.moved import register_moved
from streams.worker.openapi import API_VERSION
from streams.worker.pipeline import Pipeline
from streams.worker.problem import PROBLEM_JSON, problem_body
from streams.worker.settings import CreditorToken

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_EVENTS",
    "BadRequest",
    "authenticate",
    "count_rejected",
    "register",
    "split_body",
]

MAX_EVENTS = 1000
MAX_BODY_BYTES = 16 * 1024 * 1024
_CONFLICT = "nothing was published: an event_id was sent before with other content"
_UNREADABLE = {
    400: "the body could not be read",
    408: "the body did not arrive within the body timeout (web_body_timeout_s)",
    413: f"the body is more than {MAX_BODY_BYTES} bytes",
}


class BadRequest(StreamsError):
    """The request cannot be accepted; `status` and `body` (application/problem+json) are the answer."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def register(app: faust.App, pipeline: Pipeline) -> None:
    """Attach the ingest endpoint to the worker's web server."""
    published = PublishedEvents()

    register_moved(app, "/ingest/{source}", "/v1/ingest/{source}", post=True)  # the old path, one release

    @app.page("/v1/ingest/{source}")
    class Ingest(View):
        async def post(self, request: Request, source: str) -> Response:
            try:
                accepted = await _ingest(pipeline, request, source, published)
            except BadRequest as exc:
                count_rejected(pipeline.metrics, source, exc)
                body = orjson.dumps(exc.body)
                headers = {"API-Version": API_VERSION}
                return self.bytes(body, content_type=PROBLEM_JSON, status=exc.status, headers=headers)
            return self.json({"accepted": accepted}, status=202)


async def _ingest(pipeline: Pipeline, request: Request, source: str, published: PublishedEvents) -> int:
    """Check, validate and publish one request; the number of events published."""
    creditor = authenticate(pipeline.settings.creditor_tokens, request.headers)
    if creditor is None:
        raise _refused(401, "a valid creditor bearer token is required")
    if source not in SOURCES:
        raise _refused(404, f"unknown source {source[:32]!r}; one of {', '.join(SOURCES)}")
    if creditor.source != source:
        raise _refused(403, f"this token may deliver to /v1/ingest/{creditor.source} only")
    try:
        body = await read_body(request, limit=MAX_BODY_BYTES, timeout_s=pipeline.settings.web_body_timeout_s)
    except BadInput as exc:
        raise _refused(exc.status, _UNREADABLE.get(exc.status, exc.message), accepted=0) from None
    rows = validate(split_body(body, max_message_bytes=pipeline.settings.max_message_bytes), source)
    # What can be known now (ingest_conflicts.py); the stream judges the rest.
    if conflicts := published.conflicts(rows):
        pipeline.metrics.conflicts.labels("event_id").inc(len(conflicts))
        raise _refused(409, _CONFLICT, accepted=0, items=conflicts)
    await _publish(pipeline, source, rows)
    published.remember(rows)
    return len(rows)


def count_rejected(metrics: Metrics, source: str, refused: BadRequest) -> None:
    """Rows refused with 400, 409 or 413, per reason class, as the stream counts its dead letters.

    A 400 counts each item named in the answer (the body as a whole counts once), a 409 each
    conflicting item, a 413 the request once (its items were not looked at). Refusals before the
    body is read (401, 403, 404) are no rows of a known source; 408 and 503 are retried as they are.
    """
    if source not in SOURCES or refused.status not in (400, 409, 413):
        return
    counter = metrics.ingest_rejected
    if refused.status == 413:
        counter.labels(source, "http", "too_large").inc()
        return
    for item in refused.body.get("items", []):  # 409 items say conflicting_duplicate
        counter.labels(source, "http", item.get("reason_class", "invalid")).inc()


def authenticate(tokens: Mapping[str, CreditorToken], headers: Mapping[str, str]) -> CreditorToken | None:
    """The credential a bearer token belongs to, or None; compares hashes in constant time."""
    token = bearer_token(headers)  # printable ASCII or nothing (edge.py)
    if not token:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest().encode()
    found = None
    # No early exit: the time taken does not tell which entry, if any, matched.
    for credential in tokens.values():
        if hmac.compare_digest(digest, credential.token_sha256.encode()):
            found = credential
    return found


def split_body(body: bytes, *, max_message_bytes: int) -> list[bytes]:
    """One event or a JSON array of events, as the raw JSON bytes of each item.

    >>> split_body(b'[{"a": 1}, {"b": 2}]', max_message_bytes=1024)
    [b'{"a":1}', b'{"b":2}']
    """
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _invalid([_item_error(None, "not_json", _whole(f"the body is not JSON: {exc}"))]) from None
    if isinstance(document, dict):
        items = [body.strip()]  # a single event is published exactly as it was sent
    elif isinstance(document, list) and document:
        items = [orjson.dumps(item) for item in document]
    else:
        raise _invalid(
            [_item_error(None, "invalid", _whole("the body must be an event or a non-empty array"))]
        )
    if len(items) > MAX_EVENTS:
        raise _too_large(f"{len(items)} events in one request, more than the {MAX_EVENTS} allowed")
    oversized = [i for i, item in enumerate(items) if len(item) > max_message_bytes]
    if oversized:
        raise _too_large(f"event(s) {oversized[:10]} are more than {max_message_bytes} bytes each")
    return items


def validate(items: list[bytes], source: str) -> list[FileRow]:
    """Every item checked against the contract and the path's source; BadRequest lists all problems."""
    rows = [parse_row(item, source) for item in items]
    problems = [
        _item_error(index, row.reason_class or "invalid", row.errors)
        for index, row in enumerate(rows)
        if not row.ok
    ]
    if problems:
        raise _invalid(problems)
    return rows


async def _publish(pipeline: Pipeline, source: str, rows: list[FileRow]) -> None:
    """Send every event and wait for the broker's acknowledgement of each (503 after publish_timeout_s)."""
    topic = pipeline.topic(pipeline.names.inbound(source))
    pending = []
    # A 503 may leave some events published: the creditor resends the same event_ids, which dedup drops.
    async with broker_within(pipeline.settings.publish_timeout_s):
        for row in rows:
            assert row.event is not None  # validate() let only valid rows through
            # Keyed by debt so one debt's events keep their order on one partition.
            pending.append(await topic.send(key=row.event.debt_ref.encode(), value=row.raw))
        # Shielded: Faust's own callbacks read these futures; a timeout must not cancel them under Faust.
        await asyncio.gather(*(asyncio.shield(future) for future in pending))


def _whole(message: str) -> tuple[FieldError, ...]:
    return (FieldError(path="", message=message),)


def _item_error(index: int | None, reason_class: str, errors: Iterable[FieldError]) -> dict[str, Any]:
    """One entry of a 400 answer: which item (None: the body), its reason class and every problem (BSNs masked)."""
    masked = mask_errors(errors)
    return {"index": index, "reason_class": reason_class, "errors": [e.model_dump() for e in masked]}


def _invalid(items: list[dict[str, Any]]) -> BadRequest:
    return _refused(400, "nothing was published; fix and resend", accepted=0, items=items)


def _too_large(message: str) -> BadRequest:
    return _refused(413, message, accepted=0)


def _refused(status: int, detail: str, **extra: Any) -> BadRequest:
    """A refusal as a problem (RFC 9457, English: creditors' integration engineers read it)."""
    return BadRequest(status, problem_body(status, detail, **extra))
