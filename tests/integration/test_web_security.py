"""Sessions, forms and headers as probed on loopback against a real worker with an operations listener."""

from __future__ import annotations

import asyncio
import re
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.kafka.broker import EmbeddedBroker, free_port
from tests.integration.harness import Worker, create_topics
from tests.integration.slow_client import raw_request
from tests.integration.team_client import DEMO_TOKENS, Answer, call, login_cookie

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

TEAM = "buurtteam-oost"
TOKEN = DEMO_TOKENS[TEAM]
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'"
)
ELSEWHERE = "https://elders.example"


def _worker(broker: EmbeddedBroker, data_dir: Path, database_url: str | None = None, **env: str) -> Worker:
    token = uuid.uuid4().hex[:8]
    worker = Worker(
        broker=broker,
        prefix=f"w{token}.",
        data_dir=data_dir,
        database_url=database_url or f"sqlite:///{data_dir / 'read.db'}",
        app_id=f"w{token}",
        extra_env={f"VROEGSIGNAAL_{k.upper()}": v for k, v in env.items()},
    )
    asyncio.run(create_topics(broker, worker.names))
    return worker.start()


@pytest.fixture(scope="module")
def worker(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    ops_port = free_port()
    worker = _worker(broker, tmp_path_factory.mktemp("websec"), ops_port=str(ops_port), ops_bind="127.0.0.1")
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


def _ops(worker: Worker) -> Worker:
    """The same worker seen through its operations listener."""
    port = int(worker.extra_env["VROEGSIGNAAL_OPS_PORT"])
    return Worker(
        worker.broker, worker.prefix, worker.data_dir, worker.database_url, worker.app_id, web_port=port
    )


def _inbox(worker: Worker, cookie: str) -> Answer:
    return call(worker, "GET", f"/team/{TEAM}/zaken", cookie=cookie)


def test_logging_out_ends_the_session_on_the_server(worker: Worker) -> None:
    cookie, _ = login_cookie(worker, TOKEN)
    assert _inbox(worker, cookie).status == 200
    out = call(worker, "POST", "/team/logout", cookie=cookie)
    assert (out.status, out.location) == (303, "/team/login")
    # The browser forgets the cookie; a copy kept elsewhere no longer works either.
    replayed = _inbox(worker, cookie)
    assert (replayed.status, replayed.location) == (303, "/team/login")


def test_a_logout_on_one_worker_ends_the_session_on_another(worker: Worker, tmp_path: Path) -> None:
    # Another worker process with the same session key and read model (its own group and topics).
    other = _worker(worker.broker, tmp_path, database_url=worker.database_url)
    try:
        other.wait_ready()
        cookie, _ = login_cookie(worker, TOKEN)
        assert _inbox(other, cookie).status == 200
        assert call(worker, "POST", "/team/logout", cookie=cookie).status == 303
        replayed = _inbox(other, cookie)
        assert (replayed.status, replayed.location) == (303, "/team/login")
    finally:
        other.stop()


def test_cross_site_posts_are_refused_login_and_logout_included(worker: Worker) -> None:
    foreign = {"Origin": ELSEWHERE}
    login = call(worker, "POST", "/team/login", form={"token": TOKEN}, headers=foreign)
    assert login.status == 403
    assert not any(k.lower() == "set-cookie" for k, _ in login.raw_headers)
    cookie, _ = login_cookie(worker, TOKEN)
    assert call(worker, "POST", "/team/logout", cookie=cookie, headers=foreign).status == 403
    assert _inbox(worker, cookie).status == 200  # the refused logout did not end the session
    form = {"status": "Opgepakt"}
    post = call(worker, "POST", "/zaken/c-1/signalen/s-1/status", form=form, cookie=cookie, headers=foreign)
    assert post.status == 403
    # The request's own Host proves nothing: the sender chooses it.
    spoofed = {"Host": "elders.example", "Origin": "http://elders.example"}
    assert call(worker, "POST", "/team/logout", cookie=cookie, headers=spoofed).status == 403


def test_posts_without_origin_or_referer_are_refused(worker: Worker) -> None:
    bare = call(worker, "POST", "/team/login", form={"token": TOKEN}, same_origin=False)
    assert bare.status == 403
    cookie, _ = login_cookie(worker, TOKEN)
    form = {"status": "Opgepakt"}
    post = call(worker, "POST", "/zaken/c-1/signalen/s-1/status", form=form, cookie=cookie, same_origin=False)
    assert post.status == 403
    assert call(worker, "POST", "/team/logout", cookie=cookie, same_origin=False).status == 403
    # A Referer from the public origin will do when a client sends no Origin.
    referred = call(worker, "POST", "/team/logout", cookie=cookie, headers={"Referer": worker.url("/team")})
    assert referred.status == 303


def _has_security_headers(answer: Answer, what: str) -> None:
    h = {k.lower(): v for k, v in answer.raw_headers}
    assert h.get("x-content-type-options") == "nosniff", what
    assert h.get("content-security-policy") == CSP, what
    assert h.get("referrer-policy") == "same-origin", what
    assert h.get("server") == "vroegsignaal", (what, h.get("server"))


def test_every_response_sends_the_security_headers_and_no_server_version(worker: Worker) -> None:
    cookie, _ = login_cookie(worker, TOKEN)
    ops = _ops(worker)
    answers = {
        "login page": call(worker, "GET", "/team/login"),
        "inbox page": _inbox(worker, cookie),
        "stylesheet": call(worker, "GET", "/team/style.css"),
        "JSON": call(worker, "GET", f"/v1/teams/{TEAM}/cases", token=TOKEN),
        "JSON 401": call(worker, "GET", f"/v1/teams/{TEAM}/cases"),
        "ingest 401": call(worker, "POST", "/v1/ingest/housing", json_body={}),
        "unknown path": call(worker, "GET", "/no-such-page"),
        "wrong method": call(worker, "DELETE", "/team/login"),
        "health": call(worker, "GET", "/healthz"),
        "ops metrics": call(ops, "GET", "/metrics"),
        "ops 404": call(ops, "GET", "/team/login"),
    }
    for what, answer in answers.items():
        _has_security_headers(answer, what)
    assert answers["stylesheet"].headers["Content-Type"].startswith("text/css")
    page = answers["inbox page"].body
    assert '<link rel="stylesheet" href="/team/style.css">' in page
    assert not re.search(r"<script|<style|\sstyle=|\son\w+=", page), "inline script or style"


def test_answers_with_personal_data_are_not_cached(worker: Worker) -> None:
    cookie, _ = login_cookie(worker, TOKEN)
    personal = [
        call(worker, "GET", f"/v1/teams/{TEAM}/cases", token=TOKEN),
        _inbox(worker, cookie),
        call(_ops(worker), "GET", "/households/1011AB-1", token="test-read-token"),
    ]
    for answer in personal:
        assert answer.headers.get("Cache-Control") == "no-store", answer


def test_the_ops_listener_serves_metrics_and_households_and_the_main_one_does_not(worker: Worker) -> None:
    ops = _ops(worker)
    metrics = call(ops, "GET", "/metrics")
    assert metrics.status == 200
    assert "vroegsignaal_" in metrics.body
    assert call(worker, "GET", "/metrics").status == 404
    assert call(worker, "GET", "/households/1011AB-1", token="test-read-token").status == 404
    assert call(ops, "GET", "/households/1011AB-1").status == 401  # still needs the read token
    assert call(ops, "GET", "/readyz").status == 200
    assert (
        call(ops, "GET", f"/v1/teams/{TEAM}/cases", token=TOKEN).status == 404
    )  # teams stay on the main one
    assert call(worker, "GET", "/readyz").status == 200


def test_a_malformed_authorization_header_is_never_echoed_or_logged(worker: Worker) -> None:
    secret = "tok-" + uuid.uuid4().hex
    variants = [f"Bearer {secret} trailing", f"Bearerx {secret}", f"bearer\t{secret}", f"{secret}"]
    for value in variants:
        for w, method, path in (
            (worker, "GET", f"/v1/teams/{TEAM}/cases"),
            (worker, "POST", "/v1/ingest/housing"),
            (worker, "GET", "/team"),
            (_ops(worker), "GET", "/households/1011AB-1"),
        ):
            request = urllib.request.Request(
                w.url(path), method=method, data=b"{}" if method == "POST" else None
            )
            request.add_header("Authorization", value)
            answer = _raw(request)
            assert secret not in answer, (value, path)
    assert secret not in worker.log_tail(lines=2000)


def test_a_header_line_the_parser_refuses_is_not_echoed_in_the_400(worker: Worker) -> None:
    # aiohttp answers a header it cannot parse with 400 and quoted the whole line, token and all.
    secret = b"tok-" + uuid.uuid4().hex.encode()
    lines = [
        b"Authorization: Bearer " + secret + b"\x01",  # a control character
        b"Authorization: Bearer " + secret + b"\rx",  # a bare CR
        b"Authorization Bearer " + secret,  # no colon
        b"Authorization:\r\n Bearer " + secret,  # an obsolete line folding
    ]
    for port in (worker.web_port, _ops(worker).web_port):
        for line in lines:
            head = b"GET /team HTTP/1.1\r\nHost: x\r\n" + line + b"\r\nConnection: close\r\n\r\n"
            answer = raw_request(port, head, timeout_s=10)
            assert answer.status == 400, (line, answer.answer[:200])
            assert secret not in answer.answer, (port, line)
            assert b"nosniff" in answer.answer  # still the security headers
    assert secret.decode() not in worker.log_tail(lines=2000)


def _raw(request: urllib.request.Request) -> str:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(response.headers) + response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return str(exc.headers) + exc.read().decode(errors="replace")


def test_login_attempts_are_limited_per_address_with_retry_after(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    worker = _worker(broker, tmp_path, login_max_attempts="3", login_window_s="600")
    try:
        worker.wait_ready()
        for _ in range(3):
            assert call(worker, "POST", "/team/login", form={"token": "wrong"}).status == 401
        limited = call(worker, "POST", "/team/login", form={"token": TOKEN})  # failed attempts counted
        assert limited.status == 429
        assert 0 < int(limited.headers["Retry-After"]) <= 600
        assert not any(k.lower() == "set-cookie" for k, _ in limited.raw_headers)
    finally:
        worker.stop()


def test_the_standalone_sink_answers_with_the_same_headers(broker: EmbeddedBroker, tmp_path: Path) -> None:
    token = uuid.uuid4().hex[:8]
    sink = Worker(
        broker=broker,
        prefix=f"s{token}.",
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'read.db'}",
        app_id=f"s{token}",
        command=("sink",),
    )
    asyncio.run(create_topics(broker, sink.names))
    sink.start()
    try:
        sink.wait_ready()
        metrics = call(sink, "GET", "/metrics")
        assert metrics.status == 200
        assert "vroegsignaal_" in metrics.body
        _has_security_headers(metrics, "sink metrics")
    finally:
        sink.stop()
