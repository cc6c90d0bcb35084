"""Team pages and API on a real worker: every endpoint needs a member, and a team reaches only its own."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.kafka.broker import EmbeddedBroker
from tests.integration.runs import Run, run_demo_history
from tests.integration.team_client import DEMO_TOKENS, call, login_cookie

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

# The demo members (connectors/data/teams-sample.toml) and the harness's operator read token.
MEMBER_IDS = {
    "buurtteam-centrum": "centrum-01",
    "buurtteam-oost": "oost-01",
    "buurtteam-zuidoost": "zuidoost-01",
    "schuldhulp-centraal": "centraal-01",
}
READ_TOKEN = "test-read-token"


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
            answer = call(run.worker, "GET", f"/v1/teams/{team}/cases", token=token)
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
        ("GET", f"/v1/teams/{team}/cases", {}),
        ("GET", f"/v1/cases/{cid}", {}),
        ("GET", f"/v1/households/{key}", {}),
        ("POST", f"/v1/cases/{cid}/contact-attempts", attempt),
        ("POST", f"/v1/cases/{cid}/outcome", {"resultaat": "Niet opgepakt: andere reden"}),
        ("POST", f"/v1/cases/{cid}/signals/{sid}/status", {"status": "Opgepakt"}),
        ("GET", f"/team/{team}/zaken", {}),
        ("GET", f"/zaken/{cid}", {}),
        ("POST", f"/zaken/{cid}/contactpogingen", attempt),
        ("POST", f"/zaken/{cid}/resultaat", {"resultaat": "Niet opgepakt: andere reden", "datum": today}),
        ("POST", f"/zaken/{cid}/signalen/{sid}/status", {"status": "Opgepakt"}),
    ]


def _send(t: Teams, method: str, path: str, body: dict[str, Any], **auth: Any) -> Any:
    if path.startswith("/v1/"):
        return call(t.run.worker, method, path, json_body=body if method == "POST" else None, **auth)
    return call(t.run.worker, method, path, form=body if method == "POST" else None, **auth)


def test_every_endpoint_refuses_a_request_without_a_member(teams: Teams) -> None:
    for method, path, body in _endpoints(teams, teams.own_case, teams.own_team):
        answer = _send(teams, method, path, body)
        if path.startswith("/v1/"):
            assert answer.status == 401, (method, path, answer)
        else:
            assert (answer.status, answer.location) == (303, "/team/login"), (method, path, answer)
        bad = _send(teams, method, path, body, token="not-a-member-token")
        assert bad.status in (401, 303), (method, path, bad)


def _refusal(path: str) -> int:
    """Another team's inbox is 403 (teams are no secret); its cases and households do not exist (404)."""
    return 403 if path.startswith(("/v1/teams/", "/team/")) else 404


def test_another_teams_inbox_answers_403_and_its_cases_and_households_404(teams: Teams) -> None:
    for method, path, body in _endpoints(teams, teams.other_case, teams.other_team):
        by_bearer = _send(teams, method, path, body, token=teams.own_token)
        assert by_bearer.status == _refusal(path), (method, path, by_bearer)
    cookie, _ = login_cookie(teams.run.worker, teams.own_token)
    for method, path, body in _endpoints(teams, teams.other_case, teams.other_team):
        if not path.startswith("/v1/"):
            by_session = _send(teams, method, path, body, cookie=cookie)
            assert by_session.status == _refusal(path), (method, path, by_session)
    # The answer is the one for a case that does not exist: it does not tell that the case does.
    w, token = teams.run.worker, teams.own_token
    other = call(w, "GET", f"/v1/cases/{teams.other_case['case_id']}", token=token)
    unknown = call(w, "GET", "/v1/cases/case-does-not-exist", token=token)
    assert (other.status, other.body) == (unknown.status, unknown.body)
    # Nothing was recorded for the other team's case: its page shows no attempt and no outcome.
    seen = call(teams.run.worker, "GET", f"/v1/cases/{teams.other_case['case_id']}", token=teams.other_token)
    assert seen.status == 200
    assert seen.body["contact_attempts"] == []
    assert seen.body["outcome"] is None


