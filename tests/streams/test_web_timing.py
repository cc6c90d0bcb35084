"""The request-timing and 503 middleware on a real aiohttp server (loopback), with a real read model.

A handler that meets Unavailable — from a timed read of a stalled database, or a publish
the broker does not acknowledge — must answer 503 with Retry-After; the time of every
request lands in a histogram labelled by the route's template, never the raw path.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import generate_latest

from connectors.errors import Unavailable
from connectors.kafka.probe import broker_within
from connectors.readmodel import ReadModel
from connectors.readmodel.queries import overview
from streams.worker.metrics import Metrics
from streams.worker.web_timing import RETRY_AFTER_S, unavailable_middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def read_model(tmp_path: Path) -> AsyncIterator[ReadModel]:
    model = await ReadModel.open(f"sqlite:///{tmp_path / 'read.db'}", read_timeout_s=0.5)
    await model.migrate()
    try:
        yield model
    finally:
        await model.close()


async def serve(metrics: Metrics, routes: dict[str, Handler]) -> TestClient[web.Request, web.Application]:
    app = web.Application(middlewares=[unavailable_middleware(metrics)])
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


def exposition(metrics: Metrics) -> str:
    return generate_latest(metrics.registry).decode()


async def test_a_publish_the_broker_does_not_acknowledge_answers_503_with_retry_after_in_time() -> None:
    metrics = Metrics()

    async def ingest(request: web.Request) -> web.Response:
        async with broker_within(0.2):
            await asyncio.Event().wait()  # an acknowledgement that never comes
        return web.Response(status=202)

    client = await serve(metrics, {"/ingest/{source}": ingest})
    try:
        started = time.monotonic()
        response = await client.get("/ingest/housing")
        took = time.monotonic() - started
        body = await response.json(content_type="application/problem+json")  # RFC 9457
    finally:
        await client.close()
    assert response.status == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER_S)
    assert (body["status"], body["unavailable"]) == (503, "broker")
    assert took < 2.0
    text = exposition(metrics)
    assert 'vroegsignaal_http_unavailable_total{dependency="broker"} 1.0' in text
    assert (
        'vroegsignaal_http_request_duration_seconds_count{method="GET",route="/ingest/{source}",status_class="5xx"} 1.0'
        in text
    )


async def test_a_read_on_a_locked_database_answers_503_and_a_browser_gets_a_page(
    read_model: ReadModel, tmp_path: Path
) -> None:
    """A reader waits for a writer's lock on SQLite (busy timeout); the read timeout ends the wait."""
    metrics = Metrics()

    async def household(request: web.Request) -> web.Response:
        found = await overview(read_model, request.match_info["key"])
        return web.json_response({"found": found is not None})

    # Exclusive locking mode: once it has written, no other connection may even read the file.
    await read_model.engine.dispose()  # the pooled connection of the migration
    locker = sqlite3.connect(tmp_path / "read.db", isolation_level=None, check_same_thread=False)
    locker.execute("PRAGMA locking_mode=EXCLUSIVE")
    locker.execute("BEGIN EXCLUSIVE")
    locker.execute("DELETE FROM households")
    client = await serve(metrics, {"/households/{key}": household})
    try:
        started = time.monotonic()
        response = await client.get("/households/3011AB-12", headers={"Accept": "text/html"})
        took = time.monotonic() - started
        page = await response.text()
    finally:
        locker.rollback()
        locker.close()
        await client.close()
    assert response.status == 503, page
    assert response.headers["Retry-After"] == str(RETRY_AFTER_S)
    assert response.content_type == "text/html"
    assert "Even niet beschikbaar" in page
    assert took < 3.0
    text = exposition(metrics)
    assert 'vroegsignaal_http_unavailable_total{dependency="database"} 1.0' in text
    assert 'route="/households/{key}"' in text
    assert "3011AB-12" not in text  # the route's template, never a household key


async def test_other_errors_are_not_turned_into_503() -> None:
    metrics = Metrics()

    async def broken(request: web.Request) -> web.Response:
        raise ValueError("a bug")

    async def missing(request: web.Request) -> web.Response:
        raise web.HTTPNotFound()

    client = await serve(metrics, {"/broken": broken, "/missing/{key}": missing})
    try:
        assert (await client.get("/broken")).status == 500
        assert (await client.get("/missing/x")).status == 404
        assert (await client.get("/nowhere")).status == 404
    finally:
        await client.close()
    text = exposition(metrics)
    assert 'route="/broken",status_class="5xx"} 1.0' in text
    assert 'route="/missing/{key}",status_class="4xx"} 1.0' in text
    assert 'route="(unmatched)",status_class="4xx"} 1.0' in text
    # No 503 counted: the series exist from the start (issue 18), at 0.
    assert 'vroegsignaal_http_unavailable_total{dependency="broker"} 0.0' in text
    assert 'vroegsignaal_http_unavailable_total{dependency="database"} 0.0' in text


def test_unavailable_names_the_dependency() -> None:
    exc = Unavailable("database", "no answer within 5 s")
    assert (exc.dependency, str(exc)) == ("database", "database: no answer within 5 s")
