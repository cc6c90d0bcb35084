"""A deadline for a request's headers, which aiohttp does not have; a bounded idle keep-alive;
an `Expect` header aiohttp can answer; a malformed request logged without a traceback.

Targets aiohttp 3.14 (`web_protocol.RequestHandler`: the parser is fed in `data_received`,
`_request_count` grows by one per complete request head, `_request_in_progress` is set while
a handler runs; `web_runner.AppRunner._make_server` builds the `web.Server` that is the
protocol factory). Faust's web driver builds its `AppRunner` with aiohttp's defaults.

Why: aiohttp closes an idle connection only after `keepalive_timeout` (3630 s by default)
and has no timeout at all for a request head that trickles in: a client sending one header
line every 5 s held its connection for 100 s and more (issue 16), and a few hundred such
clients hold every file descriptor. Here a connection must deliver a complete request head
within `header_timeout_s` of its first byte (and of its opening), else it is closed without
an answer; an idle keep-alive connection is closed after `keepalive_timeout_s`. The body's
deadline is the parsers' (streams/worker/edge.py answers 408).

Shown by: tests/integration/test_slow_clients.py (headers one line every 1.5 s against a
2 s deadline are cut off; without this runner aiohttp keeps them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler, RequestPayloadError
from multidict import CIMultiDict, CIMultiDictProxy

__all__ = ["CHECKED_AIOHTTP_VERSIONS", "GuardedAppRunner", "guard_faust_web", "guarded_runner", "runner_like"]

# The aiohttp releases this was read against; tests/integration/test_slow_clients.py fails on another.
CHECKED_AIOHTTP_VERSIONS = frozenset({"3.14.5"})


class _HeaderDeadlineHandler(RequestHandler):
    """aiohttp's protocol, closing a connection whose request head is not complete in time."""

    def __init__(
        self, manager: web.Server, *, header_timeout_s: float, error_headers: Mapping[str, str], **kwargs: Any
    ) -> None:
        super().__init__(manager, **kwargs)
        self._header_timeout_s = header_timeout_s
        self._error_headers = error_headers
        self._header_timer: asyncio.TimerHandle | None = None
        self._heads_at_arming = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm()  # a connection that sends nothing at all gets the same deadline

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        heads = self._request_count
        super().data_received(data)
        if self._request_count != heads:
            self._disarm()  # a complete request head: its handler and the body deadline take over
        elif data and self._header_timer is None and not self._request_in_progress:
            self._arm()  # the first bytes of the next request head on a kept-alive connection

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        """A request aiohttp's parser refused (answered 400) is the client's error: one debug line, no traceback.

        aiohttp logs it as an ERROR with a traceback, so any client could fill the log with them.
        """
        exc = kwargs.get("exc_info")
        # RequestPayloadError: a body that breaks off or does not decompress, met again while draining it.
        if isinstance(exc, RequestPayloadError) or (isinstance(exc, HttpProcessingError) and exc.code < 500):
            first_line = (str(exc).splitlines() or [""])[0][:80]  # not the request's bytes that follow
            self.logger.debug("refused a malformed request: %s", first_line)
            return
        super().log_exception(*args, **kwargs)

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """aiohttp's answer to a request it could not parse, with the app's headers (no middleware runs).

        Its message quotes the refused line (`Invalid header value char:` and then the bytes of
        the line, an `Authorization` header with its token too): only what went wrong is sent.
        """
        if status < 500:
            message = _without_request_bytes(status, message)
        response = super().handle_error(request, status, exc, message)
        response.headers.update(self._error_headers)
        return response

    def _arm(self) -> None:
        self._disarm()
        self._heads_at_arming = self._request_count
        self._header_timer = self._loop.call_later(self._header_timeout_s, self._expire)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expire(self) -> None:
        self._header_timer = None
        if self._request_count != self._heads_at_arming or self._request_in_progress or self._messages:
            return
        self.force_close()  # no answer: the client never finished asking


def _without_request_bytes(status: int, message: str | None) -> str:
    """The parser's description of the error without the request's bytes it quotes after it.

    >>> _without_request_bytes(400, "Invalid header value char:\\n\\n  b'Authorization: Bearer t0k\\\\x01'\\n  ^")
    'Invalid header value char'
    >>> _without_request_bytes(417, "Unknown Expect: b'x'"), _without_request_bytes(400, None)
    ('Expectation Failed', 'Bad Request')
    """
    described, quoted, _ = (message or "").partition(":\n")
    if quoted and described.isascii() and described.isprintable() and len(described) <= 80:
        return described  # llhttp's fixed text, e.g. 'Invalid header token'
    return HTTPStatus(status).phrase


