"""Done-when of issue 9 in a real browser: a team logs in, sees only its households, records a contact
attempt and an outcome, and the next CBS report holds that case."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.kafka.broker import EmbeddedBroker
from connectors.readmodel import ReadModel
from tests.ddas import ddas_errors
from tests.integration.browser import chromium, full_page_screenshot, png_size
from tests.integration.runs import Run, run_demo_history
from tests.integration.team_client import DEMO_TOKENS, call

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

TEAM = "buurtteam-centrum"
HOUSEHOLD = "1011AB-1"  # rent + energy arrears in the demo history, routed to Buurtteam Centrum


@pytest.fixture(scope="module")
def run(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    data_dir = Path(tmp_path_factory.mktemp("browser"))
    done = run_demo_history(broker, data_dir, f"sqlite:///{data_dir / 'read.db'}", keep_running=True)
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
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(
        driver, 15, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)
    )
    wait.until(lambda d: text in d.find_element(By.TAG_NAME, "body").text)
    return str(driver.find_element(By.TAG_NAME, "main").text)


def _login(driver: Any, run: Run) -> None:
    from selenium.webdriver.common.by import By

    driver.get(run.worker.url(f"/team/{TEAM}/zaken"))  # without a session a page sends you to log in
    assert driver.current_url.endswith("/team/login")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "nl"
    driver.find_element(By.ID, "token").send_keys(DEMO_TOKENS[TEAM])
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    _wait_for_text(driver, "Werklijst")


def _record_attempt_and_outcome(driver: Any, today: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, "soort")).select_by_visible_text("Telefoon")
    driver.find_element(By.CSS_SELECTOR, "input[name=bereikt][value=ja]").click()
    # Typing into a date field depends on the browser's locale; the test sets the value instead.
    driver.execute_script("document.getElementById('datum').value = arguments[0]", today)
    Select(driver.find_element(By.ID, "dagdeel")).select_by_visible_text("Ochtend")
    driver.find_element(By.XPATH, "//button[text()='Contactpoging vastleggen']").click()
    body = _wait_for_text(driver, "De contactpoging is vastgelegd.")
    assert "Telefoon" in body
    Select(driver.find_element(By.ID, "resultaat-keuze")).select_by_visible_text(
        "(Budget)advies en/of quick fix"
    )
    driver.execute_script("document.getElementById('resultaat-datum').value = arguments[0]", today)
    driver.find_element(By.XPATH, "//button[text()='Eindresultaat vastleggen']").click()
    body = _wait_for_text(driver, "Het eindresultaat is vastgelegd.")
    assert "(Budget)advies en/of quick fix" in body, body


def test_a_team_logs_in_sees_its_households_and_records_an_attempt_and_an_outcome(
    run: Run, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from selenium.webdriver.common.by import By

    own = _households(run, TEAM)
    others = set().union(*(_households(run, t) for t in DEMO_TOKENS if t != TEAM))
    assert HOUSEHOLD in own, (own, others)
    assert others, (own, others)
    shots = Path(request.config.getoption("--basetemp") or tmp_path)
    with chromium() as driver:
        _login(driver, run)
        assert driver.current_url.endswith(f"/team/{TEAM}/zaken")
        inbox = driver.find_element(By.TAG_NAME, "main").text
        assert "Werklijst Buurtteam Centrum" in inbox
        assert "Zeer dringend" in inbox
        assert all(key in inbox for key in own)
        assert not any(key in inbox for key in others), "another team's household is on this inbox"
        _assert_screenshot(driver, tmp_path / "inbox.png", 1000)
        driver.find_element(By.PARTIAL_LINK_TEXT, HOUSEHOLD).click()
        _wait_for_text(driver, "Integraal schuldenoverzicht")
        case_id = driver.current_url.rsplit("/", 1)[1]
        page = driver.find_element(By.TAG_NAME, "main").text
        assert "Integraal schuldenoverzicht" in page
        assert "Woonstichting De Grachten" in page
        assert "Huurachterstand" in page
        assert "€ " in page
        driver.set_window_size(390, 844)  # a phone
        _assert_screenshot(driver, tmp_path / "case-phone.png", 360)
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        _record_attempt_and_outcome(driver, datetime.now(UTC).date().isoformat())
        _assert_screenshot(driver, tmp_path / "case-closed.png", 360)
    assert case_id not in _case_ids(run, TEAM)  # the closed case left the inbox
    _keep_screenshots(tmp_path, shots)
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
        for png in source.glob("*.png"):
            (target / png.name).write_bytes(png.read_bytes())


def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
