"""A slow client on a raw socket: how long a server keeps a connection that trickles or stalls."""

from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass

__all__ = ["Held", "body_that_stalls", "headers_one_line_at_a_time", "idle", "raw_request"]


@dataclass(frozen=True)
class Held:
    """How a connection ended: after how many seconds, and what the server sent (b'' when nothing)."""

    seconds: float
    answer: bytes

    @property
    def status(self) -> int | None:
        """The answer's status code, if the server sent one."""
        parts = self.answer.split(b" ", 2)
        return (
            int(parts[1]) if len(parts) > 1 and parts[0].startswith(b"HTTP/") and parts[1].isdigit() else None
        )


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def _until_closed(sock: socket.socket, started: float, give_up_s: float) -> Held:
    """Read until the server closes the connection (or `give_up_s` passes: then it is still open)."""
    answer = b""
    sock.settimeout(0.2)
    while time.monotonic() - started < give_up_s:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            break
        if not chunk:
            break
        answer += chunk
    return Held(time.monotonic() - started, answer)


def headers_one_line_at_a_time(port: int, *, every_s: float, give_up_s: float) -> Held:
    """A request head sent one header line every `every_s` seconds, never finished."""
    sock = _connect(port)
    started = time.monotonic()
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        line = 0
        while time.monotonic() - started < give_up_s:
            time.sleep(every_s)
            line += 1
            try:
                sock.sendall(b"X-Slow-%d: still here\r\n" % line)
            except OSError:  # the server closed it
                return Held(time.monotonic() - started, b"")
            sock.settimeout(0.01)
            try:
                if sock.recv(65536) == b"":
                    return Held(time.monotonic() - started, b"")
            except TimeoutError:
                pass
            except OSError:
                return Held(time.monotonic() - started, b"")
        return Held(time.monotonic() - started, b"")
    finally:
        sock.close()


def body_that_stalls(port: int, head: bytes, *, give_up_s: float) -> Held:
    """A complete request head announcing more body than is ever sent."""
    sock = _connect(port)
    started = time.monotonic()
    try:
        sock.sendall(head + b"{")
        return _until_closed(sock, started, give_up_s)
    finally:
        sock.close()


def idle(port: int, *, give_up_s: float) -> Held:
    """A connection that sends nothing at all."""
    sock = _connect(port)
    started = time.monotonic()
    try:
        return _until_closed(sock, started, give_up_s)
    finally:
        sock.close()


def raw_request(port: int, request: bytes, *, timeout_s: float = 15.0) -> Held:
    """One request sent at once (it should say `Connection: close`); the whole answer."""
    sock = _connect(port)
    started = time.monotonic()
    try:
        with contextlib.suppress(OSError):  # the server may answer and close before reading all (413, 400)
            sock.sendall(request)
        return _until_closed(sock, started, timeout_s)
    finally:
        sock.close()
