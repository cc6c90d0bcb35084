"""Web views on the worker's own web server: health, readiness, metrics, household overview, /openapi.json."""

from __future__ import annotations

import hmac
from typing import Any, cast

import faust
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from connectors.errors import Unavailable
from connectors.readmodel import overview
from schemas.household import HouseholdKeyError, normalise_key
from streams.faust_fixes.slow_clients import guard_faust_web
from streams.worker import ingest_http, openapi, web_timing
from streams.worker.audit import audit_view
from streams.worker.edge import bearer_token, last_resort
from streams.worker.pipeline import Pipeline
from streams.worker.problem import api_version, view_problem
from streams.worker.readiness import readiness, register_probe


def register(app: faust.App, pipeline: Pipeline) -> None:
    """Attach the views; every request passes the edge's last resort, every connection the slow-client deadlines."""
    # Faust's aiohttp driver; its middlewares are set before it starts.
    web_app: Any = cast(Any, app.web).web_app
    web_app.middlewares.append(api_version)  # outermost: its errors carry the header too
    web_app.middlewares.append(last_resort)
    web_timing.install(app, pipeline.metrics)  # inside the last resort: Unavailable -> 503 first
    dependencies = register_probe(app, pipeline)
    settings = pipeline.settings
    guard_faust_web(
        app.web,
        header_timeout_s=settings.web_header_timeout_s,
        keepalive_timeout_s=settings.web_keepalive_timeout_s,
    )
    ingest_http.register(app, pipeline)

    @app.page("/healthz")
    async def healthz(self: View, request: Request) -> Response:
        # Answering at all proves the event loop runs.
        return self.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(self: View, request: Request) -> Response:
        # From memory: the probe (streams/worker/readiness.py) does the asking, in the background.
        checks, reasons = readiness(app, pipeline, dependencies)
        ready = all(checks.values())
        return self.json({"ready": ready, "checks": checks, "reasons": reasons}, status=200 if ready else 503)

    described = openapi.document()

    @app.page("/openapi.json")
    async def openapi_json(self: View, request: Request) -> Response:
        return self.json(described)

    @app.page("/metrics")
    async def metrics(self: View, request: Request) -> Response:
        body = generate_latest(pipeline.metrics.registry)
        return self.bytes(body, content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/households/{key}")
    async def household(self: View, request: Request, key: str) -> Response:
        if not _authorised(pipeline, request):
            return view_problem(self, 401, "a valid bearer token is required")
        try:
            key = normalise_key(key)  # one home, one key: '3011ab-12a' finds 3011AB-12A
        except HouseholdKeyError as exc:
            return view_problem(self, 400, str(exc))
        read_model = pipeline.read_model.model
        if read_model is None:  # starting, or the database was down at start: 503 with Retry-After
            raise Unavailable("database", "the read model is not open yet")
        found = await overview(read_model, key)
        # Every read of an overview is audited, a refused one (404) too; no answer before the audit.
        await audit_view(pipeline, "read-token", None, key, status=200 if found is not None else 404)
        if found is None:
            return view_problem(self, 404, f"no household {key}")
        return self.bytes(found.model_dump_json().encode(), content_type="application/json")


def _authorised(pipeline: Pipeline, request: Request) -> bool:
    token = pipeline.settings.read_token
    if token is None:
        return False
    given = bearer_token(request.headers)  # printable ASCII or nothing (edge.py)
    return bool(given) and hmac.compare_digest(str(given).encode(), token.get_secret_value().encode())
