"""Paths the API had before its version was in the path: 308 Permanent Redirect, for one release.

`/ingest/{source}` is now `/v1/ingest/{source}` and the team API's `/api/...` is `/v1/...`
(docs/openapi.json). The old path answers 308 with `Location` (the same request, method and
body, at the new path, query kept), `Deprecation: true` and a `Link` to the successor, so a
client that follows redirects keeps working and one that logs headers learns to move.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import quote

import faust
from faust.web import Request, Response, View

from streams.worker.openapi import API_VERSION

__all__ = ["register_moved"]

_QUERY_SAFE = "!$%&'()*+,/:;=?@~"  # what may stay as it is in a query (RFC 3986); the rest is encoded


def register_moved(app: faust.App, old: str, new: str, *, post: bool) -> None:
    """Answer `old` (GET, or POST when `post`) with a 308 to `new`; both are route templates."""

    def moved(view: View, request: Request, params: dict[str, str]) -> Response:
        # Printable ASCII whatever the client sent: a header with a control byte would not be sent at all.
        location = new.format(**{k: quote(v, safe="", errors="surrogatepass") for k, v in params.items()})
        query = cast(Any, request).rel_url.raw_query_string  # as sent, not decoded
        if query:
            location += "?" + quote(query, safe=_QUERY_SAFE, errors="surrogatepass")
        headers = {
            "Location": location,
            "Deprecation": "true",
            "Link": f'<{location}>; rel="successor-version"',
            "API-Version": API_VERSION,
        }
        return view.bytes(b"", status=308, headers=headers)

    async def get(self: View, request: Request, **params: Any) -> Response:
        return moved(self, request, params)

    async def post_(self: View, request: Request, **params: Any) -> Response:
        return moved(self, request, params)

    methods: dict[str, Any] = {"post": post_} if post else {"get": get}
    app.page(old, name=f"moved {old}")(type("Moved", (View,), methods))
