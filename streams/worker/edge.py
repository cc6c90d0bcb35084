"""The edge of the web servers: every parser of what a client sends is total.

A form, a JSON body, a bearer token, a cookie or a path segment either gives a value or
a short 4xx (`BadInput`): 400 unreadable, 401 (the caller's: no usable credential), 404 a
path segment that names nothing, 408 a body that does not arrive within the body timeout,
413 too large, 415 a form post of another content type. Never an exception with a
traceback. What still escapes, a real bug, is answered by `last_resort` with a generic 500
and logged once, with its traceback, so it is seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from streams.errors import StreamsError
from streams.worker.problem import dutch, problem

__all__ = [
    "DEFAULT_BODY_TIMEOUT_S",
    "MAX_JSON_BYTES",
    "BadInput",
    "bearer_token",
    "cookie",
    "last_resort",
    "read_body",
    "read_form",
    "read_json_object",
    "usable_text",
]

DEFAULT_BODY_TIMEOUT_S = 30.0
MAX_JSON_BYTES = 64 * 1024  # a team change is a few hundred bytes
MAX_PATH_SEGMENT_CHARS = 200  # the audit log's key columns; no id is longer
_READ_CHUNK_BYTES = 64 * 1024
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_log = logging.getLogger(__name__)


class BadInput(StreamsError):
    """What the client sent cannot be read; `status` and the short `message` are the answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message


def usable_text(value: str) -> bool:
    """Text that can be stored, hashed and shown: no lone surrogates (undecodable bytes) and no NUL.

    >>> usable_text("3011AB-12a"), usable_text("caf\\udcc3"), usable_text("a\\x00b")
    (True, False, False)
    """
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of `Authorization: Bearer <token>`: None without that scheme, '' when it cannot be a token.

    Tokens are printable ASCII; anything else (other bytes, control characters) is no token.

    >>> bearer_token({"Authorization": "Bearer abc "}), bearer_token({}), bearer_token({"Authorization": "Bearer é"})
    ('abc', None, '')
    """
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    return token if token.isascii() and token.isprintable() else ""


def cookie(cookies: Mapping[str, str], name: str) -> str | None:
    """A cookie's value when it is printable ASCII (ours always are); else None, as if it was not sent.

    >>> cookie({"s": "a.b"}, "s"), cookie({"s": "ä"}, "s"), cookie({}, "s")
    ('a.b', None, None)
    """
    value = cookies.get(name)
    return value if value and value.isascii() and value.isprintable() else None


def _declared_length(request: Any) -> int | None:
    declared = request.headers.get("Content-Length")
    return int(declared) if declared is not None and declared.isdigit() else None


async def read_body(request: Any, *, limit: int, timeout_s: float = DEFAULT_BODY_TIMEOUT_S) -> bytes:
    """The whole body within `timeout_s` (408) and `limit` bytes (413); read in chunks, never held oversized."""
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        raise BadInput(413, f"De body is groter dan {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout_s):
            while chunk := await request.content.read(_READ_CHUNK_BYTES):
                size += len(chunk)
                if size > limit:
                    raise BadInput(413, f"De body is groter dan {limit} bytes.")
                chunks.append(chunk)
    except TimeoutError:
        _close_after_answer(request)
        raise BadInput(408, f"De body kwam niet binnen {timeout_s:g} seconden binnen.") from None
    except (web.HTTPException, ValueError, OSError, HttpProcessingError, RequestPayloadError) as exc:
        # Broken chunked encoding, a body that does not decompress (Content-Encoding), a lost client.
        raise BadInput(400, "De body kon niet gelezen worden.") from exc
    return b"".join(chunks)


def _close_after_answer(request: Any) -> None:
    """The rest of the body will not be read: close the connection once the answer is sent."""
    protocol = getattr(request, "protocol", None)
    if protocol is not None:
        protocol.close()


async def read_json_object(
    request: Any, *, limit: int = MAX_JSON_BYTES, timeout_s: float = DEFAULT_BODY_TIMEOUT_S
) -> dict[str, Any]:
    """The JSON object a request carries (400 when the body is not one)."""
    body = await read_body(request, limit=limit, timeout_s=timeout_s)
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadInput(400, "De body moet een JSON-object zijn.") from None
    if not isinstance(parsed, dict):
        raise BadInput(400, "De body moet een JSON-object zijn.")
    return parsed


async def read_form(request: Any, *, timeout_s: float = DEFAULT_BODY_TIMEOUT_S) -> dict[str, str]:
    """The text fields of a form post (urlencoded or multipart); the first value of a repeated field.

    415 for another content type with a body, 400 for a file, undecodable text or a broken
    multipart body, 413 over the server's body limit, 408 too slow.
    """
    content_type = request.headers.get("Content-Type")
    if content_type is not None and request.content_type not in _FORM_TYPES:
        raise BadInput(
            415, "Stuur het formulier als application/x-www-form-urlencoded of multipart/form-data."
        )
    try:
        async with asyncio.timeout(timeout_s):
            raw = await request.post()
    except TimeoutError:
        _close_after_answer(request)
        raise BadInput(408, f"Het formulier kwam niet binnen {timeout_s:g} seconden binnen.") from None
    except web.HTTPRequestEntityTooLarge:
        raise BadInput(413, "Het formulier is te groot.") from None
    except (asyncio.CancelledError, ConnectionError):
        raise
    except Exception as exc:  # aiohttp's form parsers raise many kinds (charset, multipart framing, ...)
        raise BadInput(400, "Het formulier kon niet gelezen worden.") from exc
    form: dict[str, str] = {}
    for name, value in raw.items():
        if name in form:
            continue
        text = _field_text(value)
        if not usable_text(name) or text is None:
            raise BadInput(400, "Een formulierveld moet tekst zijn, geen bestand.")
        form[name] = text
    return form


def _field_text(value: object) -> str | None:
    if isinstance(value, bytes | bytearray):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None
    return value if isinstance(value, str) and usable_text(value) else None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def last_resort(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Path segments that name nothing answer 404; BadInput its 4xx; any other exception a logged 500."""
    for value in request.match_info.values():
        if len(value) > MAX_PATH_SEGMENT_CHARS or not usable_text(value):
            team = dutch(request.path)
            return problem(404, "Niet gevonden." if team else "not found", in_dutch=team)
    try:
        return await handler(request)
    except web.HTTPException:
        raise  # aiohttp's own answers (404, 405, 413, ...)
    except BadInput as exc:
        return problem(exc.status, exc.message, in_dutch=dutch(request.path))
    except (asyncio.CancelledError, ConnectionError):
        raise  # the client went away; aiohttp ends the request quietly
    except Exception:
        route = cast(Any, request.match_info.route.resource)
        where = route.canonical if route is not None else "?"  # the pattern: no personal data from the path
        _log.exception("unexpected error answering %s %s", request.method, where)
        detail = "Er ging iets mis; probeer het later opnieuw." if dutch(request.path) else "internal error"
        return problem(500, detail, in_dutch=dutch(request.path))
