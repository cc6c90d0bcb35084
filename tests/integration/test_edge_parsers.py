"""The edge's body parsers (streams/worker/edge.py) on a real aiohttp server on loopback: a value or a short 4xx."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from streams.worker.edge import last_resort, read_form, read_json_object

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def _form(request: web.Request) -> web.Response:
    return web.json_response(await read_form(request, timeout_s=1))


async def _json(request: web.Request) -> web.Response:
    return web.json_response(await read_json_object(request, limit=1024, timeout_s=1))


async def _bug(request: web.Request) -> web.Response:
    raise KeyError("a real bug")


async def _id(request: web.Request) -> web.Response:
    return web.json_response({"id": request.match_info["id"]})


Probe = Callable[[TestClient[Any, Any]], Awaitable[tuple[int, Any]]]


def _ask(probe: Probe) -> tuple[int, Any]:
    """Run one probe against an app with the edge's parsers behind its last resort (BadInput -> its 4xx)."""

    async def run() -> tuple[int, Any]:
        app = web.Application(middlewares=[last_resort])
        app.router.add_post("/form", _form)
        app.router.add_post("/json", _json)
        app.router.add_get("/bug", _bug)
        app.router.add_get("/id/{id}", _id)
        async with TestClient(TestServer(app)) as client:
            return await probe(client)

    return asyncio.run(run())


async def _answer(response: aiohttp.ClientResponse) -> tuple[int, Any]:
    raw = await response.read()
    try:
        return response.status, orjson.loads(raw)
    except orjson.JSONDecodeError:
        return response.status, raw


def _post(path: str, body: bytes | aiohttp.FormData, content_type: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": content_type} if content_type else {}

    async def probe(client: TestClient[Any, Any]) -> tuple[int, Any]:
        async with client.post(path, data=body, headers=headers) as response:
            return await _answer(response)

    return _ask(probe)


def test_a_form_gives_its_text_fields_urlencoded_or_multipart() -> None:
    assert _post("/form", b"token=abc&x=1&token=second", "application/x-www-form-urlencoded") == (
        200,
        {"token": "abc", "x": "1"},
    )
    # A percent-escape that is no UTF-8 is decoded as aiohttp does, with a replacement character.
    assert _post("/form", b"token=%ff", "application/x-www-form-urlencoded") == (200, {"token": "\ufffd"})
    form = aiohttp.FormData()
    form.add_field("token", "abc")
    assert _post("/form", form) == (200, {"token": "abc"})


def test_a_form_that_cannot_be_read_is_a_400() -> None:
    urlencoded = "application/x-www-form-urlencoded"
    assert _post("/form", b"token=\xff\xfe", urlencoded)[0] == 400
    assert _post("/form", b"token=a", urlencoded + "; charset=nonsense")[0] == 400
    assert _post("/form", b"--b\r\nnonsense", "multipart/form-data; boundary=b")[0] == 400
    assert _post("/form", b"--b\r\n", "multipart/form-data")[0] == 400  # no boundary
    file_field = aiohttp.FormData()
    file_field.add_field("token", b"abc", filename="token.txt")
    status, body = _post("/form", file_field)
    detail = "Een formulierveld moet tekst zijn, geen bestand."
    assert (status, body) == (
        400,
        {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": detail},
    )


def test_a_body_that_is_not_what_its_content_encoding_says_is_a_400() -> None:
    async def probe(client: TestClient[Any, Any]) -> tuple[int, Any]:
        statuses = []
        for path in ("/json", "/form"):
            # aiohttp closes the connection after such a body: one connection per request.
            headers = {
                "Content-Encoding": "gzip",
                "Content-Type": "application/x-www-form-urlencoded",
                "Connection": "close",
            }
            async with client.post(path, data=b"not gzip at all", headers=headers) as response:
                statuses.append(response.status)
        return 0, statuses

    assert _ask(probe)[1] == [400, 400]


def test_a_form_of_another_content_type_is_a_415_and_too_large_a_413() -> None:
    assert _post("/form", b"{}", "application/json")[0] == 415
    assert _post("/form", b"token=" + b"a" * (1024**2 + 10), "application/x-www-form-urlencoded")[0] == 413


def test_a_json_body_must_be_an_object_within_the_limit() -> None:
    assert _post("/json", b'{"bereikt": []}') == (200, {"bereikt": []})
    assert _post("/json", b"[1]")[0] == 400
    assert _post("/json", b"\xff")[0] == 400
    assert _post("/json", b'"\\udc80"')[0] == 400
    assert _post("/json", b"{}" + b" " * 2000)[0] == 413


def test_a_real_bug_is_a_generic_500_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    async def probe(client: TestClient[Any, Any]) -> tuple[int, Any]:
        async with client.get("/bug") as response:
            return await _answer(response)

    problem = {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "internal error",
    }
    assert _ask(probe) == (500, problem)
    logged = [r for r in caplog.records if r.name == "streams.worker.edge"]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert "GET /bug" in logged[0].getMessage()


def test_a_path_segment_that_names_nothing_is_a_404() -> None:
    async def probe(client: TestClient[Any, Any]) -> tuple[int, Any]:
        answers = []
        for path in ("/id/abc", "/id/a%00b", "/id/" + "a" * 201):
            async with client.get(path) as response:
                answers.append(response.status)
        return 0, answers

    assert _ask(probe)[1] == [200, 404, 404]
