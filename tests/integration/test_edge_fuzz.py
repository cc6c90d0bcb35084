"""Arbitrary requests against one real worker: no 5xx and no traceback, ever; slow clients are cut off.

One worker (demo mode, the demo history fed so its teams have cases) is started for the
module, with an operations listener and small header and body deadlines (2 s). Every route
of the app's router, on the main and the ops listener, gets arbitrary methods, path
segments, query strings, credentials (valid and garbage bearer tokens and cookies), headers,
content types and bodies (bytes, JSON, urlencoded and multipart forms, file fields), sent as
raw bytes on a socket. No answer may be a 5xx, except 503 from /readyz while the worker is
not ready (which is what /readyz is for), and the worker's log may hold no traceback.

Reproducible in CI: hypothesis is derandomized, without an example database.
"""

from __future__ import annotations

import json
import tempfile
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from connectors.kafka.broker import EmbeddedBroker, free_port
from connectors.team_access import sha256_hex
from schemas.cases_v1 import CONTACTSOORTEN, DAGDELEN, EINDRESULTATEN, SIGNAALSTATUSSEN
from streams.bootstrap import create_app
from streams.worker.settings import Settings
from streams.worker.web_security import OPS_PATHS
from tests.integration.harness import Worker
from tests.integration.runs import run_demo_history
from tests.integration.slow_client import (
    Held,
    body_that_stalls,
    headers_one_line_at_a_time,
    idle,
    raw_request,
)
from tests.integration.team_client import DEMO_TOKENS, call, login_cookie

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

DEADLINE_S = 2.0
CREDITOR_TOKEN = "fuzz-housing-token"
READ_TOKEN = "test-read-token"  # the harness's operator token
# 500 arbitrary requests in `make test`; the slow variant (`make test-slow`) sends 5,000.
EXAMPLES, EXAMPLES_SLOW = 500, 5000


@dataclass(frozen=True)
class Target:
    """The running worker, its two listeners, a team with a case, and valid credentials."""

    worker: Worker
    ops_port: int
    team: str
    values: dict[str, str]  # path parameter -> a real value (team, case_id, signal_id, key, source)
    cookie: str
    routes: tuple[tuple[int, str, str], ...]  # (port, method, pattern)

    @property
    def token(self) -> str:
        return DEMO_TOKENS[self.team]

    @property
    def origin(self) -> str:
        return self.worker.url("")

    def log_text(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(self.worker.data_dir.glob("worker-*.log"))
        )


