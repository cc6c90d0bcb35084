"""Done-when of issues 9 and 19 in a real browser: a team logs in, sees only its households, the case
page with whom to contact, where to pay and what happened, records a contact attempt (first with a
mistake the form shows in Dutch, then corrected) and an outcome, and the next CBS report holds that
case. Every page type passes axe-core's WCAG 2.1 A/AA rules, without a CSP refusal; one browser.
Screenshots at phone and desktop width go to $VS_SCREENSHOTS (or pytest's --basetemp) to be looked at."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors.kafka.broker import EmbeddedBroker
from connectors.readmodel import ReadModel
from tests.ddas import ddas_errors
from tests.integration.browser import axe_violations, chromium, csp_refusals, full_page_screenshot, png_size
from tests.integration.runs import Run, run_demo_history
from tests.integration.team_client import DEMO_TOKENS, call

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

TEAM = "buurtteam-centrum"
HOUSEHOLD = "1011AB-1"  # rent + energy arrears in the demo history, routed to Buurtteam Centrum
THEME_HEADER = "#00578a"  # the theme's header colour: white text on it is 7.6:1


@pytest.fixture(scope="module")
def run(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    data_dir = Path(tmp_path_factory.mktemp("browser"))
    # A municipality's house style: NL Design System tokens in a theme file, served after the stylesheet.
    theme = data_dir / "huisstijl.css"
    theme.write_text(f":root{{--utrecht-page-header-background-color:{THEME_HEADER}}}\n", encoding="utf-8")
    done = run_demo_history(
        broker,
        data_dir,
        f"sqlite:///{data_dir / 'read.db'}",
        keep_running=True,
        extra_env={"VROEGSIGNAAL_TEAM_THEME_FILE": str(theme)},
    )
    yield done
    done.worker.stop()


def _households(run: Run, team: str) -> set[str]:
    answer = call(run.worker, "GET", f"/v1/teams/{team}/cases", token=DEMO_TOKENS[team])
    return {c["household_key"] for c in answer.body["cases"]}


def _assert_screenshot(driver: Any, path: Path, min_width: int) -> None:
    full_page_screenshot(driver, path)
    width, height = png_size(path)
    assert width >= min_width, (width, height)
    assert height >= 400, (width, height)
    assert path.stat().st_size > 10_000, "the screenshot is (nearly) blank"


def _wait_for_text(driver: Any, text: str) -> str:
    """The page's main text once it shows `text` (a form post redirects; the click does not wait)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # While the next page loads the old body may vanish under the driver (stale, or "node does not
    # belong to the document"): try again.
    wait = WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,))
    wait.until(lambda d: text in d.find_element(By.TAG_NAME, "body").text)
    return str(driver.find_element(By.TAG_NAME, "main").text)


class Checks:
    """What every page type must pass: axe-core's WCAG 2.1 A/AA rules, no CSP refusal, keyboard-reachable
    scroll areas, unique labels. Records the page types checked and the seconds axe took."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self.pages: list[str] = []
        self.axe_s = 0.0

    def page(self, kind: str) -> None:
        started = time.monotonic()
        violations = axe_violations(self.driver)
        self.axe_s += time.monotonic() - started
        assert violations == [], f"{kind}: WCAG 2.1 AA violations:\n" + "\n".join(violations)
        assert csp_refusals(self.driver) == [], kind
        # Every element that scrolls is reachable by keyboard and named (WCAG 2.1.1, 4.1.2).
        unreachable = self.driver.execute_script(
            """
            return [...document.querySelectorAll('body *')].filter(el => {
              const s = getComputedStyle(el);
              const scrolls = (/(auto|scroll)/.test(s.overflowX) && el.scrollWidth > el.clientWidth + 1)
                           || (/(auto|scroll)/.test(s.overflowY) && el.scrollHeight > el.clientHeight + 1);
              return scrolls && !(el.tabIndex === 0 && el.getAttribute('role') === 'region'
                                  && (el.hasAttribute('aria-label') || el.hasAttribute('aria-labelledby')));
            }).map(el => el.outerHTML.slice(0, 120));
            """
        )
        assert unreachable == [], f"{kind}: a scrolling area the keyboard cannot reach: {unreachable}"
        labels = self.driver.execute_script(
            "return [...document.querySelectorAll('label')].map(l => l.textContent.trim())"
        )
        assert len(labels) == len(set(labels)), f"{kind}: labels used twice: {labels}"
        self.pages.append(kind)


def _keyboard_focus_ring(driver: Any) -> None:
    """Tab from the top: the skip link gets focus and shows the two-tone ring (outline + inner ring)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).send_keys(Keys.TAB).perform()
    focused = driver.execute_script(
        """
        const el = document.activeElement, s = getComputedStyle(el);
        return [el.className, s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow];
        """
    )
    assert focused[0] == "skip", focused
    assert focused[1] == "solid", focused
    assert focused[2] == "3px", focused
    assert focused[3] == "rgb(26, 26, 26)", focused  # the dark tone
    assert "rgb(255, 255, 255)" in focused[4], focused  # the light tone


