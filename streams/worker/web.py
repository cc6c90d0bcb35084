"""Web views on the worker's own web server: health, readiness, metrics, household overview."""

from __future__ import annotations

import hmac
from typing import Any

import faust
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from connectors.readmodel import overview
from schemas.household import HouseholdKeyError, normalise_key
from streams.worker import ingest_http
from streams.worker.audit import audit_view
from streams.worker.pipeline import Pipeline


def register(app: faust.App, pipeline: Pipeline) -> None:
    """Attach the views."""
    ingest_http.register(app, pipeline)

    @app.page("/healthz")
    async def healthz(self: View, request: Request) -> Response:
        # Answering at all proves the event loop runs.
        return self.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(self: View, request: Request) -> Response:
        checks = readiness(app, pipeline)
        return self.json(
            {"ready": all(checks.values()), "checks": checks}, status=200 if all(checks.values()) else 503
        )

    @app.page("/metrics")
    async def metrics(self: View, request: Request) -> Response:
        body = generate_latest(pipeline.metrics.registry)
        return self.bytes(body, content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/households/{key}")
    async def household(self: View, request: Request, key: str) -> Response:
        if not _authorised(pipeline, request):
            return self.json({"error": "a valid bearer token is required"}, status=401)
        try:
            key = normalise_key(key)  # one home, one key: '3011ab-12a' finds 3011AB-12A
        except HouseholdKeyError as exc:
            return self.json({"error": str(exc)}, status=400)
        read_model = pipeline.read_model.model
        if read_model is None:
            return self.json({"error": "read model not ready"}, status=503)
        found = await overview(read_model, key)
        # Every read of an overview is audited, a refused one (404) too; no answer before the audit.
        await audit_view(pipeline, "read-token", None, key, status=200 if found is not None else 404)
        if found is None:
            return self.json({"error": f"no household {key}"}, status=404)
        return self.bytes(found.model_dump_json().encode(), content_type="application/json")


def readiness(app: faust.App, pipeline: Pipeline) -> dict[str, bool]:
    """Partitions assigned, table recovery done, read model reachable."""
    consumer: Any = app.consumer
    tables: Any = app.tables  # the TableManager type stubs lack `recovery`
    return {
        "partitions_assigned": bool(consumer.assignment()),
        "recovery_done": not tables.recovery.in_recovery and not app.rebalancing,
        "sink_reachable": pipeline.metrics.sink_reachable,
    }


def _authorised(pipeline: Pipeline, request: Request) -> bool:
    token = pipeline.settings.read_token
    if token is None:
        return False
    given = request.headers.get("Authorization", "")
    expected = f"Bearer {token.get_secret_value()}"
    return hmac.compare_digest(given.encode(), expected.encode())