def _router_routes(main_port: int, ops_port: int) -> tuple[tuple[int, str, str], ...]:
    """(port, method, pattern) of every route the app registers, and of the ops listener's paths."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            demo=True, broker_url="kafka://127.0.0.1:1", data_dir=Path(data_dir), session_key="k" * 40
        )
        web_app: Any = create_app(settings).web
        routes = {(r.method, r.resource.canonical) for r in web_app.web_app.router.routes()}
    main = [(main_port, method, pattern) for method, pattern in sorted(routes)]
    ops = [(ops_port, method, pattern) for method, pattern in sorted(routes) if pattern in OPS_PATHS]
    return (*main, *ops)


@pytest.fixture(scope="module")
def target(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    data_dir = Path(tmp_path_factory.mktemp("edge-fuzz"))
    ops_port = free_port()
    tokens = {"woonstad": {"source": "housing", "token_sha256": sha256_hex(CREDITOR_TOKEN)}}
    env = {
        "VROEGSIGNAAL_WEB_HEADER_TIMEOUT_S": str(DEADLINE_S),
        "VROEGSIGNAAL_WEB_BODY_TIMEOUT_S": str(DEADLINE_S),
        "VROEGSIGNAAL_OPS_PORT": str(ops_port),
        "VROEGSIGNAAL_OPS_BIND": "127.0.0.1",
        "VROEGSIGNAAL_CREDITOR_TOKENS": json.dumps(tokens),
    }
    run = run_demo_history(
        broker, data_dir, f"sqlite:///{data_dir / 'read.db'}", keep_running=True, extra_env=env
    )
    try:
        team, case = _a_team_with_a_case(run.worker)
        cookie, _ = login_cookie(run.worker, DEMO_TOKENS[team])
        values = {
            "team": team,
            "case_id": case["case_id"],
            "signal_id": case["signals"][0]["signal_id"],
            "key": case["household_key"],
            "source": "housing",
        }
        routes = _router_routes(run.worker.web_port, ops_port)
        yield Target(run.worker, ops_port, team, values, cookie, routes)
    finally:
        run.worker.stop()


def _a_team_with_a_case(worker: Worker) -> tuple[str, dict[str, Any]]:
    for team, token in sorted(DEMO_TOKENS.items()):
        answer = call(worker, "GET", f"/v1/teams/{team}/cases", token=token)
        assert answer.status == 200, answer
        if answer.body["cases"]:
            return team, answer.body["cases"][0]
    raise AssertionError("the demo history left no team with a case")


# --- what a client may send -------------------------------------------------------------------

TODAY = datetime.now(UTC).date().isoformat()
FIELDS = ("token", "soort", "bereikt", "datum", "dagdeel", "resultaat", "status", "request_id")
GOOD_VALUES = (
    *CONTACTSOORTEN,
    *DAGDELEN,
    *EINDRESULTATEN,
    *SIGNAALSTATUSSEN,
    "ja",
    "nee",
    TODAY,
    "req-12345678",
)
METHODS = ("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH")
HEADER_NAMES = (
    "Origin",
    "Referer",
    "Accept",
    "Accept-Encoding",
    "Content-Encoding",
    "X-Forwarded-Proto",
    "X-Forwarded-For",
    "If-None-Match",
    "Range",
    "Expect",
    "X-Anything",
)


_NO_CONTROLS = bytes([*range(0x20, 0x7F), *range(0x80, 0x100)])


def _header_bytes(max_size: int = 60) -> st.SearchStrategy[bytes]:
    """Header value bytes that keep the request's framing (no CR or LF); control bytes now and then.

    aiohttp's parser refuses control bytes with a 400 before any handler runs, so most
    values have none and reach the handlers.
    """
    return st.one_of(
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=max_size).map(str.encode),
        st.lists(st.sampled_from(_NO_CONTROLS), max_size=max_size).map(bytes),
        st.binary(max_size=max_size).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    )


_texts = st.text(max_size=40)
_segments = st.one_of(
    _texts.map(lambda s: urllib.parse.quote(s.encode("utf-8", "surrogatepass"), safe="")),
    st.binary(max_size=40).map(lambda b: urllib.parse.quote_from_bytes(b, safe="")),
    st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/?#%"), max_size=300
    ),
)
_json_leaves = st.one_of(
    st.sampled_from(GOOD_VALUES), _texts, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none()
)
_json_values = st.recursive(
    _json_leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
    max_leaves=8,
)
_json_bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS) | _texts, _json_values, max_size=6),
    _json_values,
).map(lambda value: json.dumps(value).encode())  # lone surrogates as \udcxx escapes, big integers too
_form_values = st.one_of(st.sampled_from(GOOD_VALUES), _texts.map(str.encode), st.binary(max_size=30))


@st.composite
def _urlencoded(draw: st.DrawFn) -> tuple[bytes, bytes]:
    fields = draw(st.lists(st.tuples(st.sampled_from(FIELDS) | _texts, _form_values), max_size=6))
    raw = b"&".join(
        urllib.parse.quote_from_bytes(k.encode("utf-8", "surrogatepass")).encode()
        + b"="
        + (
            urllib.parse.quote_from_bytes(v).encode()
            if isinstance(v, bytes)
            else urllib.parse.quote(v).encode()
        )
        for k, v in fields
    )
    charset = draw(st.sampled_from(("", "; charset=utf-8", "; charset=latin-1", "; charset=nonsense")))
    return b"application/x-www-form-urlencoded" + charset.encode(), draw(st.one_of(st.just(raw), st.binary()))


@st.composite
def _multipart(draw: st.DrawFn) -> tuple[bytes, bytes]:
    boundary = draw(st.sampled_from((b"XyZ", b"----b", b"")))
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(FIELDS) | _texts).encode("utf-8", "surrogatepass")
        disposition = b'Content-Disposition: form-data; name="' + name.replace(b'"', b"") + b'"'
        if draw(st.booleans()):
            disposition += b'; filename="' + draw(_header_bytes(20)).replace(b'"', b"") + b'"'
        head = [disposition]
        if draw(st.booleans()):
            head.append(
                b"Content-Type: "
                + draw(
                    st.sampled_from(
                        (
                            b"text/plain; charset=utf-8",
                            b"application/octet-stream",
                            b"text/plain; charset=x-nope",
                        )
                    )
                )
            )
        value = draw(_form_values)
        content = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        parts.append(b"--" + boundary + b"\r\n" + b"\r\n".join(head) + b"\r\n\r\n" + content + b"\r\n")
    body = b"".join(parts) + (b"--" + boundary + b"--\r\n" if draw(st.booleans()) else b"")
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))]  # cut off anywhere
    declared = draw(st.sampled_from((b"XyZ", b"----b", b"other", b"")))
    content_type = b"multipart/form-data" + (b"; boundary=" + declared if declared else b"")
    return content_type, body


_bodies = st.one_of(
    st.tuples(
        st.sampled_from((b"", b"application/json", b"text/plain", b"application/octet-stream")),
        st.binary(max_size=400),
    ),
    st.tuples(st.sampled_from((b"application/json", b"")), _json_bodies),
    _urlencoded(),
    _multipart(),
    st.tuples(_header_bytes(40), st.binary(max_size=100)),
)


def _credentials(t: Target) -> st.SearchStrategy[list[tuple[bytes, bytes]]]:
    bearer = st.one_of(
        st.sampled_from((t.token, CREDITOR_TOKEN, READ_TOKEN, DEMO_TOKENS[t.team][::-1])).map(str.encode),
        _header_bytes(40),
    )
    cookie_value = st.one_of(
        st.just(t.cookie.partition("=")[2].encode()), _header_bytes(80).map(lambda b: b.replace(b";", b""))
    )
    return st.one_of(
        st.just([]),
        bearer.map(lambda token: [(b"Authorization", b"Bearer " + token)]),
        _header_bytes().map(lambda value: [(b"Authorization", value)]),
        cookie_value.map(lambda value: [(b"Cookie", b"vs_team_session=" + value)]),
        _header_bytes().map(lambda value: [(b"Cookie", value)]),
    )


@st.composite
def _requests(draw: st.DrawFn, t: Target) -> tuple[int, str, bytes]:
    """(port, route pattern, the request's bytes)."""
    port, method, pattern = draw(st.sampled_from(t.routes))
    # aiohttp's parser refuses an unknown method (400) before any handler: a few only.
    any_method = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8)
    method = draw(st.one_of(st.just(method), st.just(method), st.sampled_from(METHODS), any_method))
    path = pattern
    for name, real in t.values.items():
        if "{" + name + "}" in path:
            path = path.replace("{" + name + "}", draw(st.one_of(st.just(real), _segments)))
    paging = st.tuples(st.sampled_from(("pagina", "signalen", "limit", "offset", "melding")), _texts).map(
        lambda kv: "?" + kv[0] + "=" + urllib.parse.quote(kv[1].encode("utf-8", "surrogatepass"))
    )
    query = draw(
        st.one_of(
            st.just(""),
            st.binary(max_size=40).map(lambda b: "?" + urllib.parse.quote_from_bytes(b, safe="=&")),
            _texts.map(lambda s: "?melding=" + urllib.parse.quote(s.encode("utf-8", "surrogatepass"))),
            paging,
        )
    )
    headers = [(b"Host", b"127.0.0.1"), *draw(_credentials(t))]
    if draw(st.booleans()):
        host = st.text(max_size=20).map(lambda h: h.encode("utf-8", "surrogatepass"))
        origin = st.one_of(
            st.just(t.origin.encode()),
            st.tuples(
                st.sampled_from((b"http://", b"https://", b"")),
                host,
                st.sampled_from((b"", b":6066", b":x", b":99999")),
            ).map(b"".join),
            _header_bytes(),
        )
        headers.append(
            (
                draw(st.sampled_from((b"Origin", b"Referer"))),
                draw(origin).replace(b"\r", b"").replace(b"\n", b""),
            )
        )
    headers += draw(
        st.lists(st.tuples(st.sampled_from(HEADER_NAMES).map(str.encode), _header_bytes()), max_size=3)
    )
    if draw(st.booleans()):  # a body that is not what its encoding says fails in aiohttp's decompressor
        encoding = draw(st.sampled_from((b"gzip", b"deflate", b"br", b"zstd", b"identity", b"gzip, br")))
        headers.append((b"Content-Encoding", encoding))
    content_type, body = draw(_bodies)
    if content_type:
        headers.append((b"Content-Type", content_type))
    if draw(st.booleans()):
        headers.append((b"Transfer-Encoding", b"chunked"))
        body = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    else:
        headers.append((b"Content-Length", str(len(body)).encode()))
    headers.append((b"Connection", b"close"))
    head = method.encode() + b" " + (path + query).encode() + b" HTTP/1.1\r\n"
    head += b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    return port, pattern, head + b"\r\n" + body