def _login(driver: Any, run: Run, checks: Checks) -> None:
    from selenium.webdriver.common.by import By

    driver.get(run.worker.url(f"/team/{TEAM}/zaken"))  # without a session a page sends you to log in
    assert driver.current_url.endswith("/team/login")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "nl"
    checks.page("login")
    header = driver.execute_script(
        "return getComputedStyle(document.querySelector('.site-header')).backgroundColor"
    )
    assert header == "rgb(0, 87, 138)", "the municipality's theme did not apply"
    _keyboard_focus_ring(driver)
    driver.find_element(By.ID, "token").send_keys(DEMO_TOKENS[TEAM])
    driver.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    _wait_for_text(driver, "Werklijst")


def _attempt_with_a_mistake_then_corrected(driver: Any, checks: Checks, shots: Path) -> None:
    """The contact attempt form sent without its kind: the same page comes back with the mistake,
    in Dutch, at the field, and what was typed is still there; corrected, it is recorded."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    assert driver.find_element(By.ID, "datum").get_attribute("value") == _today_amsterdam()
    driver.find_element(By.CSS_SELECTOR, "input[name=bereikt][value=ja]").click()
    Select(driver.find_element(By.ID, "dagdeel")).select_by_visible_text("Ochtend")
    driver.find_element(By.XPATH, "//button[text()='Contactpoging vastleggen']").click()
    _wait_for_text(driver, "Er is iets niet goed ingevuld")
    summary = driver.find_element(By.CSS_SELECTOR, ".error-summary").text
    assert "Kies hoe u contact hebt gezocht (soort contact)." in summary
    assert "'soort'" not in driver.find_element(By.TAG_NAME, "body").text
    soort = driver.find_element(By.ID, "soort")
    assert soort.get_attribute("aria-invalid") == "true"
    assert soort.get_attribute("aria-describedby") == "soort-fout"
    assert driver.find_element(By.ID, "soort-fout").text.endswith(
        "Kies hoe u contact hebt gezocht (soort contact)."
    )
    assert driver.find_element(By.CSS_SELECTOR, "input[name=bereikt][value=ja]").is_selected()
    assert Select(driver.find_element(By.ID, "dagdeel")).first_selected_option.text == "Ochtend"
    assert driver.title.startswith("Fout: ")
    checks.page("form with a mistake")
    _phone(driver)
    driver.save_screenshot(str(shots / "case-error-phone-first-screen.png"))  # the summary comes first
    _assert_screenshot(driver, shots / "case-error-phone.png", 360)
    driver.find_element(By.CSS_SELECTOR, ".error-summary a").click()  # the summary leads to the field
    assert driver.switch_to.active_element.get_attribute("id") == "soort"
    Select(driver.find_element(By.ID, "soort")).select_by_visible_text("Telefoon")
    driver.find_element(By.XPATH, "//button[text()='Contactpoging vastleggen']").click()
    body = _wait_for_text(driver, "De contactpoging is vastgelegd.")
    assert "Telefoon" in body
    assert "Contactpoging – Telefoon, bereikt" in body  # and on the timeline


def _take_plan_and_filter(driver: Any, checks: Checks, run: Run) -> None:
    """The work queue (issue 19): take the case, plan its next action for today, and find it in the inbox
    filtered on 'my cases, due today'; then back to the case."""
    from selenium.webdriver.common.by import By

    case_url = driver.current_url
    driver.find_element(By.XPATH, "//button[text()='Zaak oppakken']").click()
    body = _wait_for_text(driver, "De toewijzing is opgeslagen.")
    assert "behandelaar: Demo medewerker Centrum" in body, body
    driver.execute_script("document.getElementById('actie-datum').value = arguments[0]", _today_amsterdam())
    driver.find_element(By.XPATH, "//button[text()='Volgende actie opslaan']").click()
    _wait_for_text(driver, "De volgende actie is opgeslagen.")
    checks.page("case taken, next action planned")
    driver.get(run.worker.url(f"/team/{TEAM}/zaken?behandelaar=mij&actie=vandaag"))
    inbox = _wait_for_text(driver, "Actie vandaag: 1")
    assert "1 open zaak." in inbox, inbox
    assert HOUSEHOLD in inbox, inbox
    assert "nu aan de beurt" in inbox, inbox
    checks.page("inbox filtered")
    driver.get(case_url)
    _wait_for_text(driver, "Integraal schuldenoverzicht")


def _record_outcome(driver: Any, today: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, "resultaat-keuze")).select_by_visible_text(
        "(Budget)advies en/of quick fix"
    )
    driver.execute_script("document.getElementById('resultaat-datum').value = arguments[0]", today)
    driver.find_element(By.XPATH, "//button[text()='Eindresultaat vastleggen']").click()
    body = _wait_for_text(driver, "Het eindresultaat is vastgelegd.")
    assert "(Budget)advies en/of quick fix" in body, body


def _shows_contact_and_context(page: str) -> None:
    """The case page says whom to contact, where to arrange payment and what happened when."""
    assert "Woonstichting De Grachten" in page
    assert "Huurachterstand" in page
    assert "€ " in page
    assert "Contactgegevens" in page
    assert "J. de Vries" in page
    assert "vries@example.org" in page  # the demo's debtors have an e-mail address, no phone
    assert "020 000 12 34" in page  # the (fictional) creditor directory of the demo
    assert "Vroegsignaal" in page
    assert "Gratis herinnering van Woonstichting De Grachten" in page


def _today_amsterdam() -> str:
    return datetime.now(ZoneInfo("Europe/Amsterdam")).date().isoformat()


def _desktop(driver: Any) -> None:
    driver.set_window_size(1280, 900)


def _phone(driver: Any) -> None:
    driver.set_window_size(390, 844)
    wider = driver.execute_script(
        """
        return [...document.querySelectorAll('body *')]
          .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1 && !el.closest('.scroll'))
          .map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right)
                     + ' ' + (el.textContent || '').trim().slice(0, 40));
        """
    )
    assert wider == [], f"the page scrolls sideways on a phone: {wider}"


def test_a_team_logs_in_sees_its_households_and_records_an_attempt_and_an_outcome(
    run: Run, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from selenium.webdriver.common.by import By

    own = _households(run, TEAM)
    others = set().union(*(_households(run, t) for t in DEMO_TOKENS if t != TEAM))
    assert HOUSEHOLD in own, (own, others)
    assert others, (own, others)
    shots = Path(os.environ.get("VS_SCREENSHOTS") or request.config.getoption("--basetemp") or tmp_path)
    started = time.monotonic()
    with chromium() as driver:
        checks = Checks(driver)
        _login(driver, run, checks)
        assert driver.current_url.endswith(f"/team/{TEAM}/zaken")
        inbox = driver.find_element(By.TAG_NAME, "main").text
        assert "Werklijst Buurtteam Centrum" in inbox
        assert "Zeer dringend" in inbox
        assert all(key in inbox for key in own)
        assert not any(key in inbox for key in others), "another team's household is on this inbox"
        checks.page("inbox")
        _assert_screenshot(driver, tmp_path / "inbox-desktop.png", 1000)
        _phone(driver)
        driver.save_screenshot(str(tmp_path / "inbox-phone-first-screen.png"))
        _assert_screenshot(driver, tmp_path / "inbox-phone.png", 360)
        _desktop(driver)
        driver.find_element(By.PARTIAL_LINK_TEXT, HOUSEHOLD).click()
        _wait_for_text(driver, "Integraal schuldenoverzicht")
        case_id = driver.current_url.rsplit("/", 1)[1]
        _shows_contact_and_context(driver.find_element(By.TAG_NAME, "main").text)
        checks.page("case")
        _assert_screenshot(driver, tmp_path / "case-desktop.png", 1000)
        _phone(driver)
        driver.save_screenshot(str(tmp_path / "case-phone-first-screen.png"))
        _assert_screenshot(driver, tmp_path / "case-phone.png", 360)
        _take_plan_and_filter(driver, checks, run)
        _attempt_with_a_mistake_then_corrected(driver, checks, tmp_path)
        _record_outcome(driver, _today_amsterdam())
        checks.page("case with its outcome")
        _desktop(driver)
        driver.get(run.worker.url("/zaken/case-does-not-exist"))
        assert "Deze zaak bestaat niet." in driver.find_element(By.TAG_NAME, "main").text
        checks.page("error")
        driver.find_element(By.LINK_TEXT, "Toegankelijkheidsverklaring").click()
        _wait_for_text(driver, "WCAG 2.1")
        checks.page("accessibility statement")
    print(
        f"browser: {time.monotonic() - started:.1f} s for {len(checks.pages)} page types, axe {checks.axe_s:.1f} s"
    )
    assert case_id not in _case_ids(run, TEAM)  # the closed case left the inbox
    _keep_screenshots(tmp_path, shots)
    _assert_reported(run, case_id, tmp_path)


def _assert_reported(run: Run, case_id: str, tmp_path: Path) -> None:
    """The next CBS report holds the case with its one contact attempt and its outcome."""
    case = call(run.worker, "GET", f"/v1/cases/{case_id}", token=DEMO_TOKENS[TEAM]).body
    document = _report(run, tmp_path / "cbs.json", case["period_start"], case["period_end"])
    assert ddas_errors(document) == []
    zaken = document["leveringen"][0]["vroegsignaalzaken"]
    mine = [z for z in zaken if z.get("resultaat") == "(Budget)advies en/of quick fix"]
    assert len(mine) == 1, zaken
    assert [(c["soort"], c["bereikt"], c["dagdeel"]) for c in mine[0]["contactpogingen"]] == [
        ("Telefoon", True, "Ochtend")
    ]
    assert mine[0]["startdatumMatchingperiode"] == case["period_start"]
    ids = {v["ID"] for v in mine[0]["vroegsignalen"]}
    clients = {
        (v["client"]["postcode"], v["client"]["huisnummer"])
        for v in document["leveringen"][0]["vroegsignalen"]
        if v["ID"] in ids
    }
    assert clients == {("1011AB", "1")}


def _report(run: Run, out: Path, start: str, end: str) -> dict[str, Any]:
    """`vroegsignaal report cbs` as an operator runs it, against the worker's database."""
    env = {**os.environ, "VROEGSIGNAAL_DATABASE_URL": run.database_url}
    args = ["report", "cbs", "--gemeente", "GM0363", "--from", start, "--to", end, "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "vroegsignaalzaken" in done.stdout
    return _json(out)


def test_report_figures_match_the_cases_in_the_database(run: Run, tmp_path: Path) -> None:
    document = _report(run, tmp_path / "all.json", "2026-01-01", "2026-12-31")
    assert ddas_errors(document) == []
    levering = document["leveringen"][0]
    expected = asyncio.run(_database_figures(run.database_url))
    zaken = levering["vroegsignaalzaken"]
    assert len(zaken) == expected["cases"]
    assert len(levering["vroegsignalen"]) == expected["ddas_signals"]
    assert sum(len(z["contactpogingen"]) for z in zaken) == expected["attempts"]
    assert sorted(z["resultaat"] for z in zaken if "resultaat" in z) == expected["outcomes"]
    assert {v["ID"] for v in levering["vroegsignalen"]} == {
        s["ID"] for z in zaken for s in z["vroegsignalen"]
    }


async def _database_figures(url: str) -> dict[str, Any]:
    """The same figures straight from the tables (gemeente GM0363, all of 2026)."""
    from sqlalchemy import text

    read_model = await ReadModel.open(url)
    try:
        async with read_model.engine.connect() as conn:
            one = lambda sql: conn.execute(text(sql))  # noqa: E731
            cases = (await one("SELECT count(*) FROM cases WHERE gemeente_code = 'GM0363'")).scalar_one()
            attempts = (
                await one(
                    "SELECT count(*) FROM contact_attempts a JOIN cases c USING (case_id) WHERE c.gemeente_code = 'GM0363'"
                )
            ).scalar_one()
            outcomes = sorted(
                (
                    await one(
                        "SELECT o.resultaat FROM case_outcomes o JOIN cases c USING (case_id) WHERE c.gemeente_code = 'GM0363'"
                    )
                ).scalars()
            )
            debts = (
                await one(
                    "SELECT s.debts FROM signals s JOIN signal_status l USING (signal_id) JOIN cases c ON c.case_id = l.case_id WHERE c.gemeente_code = 'GM0363'"
                )
            ).scalars()
            worthy = sum(
                max(1, sum(1 for d in (json.loads(x) if isinstance(x, str) else x) if d["signal_worthy"]))
                for x in debts
            )
    finally:
        await read_model.close()
    return {"cases": cases, "attempts": attempts, "outcomes": outcomes, "ddas_signals": worthy}


def _case_ids(run: Run, team: str) -> set[str]:
    answer = call(run.worker, "GET", f"/v1/teams/{team}/cases", token=DEMO_TOKENS[team])
    return {c["case_id"] for c in answer.body["cases"]}


def _keep_screenshots(source: Path, target: Path) -> None:
    """Copies for a person to look at (pytest's basetemp when given)."""
    if target != source:
        target.mkdir(parents=True, exist_ok=True)
        for png in source.glob("*.png"):
            (target / png.name).write_bytes(png.read_bytes())


def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
