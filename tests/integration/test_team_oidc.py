"""Municipal sign-in for real: a worker signs members in at an OpenID provider started here (npm oidc-provider).

One provider and one worker for the module; every test drives the authorization code flow with
PKCE through the provider's login and consent pages over HTTP, as a browser would.
"""

from __future__ import annotations

import re
import sqlite3
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.kafka.broker import EmbeddedBroker
from streams.team.oidc import LOGIN_TICKET_COOKIE, open_ticket, seal_ticket
from tests.integration.harness import Worker, isolated_worker, running
from tests.integration.oidc_provider import (
    CLIENT_ID,
    SCOPES,
    Browser,
    OpenIdProvider,
    openid_provider,
    through_provider,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SESSION_KEY = "test-session-key-of-at-least-32-characters"  # the harness's VROEGSIGNAAL_SESSION_KEY
CENTRUM, OOST = "buurtteam-centrum", "buurtteam-oost"


@dataclass(frozen=True)
class Setup:
    worker: Worker
    provider: OpenIdProvider

    @property
    def callback(self) -> str:
        return self.worker.url("/team/oidc/callback")


@pytest.fixture(scope="module")
def setup(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    directory = Path(tmp_path_factory.mktemp("oidc"))
    worker = isolated_worker(broker, directory, "oidc")
    with openid_provider(
        directory, redirect_uri=worker.url("/team/oidc/callback"), logout_uri=worker.url("/team/login")
    ) as provider:
        worker.extra_env.update(
            {
                "VROEGSIGNAAL_OIDC_ISSUER": provider.issuer,
                "VROEGSIGNAAL_OIDC_CLIENT_ID": provider.client_id,
                "VROEGSIGNAAL_OIDC_CLIENT_SECRET": provider.client_secret,
                "VROEGSIGNAAL_OIDC_SCOPES": SCOPES,
            }
        )
        with running(worker, topics_first=True):
            yield Setup(worker, provider)


def _to_callback(setup: Setup, browser: Browser, account: str) -> str:
    """Start a login at the worker and go through the provider; the callback URL it sends the browser to."""
    status, location, _ = browser.request("GET", setup.worker.url("/team/oidc/login"))
    assert status == 303, status
    assert location.startswith(setup.provider.issuer), location
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["client_id"] == [CLIENT_ID]
    assert browser.cookie(LOGIN_TICKET_COOKIE)
    return through_provider(browser, location, account, setup.callback)


def _sign_in(setup: Setup, account: str) -> tuple[Browser, str]:
    """A browser signed in as the account; (browser, where the sign-in page sends it on to)."""
    browser = Browser()
    status, _, body = browser.request("GET", _to_callback(setup, browser, account))
    assert status == 200, body
    inbox = re.search(r'http-equiv="refresh" content="0; url=([^"]+)"', body)
    assert inbox, body
    return browser, inbox[1]


def test_a_member_signs_in_at_the_provider_and_lands_on_the_team_inbox(setup: Setup) -> None:
    browser, inbox = _sign_in(setup, "j.jansen")
    assert inbox == f"/team/{CENTRUM}/zaken"
    status, _, body = browser.request("GET", setup.worker.url(inbox))
    assert status == 200, body
    assert "J. Jansen" in body
    assert "Buurtteam Centrum" in body
    assert browser.cookie(LOGIN_TICKET_COOKIE) is None  # the one-time ticket is gone


def test_logout_ends_the_session_here_and_at_the_provider(setup: Setup) -> None:
    browser, inbox = _sign_in(setup, "j.jansen")
    origin = {"Origin": setup.worker.url("")}
    status, location, _ = browser.request("POST", setup.worker.url("/team/oidc/logout"), headers=origin)
    assert status == 303
    assert location.startswith(f"{setup.provider.issuer}/session/end?"), location
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["post_logout_redirect_uri"] == [
        setup.worker.url("/team/login")
    ]
    status, location, _ = browser.request("GET", setup.worker.url(inbox))
    assert (status, location) == (303, "/team/login")


def test_a_member_of_another_team_cannot_read_this_team(setup: Setup) -> None:
    browser, inbox = _sign_in(setup, "o.oost")
    assert inbox == f"/team/{OOST}/zaken"
    status, _, body = browser.request("GET", setup.worker.url(f"/team/{CENTRUM}/zaken"))
    assert status == 403, body


def test_an_account_of_no_known_team_gets_no_session(setup: Setup) -> None:
    browser = Browser()
    status, _, body = browser.request("GET", _to_callback(setup, browser, "x.elders"))
    assert status == 403
    assert "hoort bij geen team" in body
    assert browser.cookie("vs_team_session") is None


def test_an_expired_session_sends_the_member_back_to_login(setup: Setup) -> None:
    browser, inbox = _sign_in(setup, "j.jansen")
    database = setup.worker.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:  # the session's end, as 8 hours later
        conn.execute("UPDATE team_sessions SET expires_at = '2020-01-01 00:00:00.000000'")
    status, location, _ = browser.request("GET", setup.worker.url(inbox))
    assert (status, location) == (303, "/team/login")


def test_a_tampered_state_is_refused(setup: Setup) -> None:
    browser = Browser()
    callback = _to_callback(setup, browser, "j.jansen")
    tampered = re.sub(r"state=[^&]+", "state=someone-elses-state", callback)
    status, _, body = browser.request("GET", tampered)
    assert status == 400, body
    assert browser.cookie("vs_team_session") is None


def test_a_login_ticket_with_another_nonce_is_refused(setup: Setup) -> None:
    """The ID token names the nonce of the login it answers; a ticket re-signed with another one fails."""
    browser = Browser()
    callback = _to_callback(setup, browser, "j.jansen")
    ticket = open_ticket(browser.cookie(LOGIN_TICKET_COOKIE) or "", (SESSION_KEY.encode(),), time.time())
    assert ticket is not None
    forged = type(ticket)(ticket.state, "another-nonce", ticket.verifier, ticket.team, ticket.expires_at)
    browser.set_cookie(LOGIN_TICKET_COOKIE, seal_ticket(forged, SESSION_KEY.encode()), "/team/oidc")
    status, _, body = browser.request("GET", callback)
    assert status == 401, body
    assert "ID-token" in body
    assert browser.cookie("vs_team_session") is None