def _acceptable(pattern: str, held: Held) -> bool:
    if held.status is None:
        return False
    return held.status < 500 or (pattern == "/readyz" and held.status == 503)


@pytest.mark.parametrize(
    "examples",
    [
        pytest.param(EXAMPLES, id=str(EXAMPLES)),
        pytest.param(EXAMPLES_SLOW, id=str(EXAMPLES_SLOW), marks=pytest.mark.slow),
    ],
)
def test_no_request_whatever_gives_a_5xx_or_a_traceback(target: Target, examples: int) -> None:
    before = len(target.log_text())

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[
            Phase.explicit,
            Phase.generate,
        ],  # no shrinking: the failing request is printed as it was sent
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(request=_requests(target))
    def probe(request: tuple[int, str, bytes]) -> None:
        port, pattern, raw = request
        held = raw_request(port, raw)
        event(f"{held.status} {pattern}")  # pytest --hypothesis-show-statistics: what the examples reached
        assert _acceptable(pattern, held), (held.answer[:300], raw[:600])
        # aiohttp's own 400s for what it cannot parse carry the app's headers too: no version announced.
        assert b"Server: vroegsignaal\r\n" in held.answer.partition(b"\r\n\r\n")[0], held.answer[:300]

    probe()
    log = target.log_text()[before:]
    assert "Traceback" not in log, log[-4000:]
    assert "Error handling request" not in log, log[-4000:]


