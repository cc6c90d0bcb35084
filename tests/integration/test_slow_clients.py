"""Slow clients against aiohttp on loopback: the header deadline of streams/faust_fixes/slow_clients.py.

The worker's own listeners (main and ops) are probed in test_edge_fuzz.py; here the runner
itself, the standalone sink's metrics listener, and aiohttp without the fix (the failure).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from connectors.kafka.broker import free_port
from streams.faust_fixes.slow_clients import CHECKED_AIOHTTP_VERSIONS, GuardedAppRunner
from streams.worker.edge import BadInput, read_json_object
from streams.worker.web_security import serve_metrics
from tests.integration.slow_client import (
    body_that_stalls,
    headers_one_line_at_a_time,
    idle,
    raw_request,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

DEADLINE_S = 1.0


def test_the_fix_was_read_against_the_installed_aiohttp() -> None:
    # After an upgrade: re-read slow_clients.py against aiohttp's web_protocol.py, run this file, add the version.
    assert aiohttp.__version__ in CHECKED_AIOHTTP_VERSIONS


async def _json(request: web.Request) -> web.Response:
    try:
        body = await read_json_object(request, timeout_s=DEADLINE_S)
    except BadInput as exc:
        return web.json_response({"error": exc.message}, status=exc.status)
    return web.json_response(body)


async def _ok(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@contextmanager
def _serving(make_runner: Callable[[web.Application], web.AppRunner]) -> Iterator[int]:
    """An aiohttp app (GET /healthz, POST /json) in a thread of its own, on a free loopback port."""
    port = free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop = asyncio.Event()

    async def serve() -> None:
        app = web.Application()
        app.router.add_get("/healthz", _ok)
        app.router.add_post("/json", _json)
        runner = make_runner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        started.set()
        await stop.wait()
        await runner.cleanup()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        yield port
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


def _guarded(app: web.Application) -> web.AppRunner:
    return GuardedAppRunner(app, header_timeout_s=DEADLINE_S, keepalive_timeout_s=DEADLINE_S, access_log=None)


def _plain(app: web.Application) -> web.AppRunner:
    return web.AppRunner(app, access_log=None)


def test_a_head_trickling_in_is_cut_off_at_the_deadline_without_an_answer() -> None:
    with _serving(_guarded) as port:
        held = headers_one_line_at_a_time(port, every_s=0.4, give_up_s=10 * DEADLINE_S)
    assert held.seconds < 3 * DEADLINE_S, held
    assert held.answer == b""


def test_without_the_fix_aiohttp_keeps_a_trickling_head() -> None:
    # The failure the fix guards against (issue 16: a header line every 5 s was kept for 100 s).
    with _serving(_plain) as port:
        held = headers_one_line_at_a_time(port, every_s=0.4, give_up_s=4 * DEADLINE_S)
    assert held.seconds >= 4 * DEADLINE_S


def test_a_connection_that_sends_nothing_is_closed() -> None:
    with _serving(_guarded) as port:
        held = idle(port, give_up_s=10 * DEADLINE_S)
    assert held.seconds < 3 * DEADLINE_S
    assert held.answer == b""


def test_a_body_that_never_completes_is_answered_408_and_closed() -> None:
    head = b"POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    with _serving(_guarded) as port:
        held = body_that_stalls(port, head, give_up_s=10 * DEADLINE_S)
    assert held.status == 408, held
    # Answered at the body deadline; the connection closed after a short drain (lingering_time 2 s).
    assert held.seconds < 3 * DEADLINE_S + 2, held


def test_normal_requests_work_also_several_on_one_connection() -> None:
    with _serving(_guarded) as port:
        held = raw_request(
            port,
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            b'POST /json HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n{"a": 1}'
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
    assert held.answer.count(b"HTTP/1.1 200 OK") == 3, held
    assert b'{"a": 1}' in held.answer


def test_a_kept_alive_connection_gets_a_new_deadline_for_each_request() -> None:
    async def two_requests_apart(port: int) -> list[int]:
        async with aiohttp.ClientSession() as session:
            statuses = []
            for _ in range(2):
                async with session.get(f"http://127.0.0.1:{port}/healthz") as answer:
                    statuses.append(answer.status)
                await asyncio.sleep(DEADLINE_S / 2)
            return statuses

    with _serving(_guarded) as port:
        assert asyncio.run(two_requests_apart(port)) == [200, 200]


@asynccontextmanager
async def _sink_metrics(port: int) -> AsyncIterator[None]:
    runner = await serve_metrics(
        CollectorRegistry(), host="127.0.0.1", port=port, header_timeout_s=DEADLINE_S
    )
    try:
        yield
    finally:
        await runner.cleanup()


def test_the_standalone_sinks_metrics_listener_has_the_deadline_too() -> None:
    port = free_port()

    async def probe() -> tuple[float, int | None]:
        async with _sink_metrics(port):
            slow = await asyncio.to_thread(
                headers_one_line_at_a_time, port, every_s=0.4, give_up_s=10 * DEADLINE_S
            )
            normal = await asyncio.to_thread(
                raw_request, port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            return slow.seconds, normal.status

    seconds, status = asyncio.run(probe())
    assert seconds < 3 * DEADLINE_S
    assert status == 200


def test_an_unreadable_expect_header_is_answered_417_not_500() -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nOrigin: \xe5\r\nExpect: \x80\r\nConnection: close\r\n\r\n"
    with _serving(_guarded) as port:
        assert raw_request(port, request).status == 417
    with _serving(_plain) as port:  # the failure: aiohttp cannot encode its own answer
        assert raw_request(port, request).status == 500
