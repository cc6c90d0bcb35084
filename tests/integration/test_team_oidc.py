"""Municipal sign-in for real: a worker signs members in at an OpenID provider started here (npm oidc-provider).

One provider and one worker for the module; every test drives the authorization code flow with
PKCE through the provider's login and consent pages over HTTP, as a browser would.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import sqlite3
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.kafka.broker import EmbeddedBroker
from streams.team.oidc_ticket import LOGIN_TICKET_COOKIE, open_ticket, seal_ticket
from tests.ddas import ddas_errors
from tests.integration.browser import axe_violations, chromium, csp_refusals, full_page_screenshot
from tests.integration.harness import Worker, isolated_worker, publish, running
from tests.integration.oidc_provider import (
    CLIENT_ID,
    SCOPES,
    Browser,
    OpenIdProvider,
    openid_provider,
    through_provider,
)
from tests.integration.team_client import DEMO_TOKENS, call
from tests.unit import case_examples as ex

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SESSION_KEY = "test-session-key-of-at-least-32-characters"  # the harness's VROEGSIGNAAL_SESSION_KEY
CENTRUM, OOST = "buurtteam-centrum", "buurtteam-oost"
TOKEN = DEMO_TOKENS[CENTRUM]  # a token member (medewerker) of the same team, for the API
RESULT = "(Budget)advies en/of quick fix"


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


def _to_callback(setup: Setup, browser: Browser, account: str, start: str = "/team/oidc/login") -> str:
    """Start a login at the worker and go through the provider; the callback URL it sends the browser to."""
    status, location, _ = browser.request("GET", setup.worker.url(start))
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
    status, _, login = Browser().request("GET", setup.worker.url("/team/login"))
    assert 'href="/team/oidc/login"' in login  # the login page offers the municipality's sign-in
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
    status, _, body = browser.request("POST", setup.worker.url("/team/oidc/logout"), headers=origin)
    assert status == 200, body  # a page moving on: form-action 'self' forbids a redirect to the provider
    onward = re.search(r'http-equiv="refresh" content="0; url=([^"]+)"', body)
    assert onward, body
    location = html.unescape(onward[1])
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


def test_a_member_of_two_teams_picks_one_at_login(setup: Setup) -> None:
    for start, team in (("/team/oidc/login", CENTRUM), (f"/team/oidc/login?team={OOST}", OOST)):
        browser = Browser()
        status, _, body = browser.request("GET", _to_callback(setup, browser, "m.beide", start))
        assert status == 200, body
        assert f"url=/team/{team}/zaken" in body  # without a choice the first team by id


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


@pytest.mark.parametrize(
    ("pattern", "replacement"),
    [(r"state=[^&]+", "state=someone-elses-state"), (r"iss=[^&]+", "iss=https%3A%2F%2Fidp.example.org")],
)
def test_a_tampered_state_or_issuer_is_refused(setup: Setup, pattern: str, replacement: str) -> None:
    browser = Browser()
    callback = _to_callback(setup, browser, "j.jansen")
    assert re.search(pattern, callback), callback
    status, _, body = browser.request("GET", re.sub(pattern, replacement, callback))
    assert status == 400, body
    assert browser.cookie("vs_team_session") is None


@pytest.mark.parametrize(
    ("pattern", "replacement", "message"),
    [
        (r"code=[^&]+", "code=forged-code", "niet geaccepteerd"),  # the provider refuses to exchange it
        (r"code=[^&]+", "error=access_denied", "niet toegestaan"),  # the member declined at the provider
    ],
)
def test_a_code_the_provider_did_not_give_or_a_refusal_starts_no_session(
    setup: Setup, pattern: str, replacement: str, message: str
) -> None:
    browser = Browser()
    callback = _to_callback(setup, browser, "j.jansen")
    status, _, body = browser.request("GET", re.sub(pattern, replacement, callback))
    assert status == 401, body
    assert message in body
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


@pytest.fixture(scope="module")
def worked(setup: Setup, broker: EmbeddedBroker) -> str:
    """One case of the centrum team in September 2026: its signal, a call that reached them, an outcome."""
    w = setup.worker
    sig = ex.signal("sig-oidc-report")
    asyncio.run(publish(broker, [(w.names.signals, ex.HOUSEHOLD.encode(), sig.model_dump_json().encode())]))
    deadline = time.monotonic() + 30
    while not (cases := call(w, "GET", f"/v1/teams/{CENTRUM}/cases", token=TOKEN).body.get("cases")):
        assert time.monotonic() < deadline, "the signal's case never reached the inbox"
        time.sleep(0.2)
    case_id = cases[0]["case_id"]
    attempt = {"soort": "Telefoon", "bereikt": True, "datum": "2026-09-03", "dagdeel": "Ochtend"}
    for path, body in (
        (f"/v1/cases/{case_id}/contact-attempts", attempt),
        (f"/v1/cases/{case_id}/outcome", {"resultaat": RESULT, "datum": "2026-09-04"}),
    ):
        answer = call(w, "POST", path, token=TOKEN, json_body=body)
        assert answer.status == 201, answer
    return str(case_id)


def _figures(body: str) -> dict[str, str]:
    """The overview's table: row header -> number."""
    return dict(re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', body))


def test_a_coordinator_sees_the_month_and_downloads_the_ddas_report(setup: Setup, worked: str) -> None:
    browser, inbox = _sign_in(setup, "c.coord")
    status, _, body = browser.request("GET", setup.worker.url(inbox))
    assert f'href="/team/{CENTRUM}/overzicht"' in body  # the menu item of a coordinator
    status, _, body = browser.request("GET", setup.worker.url(f"/team/{CENTRUM}/overzicht?maand=2026-09"))
    assert status == 200, body
    assert _figures(body) == {
        "Zaken": "1",
        "Signalen": "1",
        "Contactpogingen": "1",
        "Bereikt (zaken)": "1",
        f"Resultaat: {RESULT}": "1",
    }
    assert 'role="img"' in body
    assert "Zaken: 1; Signalen: 1; Contactpogingen: 1; Bereikt: 1" in body  # the chart's text alternative
    assert "style=" not in body
    assert "<script" not in body
    link = re.search(r'href="(/team/[^"]+/rapport\.json\?[^"]+)"', body)
    assert link, body
    status, _, raw = browser.request("GET", setup.worker.url(link[1].replace("&amp;", "&")))
    assert status == 200, raw
    document = json.loads(raw)
    assert ddas_errors(document) == []
    (levering,) = document["leveringen"]
    assert levering["gemeentecode"] == "0363"
    (zaak,) = levering["vroegsignaalzaken"]
    assert zaak["resultaat"] == RESULT
    assert [(c["soort"], c["bereikt"]) for c in zaak["contactpogingen"]] == [("Telefoon", True)]
    assert document["startdatumLevering"] == "2026-09-01"
    assert document["einddatumLevering"] == "2026-09-30"
    assert _audited_reads(setup, "c.coord", worked), "the report's cases were not audited as reads"


def _audited_reads(setup: Setup, actor: str, case_id: str, timeout_s: float = 15) -> bool:
    """Whether the audit log (written by the sink from the case-events topic) has the actor's read of the case."""
    database = setup.worker.database_url.removeprefix("sqlite:///")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as conn:
            query = "SELECT count(*) FROM audit_log WHERE actor = ? AND case_id = ?"
            if conn.execute(query, (actor, case_id)).fetchone()[0]:
                return True
        time.sleep(0.2)
    return False


def test_a_medewerker_and_another_team_get_no_overview(setup: Setup, worked: str) -> None:
    browser, inbox = _sign_in(setup, "j.jansen")
    status, _, body = browser.request("GET", setup.worker.url(inbox))
    assert "/overzicht" not in body
    for path in (f"/team/{CENTRUM}/overzicht", f"/team/{CENTRUM}/rapport.json?maand=2026-09&gemeente=GM0363"):
        status, _, body = browser.request("GET", setup.worker.url(path))
        assert status == 403, body
        assert call(setup.worker, "GET", path, token=TOKEN).status == 403  # a token member is a medewerker
    coordinator, _ = _sign_in(setup, "c.coord")
    status, _, _ = coordinator.request("GET", setup.worker.url(f"/team/{OOST}/overzicht"))
    assert status == 403


def test_in_a_browser_a_coordinator_signs_in_downloads_the_report_and_logs_out(
    setup: Setup, worked: str, tmp_path: Path
) -> None:
    """Headless Chromium: the SameSite cookies, the page after the callback, axe-core on the new pages."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    shots = Path(os.environ.get("VS_SCREENSHOTS", tmp_path))
    with chromium() as driver:
        wait = WebDriverWait(driver, 15)
        driver.get(setup.worker.url("/team/oidc/callback?state=x&code=y"))  # no login started here
        assert "Inloggen via de gemeente is niet gelukt" in driver.find_element(By.TAG_NAME, "h1").text
        assert axe_violations(driver) == []
        driver.get(setup.worker.url("/team/login"))
        assert axe_violations(driver) == []  # the login page with both ways in
        driver.find_element(By.LINK_TEXT, "Inloggen via de gemeente").click()
        driver.find_element(By.NAME, "login").send_keys("c.coord")
        driver.find_element(By.NAME, "password").send_keys("x")
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(lambda d: "Continue" in d.page_source)  # the provider's consent page
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(lambda d: d.current_url.endswith(f"/team/{CENTRUM}/zaken"))
        assert "C. Coördinator" in driver.find_element(By.TAG_NAME, "header").text
        driver.find_element(By.LINK_TEXT, "Overzicht").click()
        wait.until(lambda d: "/overzicht" in d.current_url)
        month = driver.find_element(By.ID, "maand")
        driver.execute_script(
            "arguments[0].value = '2026-09'", month
        )  # a month input takes no keystrokes here
        month.submit()
        wait.until(lambda d: "maand=2026-09" in d.current_url)
        assert axe_violations(driver) == []
        assert csp_refusals(driver) == []
        downloads = tmp_path / "downloads"
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        driver.find_element(By.LINK_TEXT, "DDAS-rapport GM0363, 2026-09 downloaden").click()
        report = downloads / f"ddas-{CENTRUM}-GM0363-2026-09.json"
        wait.until(lambda d: report.exists())
        assert ddas_errors(json.loads(report.read_text(encoding="utf-8"))) == []
        full_page_screenshot(driver, shots / "overzicht-desktop.png")
        driver.set_window_size(390, 844)
        full_page_screenshot(driver, shots / "overzicht-phone.png")
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        driver.find_element(By.XPATH, "//button[normalize-space()='Uitloggen']").click()
        wait.until(lambda d: d.current_url.startswith(setup.provider.issuer))  # the provider's own logout
        driver.get(setup.worker.url(f"/team/{CENTRUM}/zaken"))
        assert driver.current_url.endswith("/team/login")
