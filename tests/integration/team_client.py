"""HTTP helpers for the team pages and API of a worker under test: no redirects followed, cookies kept."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from tests.integration.harness import Worker

DEMO_TOKENS = {
    "buurtteam-centrum": "demo-centrum",
    "buurtteam-oost": "demo-oost",
    "buurtteam-zuidoost": "demo-zuidoost",
    "schuldhulp-centraal": "demo-centraal",
}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass
class Answer:
    """Status, headers and body (JSON decoded when it is JSON)."""

    status: int
    headers: dict[str, str]
    body: Any
    raw_headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


def call(
    worker: Worker,
    method: str,
    path: str,
    *,
    token: str | None = None,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    cookie: str | None = None,
    headers: dict[str, str] | None = None,
    same_origin: bool = True,
) -> Answer:
    """One request; 3xx and 4xx are answers, not exceptions.

    A post to the pages names the worker as its Origin, as a browser's form post does,
    unless `headers` name an Origin or Referer or `same_origin` is False."""
    data = None
    request = urllib.request.Request(worker.url(path), method=method)
    if json_body is not None:
        data = json.dumps(json_body).encode()
        request.add_header("Content-Type", "application/json")
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    elif method == "POST":
        data = b""
    request.data = data
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    if cookie is not None:
        request.add_header("Cookie", cookie)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    named = {name.lower() for name in headers or {}} & {"origin", "referer"}
    if method == "POST" and same_origin and not named and not path.startswith("/v1/"):
        request.add_header("Origin", worker.url(""))
    try:
        with _OPENER.open(request, timeout=15) as response:
            return _answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as exc:
        return _answer(exc.code, exc.headers, exc.read())


def _answer(status: int, headers: Any, raw: bytes) -> Answer:
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = raw.decode(errors="replace")
    return Answer(status, dict(headers.items()), body, list(headers.items()))


def login_cookie(worker: Worker, token: str) -> tuple[str, str]:
    """Log in with the form; (Cookie header value, Set-Cookie header as sent)."""
    answer = call(worker, "POST", "/team/login", form={"token": token})
    assert answer.status == 303, answer
    set_cookie = next(v for k, v in answer.raw_headers if k.lower() == "set-cookie")
    jar: SimpleCookie = SimpleCookie()
    jar.load(set_cookie)
    return "; ".join(f"{k}={m.value}" for k, m in jar.items()), set_cookie
