"""Errors of the JSON APIs as `application/problem+json` (RFC 9457), and the `API-Version` header.

One shape everywhere: `type` (about:blank), `title` (the kind of error), `status`, `detail` (this
occurrence) and, where useful, more members: ingest's `accepted` and `items`, the team API's
`field`, a 503's `unavailable`. The team's paths (/v1/ but ingest, /team/) get a Dutch title, the rest
English; the detail is written by whoever refuses, in the same language (docs/openapi.json).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import orjson
from aiohttp import web
from faust.web import Response, View

from streams.worker.openapi import API_VERSION

__all__ = [
    "API_PATHS",
    "PROBLEM_JSON",
    "api_version",
    "dutch",
    "problem",
    "problem_body",
    "problem_response",
    "view_problem",
]

PROBLEM_JSON = "application/problem+json"
API_PATHS = ("/v1/", "/ingest/", "/api/", "/households/", "/openapi.json", "/healthz", "/readyz")
_DUTCH_PATHS = ("/v1/teams/", "/v1/cases/", "/v1/households/", "/api/", "/team/", "/zaken/")
_TITLES_NL = {
    400: "Ongeldig verzoek",
    401: "Niet aangemeld",
    403: "Geen toegang",
    404: "Niet gevonden",
    408: "Verzoek duurde te lang",
    409: "Conflict met een eerder verzoek",
    413: "Verzoek te groot",
    500: "Interne fout",
    503: "Even niet beschikbaar",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def dutch(path: str) -> bool:
    """Whether the answer on this path is for a team (Dutch) rather than a creditor or operator."""
    return path.startswith(_DUTCH_PATHS)


def problem_body(status: int, detail: str, *, in_dutch: bool = False, **extra: Any) -> dict[str, Any]:
    """The RFC 9457 members, then the extra ones.

    >>> problem_body(404, "no household X")
    {'type': 'about:blank', 'title': 'Not Found', 'status': 404, 'detail': 'no household X'}
    """
    title = _TITLES_NL.get(status, HTTPStatus(status).phrase) if in_dutch else HTTPStatus(status).phrase
    return {"type": "about:blank", "title": title, "status": status, "detail": detail} | extra


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    """The answer carrying a problem body (its `status` is the HTTP status)."""
    return web.Response(
        status=int(body["status"]),
        body=orjson.dumps(body),
        content_type=PROBLEM_JSON,
        headers={"API-Version": API_VERSION, **(headers or {})},
    )


def problem(status: int, detail: str, *, in_dutch: bool = False, **extra: Any) -> web.Response:
    """A problem answer in one call."""
    return problem_response(problem_body(status, detail, in_dutch=in_dutch, **extra))


def view_problem(view: View, status: int, detail: str, *, in_dutch: bool = False, **extra: Any) -> Response:
    """A problem answer from a Faust view."""
    body = problem_body(status, detail, in_dutch=in_dutch, **extra)
    return view.bytes(
        orjson.dumps(body), content_type=PROBLEM_JSON, status=status, headers={"API-Version": API_VERSION}
    )


@web.middleware
async def api_version(request: web.Request, handler: Handler) -> web.StreamResponse:
    """`API-Version` on every answer of an API path (REST API Design Rules, API-57)."""
    response = await handler(request)
    if request.path.startswith(API_PATHS) and not response.prepared:
        response.headers["API-Version"] = API_VERSION
    return response
