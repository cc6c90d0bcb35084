"""Security headers on every response of the worker's web servers, and the optional operations listener.

Every response, errors included, carries a CSP without inline script or style,
`X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin` and a `Server`
header without a version; anything that sets no `Cache-Control` of its own gets
`no-store`, so personal data never sits in a browser or proxy cache.

With `ops_port` set, `/metrics` and the operator's `/households/{key}` move to a
listener of their own (with `/healthz` and `/readyz` for the probes) and answer 404
on the main one, so the network can keep team members and creditors away from them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import faust
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from streams.faust_fixes.slow_clients import GuardedAppRunner, guarded_runner, runner_like

__all__ = ["OPS_PATHS", "SECURITY_HEADERS", "OpsListener", "install", "serve_metrics"]

# 'same-origin', not 'no-referrer': under no-referrer a browser sends `Origin: null` on a
# same-origin form post, and the origin check (streams/team/auth.py) would refuse it.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
SERVER_NAME = "vroegsignaal"  # aiohttp would announce its and Python's version
OPS_ONLY_PATHS = ("/metrics", "/households/{key}")
OPS_PATHS = (*OPS_ONLY_PATHS, "/healthz", "/readyz")

ERROR_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-store", "Server": SERVER_NAME}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _secure_headers(request: web.Request, response: web.StreamResponse) -> None:
    """aiohttp's on_response_prepare: runs for every response, also 404s and 500s made by aiohttp."""
    response.headers.update(SECURITY_HEADERS)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Server"] = SERVER_NAME


def _ops_only(request: web.Request) -> bool:
    return request.path == "/metrics" or request.path.startswith("/households/")


@web.middleware
async def _hide_ops_paths(request: web.Request, handler: Handler) -> web.StreamResponse:
    """On the main listener, when an ops listener serves them: the operations paths do not exist."""
    if _ops_only(request):
        raise web.HTTPNotFound()
    return await handler(request)


def install(app: faust.App, *, ops_bind: str, ops_port: int | None) -> OpsListener | None:
    """Add the headers to the app's web server; the ops listener to start with the app, if configured."""
    main: web.Application = cast(Any, app.web).web_app  # faust's aiohttp driver; set before it is frozen
    main.on_response_prepare.append(_secure_headers)
    runner = guarded_runner(app.web)  # streams/worker/web.py gave it the slow-client deadlines
    if runner is not None:
        runner.error_headers = ERROR_HEADERS  # aiohttp's own 400s for requests it cannot parse
    if ops_port is None:
        return None
    main.middlewares.append(_hide_ops_paths)
    return OpsListener(app, host=ops_bind, port=ops_port)


class OpsListener:
    """A second aiohttp server for the operations paths, serving the very same Faust views."""

    def __init__(self, app: faust.App, *, host: str, port: int) -> None:
        self._app, self._host, self._port = app, host, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen; the views are the ones registered on the app (streams/worker/web.py)."""
        # The main listener's middlewares (the edge's last resort, the request timing) but for the hiding.
        main: web.Application = cast(Any, self._app.web).web_app
        ops = web.Application(middlewares=[m for m in main.middlewares if m is not _hide_ops_paths])
        ops.on_response_prepare.append(_secure_headers)
        views: Any = self._app.web.views
        for path in OPS_PATHS:
            view = views[path]
            for method in view.get_methods():
                ops.router.add_route(method, path, _dispatch(view))
        self._runner = runner_like(self._app.web, ops)  # the main listener's header and keep-alive deadlines
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()

    async def stop(self) -> None:
        """Close the listener and its connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _dispatch(view: Any) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return cast(web.StreamResponse, await view(request))

    return handle


async def serve_metrics(
    registry: CollectorRegistry, *, host: str, port: int, header_timeout_s: float = 10.0
) -> web.AppRunner:
    """The standalone sink's listener: every path answers the metrics, with the same headers as the worker.

    Not prometheus_client's own server, which announces Python's version and sends no nosniff.
    """

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.on_response_prepare.append(_secure_headers)
    app.router.add_get("/{path:.*}", metrics)
    runner = GuardedAppRunner(app, header_timeout_s=header_timeout_s, access_log=None)  # no slow-client hold
    runner.error_headers = ERROR_HEADERS
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