def _post(t: Target, path: str, headers: dict[str, str], body: bytes) -> Held:
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return raw_request(t.worker.web_port, head.encode("utf-8", "surrogateescape") + b"\r\n" + body)


def _get(t: Target, path: str, raw_headers: bytes) -> Held:
    return raw_request(
        t.worker.web_port,
        f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode() + raw_headers + b"\r\n",
    )


def test_the_inputs_that_gave_500_answer_a_clear_4xx(target: Target) -> None:
    """Each input of issue 16 that answered 500 with a traceback."""
    t, before = target, len(target.log_text())
    form = {"Origin": t.origin}
    urlencoded = {**form, "Content-Type": "application/x-www-form-urlencoded"}
    api = {"Authorization": f"Bearer {t.token}", "Content-Type": "application/json"}
    attempts = f"/v1/cases/{t.values['case_id']}/contact-attempts"
    file_field = (
        b'--b\r\nContent-Disposition: form-data; name="token"; filename="t.txt"\r\n\r\n'
        + t.token.encode()
        + b"\r\n--b--\r\n"
    )
    answers = {
        "login body not UTF-8": _post(t, "/team/login", urlencoded, b"token=\xff\xfe"),
        "broken multipart": _post(
            t, "/team/login", {**form, "Content-Type": "multipart/form-data; boundary=b"}, b"--b\r\nnonsense"
        ),
        "form field sent as a file": _post(
            t, "/team/login", {**form, "Content-Type": "multipart/form-data; boundary=b"}, file_field
        ),
        "bereikt a list": _post(
            t, attempts, api, b'{"soort": "Telefoon", "bereikt": [], "datum": "' + TODAY.encode() + b'"}'
        ),
        "bereikt an object": _post(
            t, attempts, api, b'{"soort": "Telefoon", "bereikt": {}, "datum": "' + TODAY.encode() + b'"}'
        ),
        "empty object": _post(t, attempts, api, b"{}"),
        "JSON not an object": _post(t, attempts, api, b"[1, 2]"),
        "form post of another type": _post(
            t, "/team/login", {**form, "Content-Type": "application/json"}, b"{}"
        ),
        "origin with a non-ASCII host": _post(t, "/team/login", {"Origin": "http://\u00e9.example"}, b""),
    }
    statuses = {what: held.status for what, held in answers.items()}
    assert statuses == {
        "login body not UTF-8": 400,
        "broken multipart": 400,
        "form field sent as a file": 400,
        "bereikt a list": 400,
        "bereikt an object": 400,
        "empty object": 400,
        "JSON not an object": 400,
        "form post of another type": 415,
        "origin with a non-ASCII host": 403,
    }
    # A non-ASCII session cookie and bearer token are no credentials: the login form, a 401.
    cookie = _get(t, f"/team/{t.team}/zaken", "Cookie: vs_team_session=caf\u00e9.\u00e9\r\n".encode())
    assert cookie.status == 303
    bearer = _get(t, f"/v1/teams/{t.team}/cases", "Authorization: Bearer t\u00f6ken\r\n".encode())
    assert bearer.status == 401
    raw_bearer = _get(t, "/households/x", b"Authorization: Bearer \xff\xfe\r\n")
    assert raw_bearer.status in (401, 404)  # 404: the ops listener serves it
    log = t.log_text()[before:]
    assert "Traceback" not in log, log[-4000:]