def _readable_expect(factory: Any) -> Any:
    """aiohttp's request factory, with an `Expect` header that is not printable ASCII made readable.

    aiohttp answers an unknown expectation with 417 'Unknown Expect: <value>' before any
    middleware runs; a value with undecodable bytes cannot be encoded into that text, and
    the client got a 500 with a traceback in the log (found by tests/integration/test_edge_fuzz.py).
    """

    def make(message: Any, payload: Any, protocol: Any, writer: Any, task: Any) -> web.BaseRequest:
        expect = message.headers.get("Expect")
        if expect is not None and not (expect.isascii() and expect.isprintable()):
            # Still answered 417 by aiohttp. Only this header changes: others may hold any bytes too.
            headers = CIMultiDict(
                (k, "unreadable" if k.lower() == "expect" else v) for k, v in message.headers.items()
            )
            raw = tuple((k, b"unreadable" if k.lower() == b"expect" else v) for k, v in message.raw_headers)
            message = message._replace(headers=CIMultiDictProxy(headers), raw_headers=raw)
        return factory(message, payload, protocol, writer, task)

    return make


class _GuardedServer(web.Server):
    """aiohttp's protocol factory, making the handler above; requests with a readable `Expect`."""

    def __init__(
        self,
        *args: Any,
        header_timeout_s: float,
        error_headers: Mapping[str, str],
        request_factory: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, request_factory=_readable_expect(request_factory), **kwargs)
        self._header_timeout_s = header_timeout_s
        self._error_headers = error_headers

    def __call__(self) -> RequestHandler:
        return _HeaderDeadlineHandler(
            self,
            loop=self._loop,
            header_timeout_s=self._header_timeout_s,
            error_headers=self._error_headers,
            **self._kwargs,
        )


class GuardedAppRunner(web.AppRunner):
    """An `AppRunner` whose connections have a header deadline and a bounded keep-alive."""

    def __init__(
        self,
        app: web.Application,
        *,
        header_timeout_s: float,
        keepalive_timeout_s: float = 75.0,
        **kwargs: Any,
    ) -> None:
        # lingering_time: how long the unread rest of a body (after a 401, 408, 413) is drained before closing.
        super().__init__(app, keepalive_timeout=keepalive_timeout_s, lingering_time=2.0, **kwargs)
        self.header_timeout_s = header_timeout_s
        self.keepalive_timeout_s = keepalive_timeout_s
        # Headers for the answers aiohttp makes itself to requests it cannot parse (400, 417, 431):
        # no middleware or on_response_prepare runs for those.
        self.error_headers: Mapping[str, str] = {}

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()  # starts and freezes the app as aiohttp does
        return _GuardedServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=plain._loop,  # noqa: SLF001  # the loop aiohttp chose; no public accessor
            header_timeout_s=self.header_timeout_s,
            error_headers=dict(self.error_headers),
            **plain._kwargs,  # noqa: SLF001  # the handler options (access log, keep-alive, ...)
        )


def guard_faust_web(web_driver: Any, *, header_timeout_s: float, keepalive_timeout_s: float = 75.0) -> None:
    """Give Faust's aiohttp web driver (before it starts) the guarded runner."""
    web_driver._runner = GuardedAppRunner(  # noqa: SLF001  # Faust builds it in __init__, starts it later
        web_driver.web_app,
        header_timeout_s=header_timeout_s,
        keepalive_timeout_s=keepalive_timeout_s,
        access_log=None,
    )


def guarded_runner(web_driver: Any) -> GuardedAppRunner | None:
    """The guarded runner `guard_faust_web` gave Faust's web driver; None when it has another."""
    main = getattr(web_driver, "_runner", None)  # Faust's driver keeps its runner there, no getter
    return main if isinstance(main, GuardedAppRunner) else None


def runner_like(web_driver: Any, app: web.Application) -> web.AppRunner:
    """A runner for another listener of the same worker (the ops listener), with the same deadlines."""
    main = guarded_runner(web_driver)
    if main is not None:
        runner = GuardedAppRunner(
            app,
            header_timeout_s=main.header_timeout_s,
            keepalive_timeout_s=main.keepalive_timeout_s,
            access_log=None,
        )
        runner.error_headers = main.error_headers
        return runner
    return web.AppRunner(app, access_log=None)
