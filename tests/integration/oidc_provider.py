"""A real OpenID provider for tests: npm `oidc-provider` on loopback, one client, a few test accounts.

The provider's development interactions take any account id as login (no password check) and
then ask for consent; `through_provider` drives both forms over HTTP the way a browser would.
Requires `npm install -g oidc-provider@9.13.3` (.ci/run); without it the tests skip, except under CI
(env `CI` set), where they fail.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.kafka.broker import die_with_parent, free_port

CLIENT_ID = "vroegsignaal-test"
CLIENT_SECRET = "test-client-secret-of-the-relying-party"
SCOPES = "openid profile vroegsignaal"
# account id -> claims (groups are team ids of the sample teams; roles as the municipality assigns them)
ACCOUNTS = {
    "j.jansen": {"name": "J. Jansen", "groups": ["buurtteam-centrum"], "roles": ["medewerker"]},
    "c.coord": {"name": "C. Coördinator", "groups": ["buurtteam-centrum"], "roles": ["coordinator"]},
    "o.oost": {"name": "O. Oost", "groups": ["buurtteam-oost"], "roles": ["medewerker"]},
    "x.elders": {"name": "X. Elders", "groups": ["een-ander-team"], "roles": ["coordinator"]},
    "m.beide": {
        "name": "M. Beide",
        "groups": ["buurtteam-oost", "buurtteam-centrum"],
        "roles": ["medewerker"],
    },
}

_SCRIPT = r"""
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
const [root, port, redirectUri, logoutUri, clientId, clientSecret, accountsJson] = process.argv.slice(2);
const { default: Provider } = await import(pathToFileURL(join(root, 'oidc-provider', 'lib', 'index.js')).href);
const accounts = JSON.parse(accountsJson);
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId, client_secret: clientSecret,
    redirect_uris: [redirectUri], post_logout_redirect_uris: [logoutUri],
    grant_types: ['authorization_code'], response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['name'], vroegsignaal: ['groups', 'roles'] },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: ['test-provider-cookie-key'] },
  async findAccount(ctx, id) {
    if (!accounts[id]) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...accounts[id] }; } };
  },
});
provider.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
"""


@dataclass(frozen=True)
class OpenIdProvider:
    """A running provider: its issuer URL and the client registered at it."""

    issuer: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET


def _npm_root() -> Path:
    """Where the global npm packages are; skips the tests without oidc-provider, except under CI (fails)."""
    npm = shutil.which("npm")
    root = None
    if npm and shutil.which("node"):
        found = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, check=True)
        root = Path(found.stdout.strip())
    if root is None or not (root / "oidc-provider").is_dir():
        reason = "npm oidc-provider is not installed: npm install -g oidc-provider@9.13.3 (.ci/run does)"
        if os.environ.get("CI"):  # .ci/run installs it: CI must test the sign-in
            pytest.fail(reason)
        pytest.skip(reason)
    return root


@contextmanager
def openid_provider(directory: Path, *, redirect_uri: str, logout_uri: str) -> Iterator[OpenIdProvider]:
    """The provider started on a free loopback port; stopped on leaving."""
    script = directory / "provider.mjs"
    script.write_text(_SCRIPT, encoding="utf-8")
    port = free_port()
    log = (directory / "provider.log").open("ab")
    args = [
        str(_npm_root()),
        str(port),
        redirect_uri,
        logout_uri,
        CLIENT_ID,
        CLIENT_SECRET,
        json.dumps(ACCOUNTS),
    ]
    process = subprocess.Popen(
        ["node", str(script), *args], stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(issuer, process, directory / "provider.log")
        yield OpenIdProvider(issuer)
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def _wait_ready(issuer: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the OpenID provider did not start\n{log.read_text(errors='replace')}")


SUBMIT = re.compile(r'<form[^>]*action="([^"]*/interaction/[^"]+)"[^>]*method="post"')


class Browser:
    """Cookies kept across the worker and the provider, redirects not followed (the test follows them)."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPCookieProcessor(self.jar))

    def request(
        self, method: str, url: str, form: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        """(status, Location, body) of one request."""
        data = (
            urllib.parse.urlencode(form).encode() if form is not None else (b"" if method == "POST" else None)
        )
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        if form is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self._opener.open(req, timeout=15) as answer:
                return answer.status, answer.headers.get("Location", ""), answer.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Location", ""), exc.read().decode(errors="replace")

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def set_cookie(self, name: str, value: str, path: str) -> None:
        """Replace a cookie's value as a tampering browser would."""
        found = next(c for c in self.jar if c.name == name and c.path == path)
        found.value = value


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def through_provider(browser: Browser, start: str, account: str, callback_prefix: str) -> str:
    """From the provider's authorization URL through login and consent to the callback URL (not opened)."""
    url = start
    for _ in range(12):
        status, location, body = browser.request("GET", url)
        if status in (302, 303) and location:
            url = urllib.parse.urljoin(url, location)
        elif status == 200 and (form := SUBMIT.search(body)):
            prompt = "login" if 'name="login"' in body else "consent"
            fields = {"prompt": prompt} | ({"login": account, "password": "x"} if prompt == "login" else {})
            status, location, body = browser.request("POST", urllib.parse.urljoin(url, form[1]), form=fields)
            assert status in (302, 303), (status, body[:500])
            url = urllib.parse.urljoin(url, location)
        else:
            raise AssertionError(f"unexpected answer {status} at {url}: {body[:500]}")
        if url.startswith(callback_prefix):
            return url
    raise AssertionError(f"no callback after the provider's pages (last {url})")
