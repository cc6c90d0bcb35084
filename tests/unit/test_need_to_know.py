"""Need to know: a team reads a household or case only while one is routed to it; every refusal is a 404,
and a refused read is audited with the answer given."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.readmodel.case_rows import audit_row, plan_case_batch
from schemas.cases_v1 import CASE_EVENT, OverviewViewed
from signals.access import case_read, household_read

AT = datetime(2026, 9, 3, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("routed_to", "answer"),
    [
        ({"centrum"}, 200),  # a case or signal routed to the team
        ({"oost", "centrum"}, 200),  # signalled to two teams over time: both see it while kept
        (set(), 404),  # in the team's area but never signalled (paid within the free term)
        ({"oost"}, 404),  # signalled to another team: not even its existence is told
    ],
)
def test_a_team_reads_a_household_only_while_it_has_a_case_or_signal_routed_to_it(
    routed_to: set[str], answer: int
) -> None:
    assert household_read("centrum", routed_to) == answer


def test_another_teams_case_answers_as_an_unknown_one() -> None:
    assert case_read("centrum", "centrum") == 200
    assert case_read("centrum", "oost") == case_read("centrum", None) == 404


def _viewed(status: int, event_id: str = "view-1") -> OverviewViewed:
    return OverviewViewed.model_validate(
        {
            "event_id": event_id,
            "household_key": "1011AB-1",
            "actor": "centrum-01",
            "team_id": "centrum",
            "case_id": None,
            "occurred_at": AT,
            "status": status,
        }
    )


def test_a_refused_read_is_audited_with_its_answer() -> None:
    assert audit_row(_viewed(200))["action"] == "overview_viewed"
    assert audit_row(_viewed(404))["action"] == "read_refused_404"
    assert audit_row(_viewed(403))["action"] == "read_refused_403"
    rows = plan_case_batch([_viewed(200, "view-1"), _viewed(404, "view-2")])
    assert {r["event_id"]: r["action"] for r in rows.audit.values()} == {
        "view-1": "overview_viewed",
        "view-2": "read_refused_404",
    }
    # A read is audited, never anything that would make a case of it.
    assert not rows.cases
    assert not rows.attempts


def test_a_read_audited_before_refusals_were_recorded_still_decodes_as_granted() -> None:
    old = (
        '{"type": "overview_viewed", "v": 1, "event_id": "view-0", "household_key": "1011AB-1",'
        ' "actor": "read-token", "team_id": null, "case_id": null, "occurred_at": "2026-09-01T10:00:00Z"}'
    )
    event = CASE_EVENT.validate_json(old)
    assert isinstance(event, OverviewViewed)
    assert event.status == 200