def test_slow_clients_are_cut_off_on_both_listeners_and_normal_requests_still_work(target: Target) -> None:
    for port in (target.worker.web_port, target.ops_port):
        trickle = headers_one_line_at_a_time(port, every_s=1.0, give_up_s=10 * DEADLINE_S)
        assert trickle.seconds < 3 * DEADLINE_S, (port, trickle)
        silent = idle(port, give_up_s=10 * DEADLINE_S)
        assert silent.seconds < 3 * DEADLINE_S, (port, silent)
        assert (
            raw_request(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status == 200
        )
    stalls = {
        "login form": (
            f"POST /team/login HTTP/1.1\r\nHost: x\r\nOrigin: {target.origin}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
        ),
        "team API": (
            f"POST /v1/cases/{target.values['case_id']}/contact-attempts HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {target.token}\r\nContent-Length: 1000\r\n\r\n"
        ),
        "ingest": (
            f"POST /v1/ingest/housing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {CREDITOR_TOKEN}\r\n"
            "Content-Length: 1000\r\n\r\n"
        ),
    }
    for what, head in stalls.items():
        held = body_that_stalls(target.worker.web_port, head.encode(), give_up_s=10 * DEADLINE_S)
        assert held.status == 408, (what, held)
        assert held.seconds < 3 * DEADLINE_S + 2, (what, held)  # + the 2 s drain before closing