def test_the_api_takes_no_session_cookie(teams: Teams) -> None:
    cookie, _ = login_cookie(teams.run.worker, teams.own_token)
    answer = call(teams.run.worker, "GET", f"/v1/teams/{teams.own_team}/cases", cookie=cookie)
    assert answer.status == 401


def test_an_unknown_case_is_404_and_a_bad_form_400(teams: Teams) -> None:
    w, token = teams.run.worker, teams.own_token
    assert call(w, "GET", "/v1/cases/case-does-not-exist", token=token).status == 404
    cid = teams.own_case["case_id"]
    bad = call(w, "POST", f"/v1/cases/{cid}/contact-attempts", token=token, json_body={"soort": "Duif"})
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


def _never_signalled(run: Run, team: str) -> list[str]:
    """Households of the team's area in the read model (routed by address) with no case or signal."""
    with sqlite3.connect(run.database_url.removeprefix("sqlite:///")) as db:
        rows = db.execute(
            "SELECT household_key FROM households WHERE team_id = ? AND household_key NOT IN "
            "(SELECT household_key FROM cases UNION SELECT household_key FROM signals) ORDER BY household_key",
            (team,),
        ).fetchall()
    return [key for (key,) in rows]


AuditRow = tuple[str, str, str | None]


def _audit(run: Run, household_key: str, until: Callable[[list[AuditRow]], bool]) -> list[AuditRow]:
    """(actor, action, team) of the audit rows of a household, once `until` holds (the case sink is async)."""
    deadline = time.monotonic() + 15
    while True:
        with sqlite3.connect(run.database_url.removeprefix("sqlite:///")) as db:
            rows = db.execute(
                "SELECT actor, action, team_id FROM audit_log WHERE household_key = ? ORDER BY occurred_at",
                (household_key,),
            ).fetchall()
        found = [(a, b, c) for a, b, c in rows]
        if until(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _has(row: AuditRow, times: int = 1) -> Callable[[list[AuditRow]], bool]:
    return lambda rows: rows.count(row) >= times


def test_a_household_of_the_teams_area_that_was_never_signalled_is_not_found(teams: Teams) -> None:
    w = teams.run.worker
    quiet = _never_signalled(teams.run, teams.own_team)
    assert quiet, "the demo history has households that paid within the free reminder's term"
    token = teams.own_token
    own = call(w, "GET", f"/v1/households/{teams.own_case['household_key']}", token=token)
    assert own.status == 200  # a household with a case of the team: shown
    unknown = call(w, "GET", "/v1/households/9999ZZ-1", token=token)
    for key in quiet:
        answer = call(w, "GET", f"/v1/households/{key}", token=token)
        # The same answer as for an address that is nowhere in the read model.
        assert (answer.status, answer.body) == (unknown.status, unknown.body) == (404, unknown.body), key


def test_refused_reads_are_audited_like_granted_ones(teams: Teams) -> None:
    w, member, team = teams.run.worker, MEMBER_IDS[teams.own_team], teams.own_team
    quiet = _never_signalled(teams.run, team)[0]
    assert call(w, "GET", f"/v1/households/{quiet}", token=teams.own_token).status == 404
    refused = (member, "read_refused_404", team)
    assert refused in _audit(teams.run, quiet, _has(refused))
    # Another team's case, by the API and by the page: refused and audited with that case's household.
    other_key = teams.other_case["household_key"]
    before = _audit(teams.run, other_key, lambda rows: True).count(refused)
    for path in (f"/v1/cases/{teams.other_case['case_id']}", f"/zaken/{teams.other_case['case_id']}"):
        assert call(w, "GET", path, token=teams.own_token).status == 404
    assert _audit(teams.run, other_key, _has(refused, before + 2)).count(refused) == before + 2
    # The operators' read API audits its refusals too (an address nowhere in the read model).
    assert call(w, "GET", "/households/9999ZZ-2", token=READ_TOKEN).status == 404
    by_operator = ("read-token", "read_refused_404", None)
    assert by_operator in _audit(teams.run, "9999ZZ-2", _has(by_operator))
    own_key = teams.own_case["household_key"]
    assert call(w, "GET", f"/v1/households/{own_key}", token=teams.own_token).status == 200
    granted = (member, "overview_viewed", team)
    assert granted in _audit(teams.run, own_key, _has(granted))
