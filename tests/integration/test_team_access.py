"""Team pages and API on a real worker: every endpoint needs a member, and a team reaches only its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.kafka.broker import EmbeddedBroker
from tests.integration.runs import Run, run_demo_history
from tests.integration.team_client import DEMO_TOKENS, call, login_cookie

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


@dataclass(frozen=True)
class Teams:
    """Two teams that each have an open case in the demo history, and what they own."""

    run: Run
    own_team: str
    own_case: dict[str, Any]
    other_team: str
    other_case: dict[str, Any]

    @property
    def own_token(self) -> str:
        return DEMO_TOKENS[self.own_team]

    @property
    def other_token(self) -> str:
        return DEMO_TOKENS[self.other_team]


@pytest.fixture(scope="module")
def teams(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Teams]:
    data_dir = Path(tmp_path_factory.mktemp("team-access"))
    run = run_demo_history(broker, data_dir, f"sqlite:///{data_dir / 'read.db'}", keep_running=True)
    try:
        with_cases = {}
        for team, token in DEMO_TOKENS.items():
            answer = call(run.worker, "GET", f"/api/teams/{team}/cases", token=token)
            assert answer.status == 200, answer
            if answer.body["cases"]:
                with_cases[team] = answer.body["cases"][0]
        assert len(with_cases) >= 2, with_cases
        (own, own_case), (other, other_case) = sorted(with_cases.items())[:2]
        yield Teams(run, own, own_case, other, other_case)
    finally:
        run.worker.stop()


def _endpoints(t: Teams, case: dict[str, Any], team: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, body) of every team endpoint that names a team, case or household."""
    cid, key = case["case_id"], case["household_key"]
    sid = case["signals"][0]["signal_id"]
    today = datetime.now(UTC).date().isoformat()
    attempt = {"soort": "Telefoon", "bereikt": "nee", "datum": today, "dagdeel": "Ochtend"}
    return [
        ("GET", f"/api/teams/{team}/cases", {}),
        ("GET", f"/api/cases/{cid}", {}),
        ("GET", f"/api/households/{key}", {}),
        ("POST", f"/api/cases/{cid}/contact-attempts", attempt),
        ("POST", f"/api/cases/{cid}/outcome", {"resultaat": "Niet opgepakt: andere reden"}),
        ("POST", f"/api/cases/{cid}/signals/{sid}/status", {"status": "Opgepakt"}),
        ("GET", f"/team/{team}/zaken", {}),
        ("GET", f"/zaken/{cid}", {}),
        ("POST", f"/zaken/{cid}/contactpogingen", attempt),
        ("POST", f"/zaken/{cid}/resultaat", {"resultaat": "Niet opgepakt: andere reden", "datum": today}),
        ("POST", f"/zaken/{cid}/signalen/{sid}/status", {"status": "Opgepakt"}),
    ]


def _send(t: Teams, method: str, path: str, body: dict[str, Any], **auth: Any) -> Any:
    if path.startswith("/api/"):
        return call(t.run.worker, method, path, json_body=body if method == "POST" else None, **auth)
    return call(t.run.worker, method, path, form=body if method == "POST" else None, **auth)


def test_every_endpoint_refuses_a_request_without_a_member(teams: Teams) -> None:
    for method, path, body in _endpoints(teams, teams.own_case, teams.own_team):
        answer = _send(teams, method, path, body)
        if path.startswith("/api/"):
            assert answer.status == 401, (method, path, answer)
        else:
            assert (answer.status, answer.location) == (303, "/team/login"), (method, path, answer)
        bad = _send(teams, method, path, body, token="not-a-member-token")
        assert bad.status in (401, 303), (method, path, bad)


def test_every_endpoint_answers_403_for_another_teams_case_household_or_inbox(teams: Teams) -> None:
    for method, path, body in _endpoints(teams, teams.other_case, teams.other_team):
        by_bearer = _send(teams, method, path, body, token=teams.own_token)
        assert by_bearer.status == 403, (method, path, by_bearer)
    cookie, _ = login_cookie(teams.run.worker, teams.own_token)
    for method, path, body in _endpoints(teams, teams.other_case, teams.other_team):
        if not path.startswith("/api/"):
            by_session = _send(teams, method, path, body, cookie=cookie)
            assert by_session.status == 403, (method, path, by_session)
    # Nothing was recorded for the other team's case: its page shows no attempt and no outcome.
    seen = call(teams.run.worker, "GET", f"/api/cases/{teams.other_case['case_id']}", token=teams.other_token)
    assert seen.status == 200
    assert seen.body["contact_attempts"] == []
    assert seen.body["outcome"] is None


def test_the_api_takes_no_session_cookie(teams: Teams) -> None:
    cookie, _ = login_cookie(teams.run.worker, teams.own_token)
    answer = call(teams.run.worker, "GET", f"/api/teams/{teams.own_team}/cases", cookie=cookie)
    assert answer.status == 401


def test_an_unknown_case_is_404_and_a_bad_form_400(teams: Teams) -> None:
    w, token = teams.run.worker, teams.own_token
    assert call(w, "GET", "/api/cases/case-does-not-exist", token=token).status == 404
    cid = teams.own_case["case_id"]
    bad = call(w, "POST", f"/api/cases/{cid}/contact-attempts", token=token, json_body={"soort": "Duif"})
    assert bad.status == 400
    assert bad.body["field"] == "soort"


def test_login_sets_an_httponly_samesite_strict_signed_session(teams: Teams) -> None:
    w = teams.run.worker
    assert call(w, "POST", "/team/login", form={"token": "wrong"}).status == 401
    cookie, set_cookie = login_cookie(w, teams.own_token)
    assert "HttpOnly" in set_cookie
    assert "SameSite=Strict" in set_cookie
    inbox = call(w, "GET", "/team", cookie=cookie)
    assert (inbox.status, inbox.location) == (303, f"/team/{teams.own_team}/zaken")
    page = call(w, "GET", f"/team/{teams.own_team}/zaken", cookie=cookie)
    assert page.status == 200
    assert '<html lang="nl">' in page.body
    assert teams.own_case["household_key"] in page.body
    assert teams.other_case["household_key"] not in page.body
    forged = cookie[:-3] + ("AAA" if not cookie.endswith("AAA") else "BBB")
    assert call(w, "GET", f"/team/{teams.own_team}/zaken", cookie=forged).status == 303


def test_a_cross_site_form_post_with_the_session_is_refused(teams: Teams) -> None:
    cookie, _ = login_cookie(teams.run.worker, teams.own_token)
    cid = teams.own_case["case_id"]
    answer = call(
        teams.run.worker,
        "POST",
        f"/zaken/{cid}/contactpogingen",
        form={"soort": "Brief", "bereikt": "nee", "datum": datetime.now(UTC).date().isoformat()},
        cookie=cookie,
        headers={"Origin": "https://elders.example"},
    )
    assert answer.status == 403
