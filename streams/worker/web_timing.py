"""Every request measured, and a broker or database that does not answer turned into 503 + Retry-After.

One aiohttp middleware on the worker's web server (and the operations listener): it times
each request into a histogram labelled by the route's template (`/households/{key}`, never
the household's key), method and status class, and answers `Unavailable` — raised by the
read model's timed reads and by the timed publishes (audit, case events, HTTP ingest) —
with 503 and `Retry-After` instead of a 500 or a hang.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

import faust
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from connectors.errors import Unavailable
from connectors.readmodel import is_transient
from streams.worker.metrics import Metrics
from streams.worker.problem import dutch, problem_body, problem_response

__all__ = ["RETRY_AFTER_S", "install", "route_of", "unavailable_middleware"]

log = logging.getLogger(__name__)

# About two readiness probes: by then /readyz tells whether it is worth trying again.
RETRY_AFTER_S = 5
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def install(app: faust.App, metrics: Metrics) -> None:
    """Put the middleware on the app's web server (the ops listener copies the server's middlewares)."""
    main: web.Application = cast(Any, app.web).web_app
    main.middlewares.append(unavailable_middleware(metrics))


def route_of(request: web.Request) -> str:
    """The route's template, e.g. `/households/{key}`; `(unmatched)` for a path no route serves."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(unmatched)"


def unavailable_middleware(metrics: Metrics) -> Any:
    """The middleware: duration per route and status class; Unavailable (or a lost database) -> 503."""

    @web.middleware
    async def measured(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except Unavailable as exc:
            status = 503
            return _unavailable(metrics, request, exc)
        except SQLAlchemyError as exc:  # a query outside ReadModel.reading (a session write, say)
            if not is_transient(exc):  # a database error that is no outage is a bug: let it surface
                raise
            status = 503
            lost = Unavailable("database", f"unreachable ({type(exc).__name__})")
            return _unavailable(metrics, request, lost)
        finally:
            metrics.http_request_duration.labels(
                route_of(request), request.method, f"{status // 100}xx"
            ).observe(time.perf_counter() - started)

    return measured


_PAGE = (
    '<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Even niet beschikbaar</title>'
    '<link rel="stylesheet" href="/team/style.css"></head><body><main><h1>Even niet beschikbaar</h1>'
    "<p>De gegevens zijn nu niet bereikbaar. Probeer het over een paar seconden opnieuw.</p>"
    "</main></body></html>"
)


def _unavailable(metrics: Metrics, request: web.Request, exc: Unavailable) -> web.Response:
    """503 with Retry-After: a short page for a browser, a problem (RFC 9457) for everything else."""
    metrics.http_unavailable.labels(exc.dependency).inc()
    log.warning("%s %s answered 503: %s", request.method, route_of(request), exc)
    headers = {"Retry-After": str(RETRY_AFTER_S), "Cache-Control": "no-store"}
    if "text/html" in request.headers.get("Accept", ""):
        return web.Response(status=503, text=_PAGE, content_type="text/html", headers=headers)
    if dutch(request.path):
        detail = f"De gegevens zijn nu niet bereikbaar ({exc.dependency}). Probeer het over een paar seconden opnieuw."
    else:
        detail = f"the {exc.dependency} did not answer ({exc.message}); try again later"
    body = problem_body(503, detail, in_dutch=dutch(request.path), unavailable=exc.dependency)
    return problem_response(body, headers)
