"""The work queue (issue 19): who may assign a case to whom, next-action dates, filters, and the fold."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from connectors.readmodel.case_queries import CaseDetail, CaseSummary, OutcomeView
from connectors.readmodel.case_rows import CaseItem, plan_case_batch
from connectors.readmodel.work_queue import NOBODY, HouseSearch
from schemas.cases_v1 import CASE_EVENT, CaseAssigned, NextActionPlanned
from signals.cases import TeamRole, assignment_refusal, is_due, next_action_refusal, work_status
from streams.team import html as pages
from streams.team.auth import Principal
from streams.team.cases import CaseError
from streams.team.work_queue import (
    PAGE_FILTER_NAMES,
    WERKSTATUS_NL,
    assignment,
    next_action,
    queue_filter,
    today,
)
from tests.unit import case_examples as ex
from tests.unit import work_examples as wx

TEAM = {"anna", "bram", "cees"}


@pytest.mark.parametrize(
    ("role", "current", "assignee", "allowed"),
    [
        # a medewerker takes a case nobody has, hands over or lets go of their own
        ("medewerker", None, "anna", True),
        ("medewerker", "anna", "bram", True),
        ("medewerker", "anna", None, True),
        ("medewerker", "anna", "anna", True),
        # ...but cannot give a free case to someone else, nor touch a colleague's
        ("medewerker", None, "bram", False),
        ("medewerker", "bram", "anna", False),
        ("medewerker", "bram", "cees", False),
        ("medewerker", "bram", None, False),
        # a coordinator reassigns any case of the team, to anyone in it or to nobody
        ("coordinator", None, "bram", True),
        ("coordinator", "bram", "cees", True),
        ("coordinator", "bram", None, True),
    ],
)
def test_who_may_assign_a_case_to_whom(
    role: TeamRole, current: str | None, assignee: str | None, allowed: bool
) -> None:
    refusal = assignment_refusal(
        actor="anna", role=role, team_members=TEAM, current=current, assignee=assignee
    )
    assert (refusal is None) == allowed
    if not allowed:
        assert "coördinator" in (refusal or "")


@pytest.mark.parametrize("role", ["medewerker", "coordinator"])
def test_nobody_outside_the_case_team_can_have_it(role: TeamRole) -> None:
    refusal = assignment_refusal(actor="anna", role=role, team_members=TEAM, current="anna", assignee="zoe")
    assert refusal == "Deze persoon is geen lid van het team van deze zaak."


def test_a_next_action_lies_today_or_within_a_year() -> None:
    day = date(2026, 12, 7)
    assert next_action_refusal(day, day) is None
    assert next_action_refusal(day + timedelta(days=366), day) is None
    assert (
        next_action_refusal(day - timedelta(days=1), day)
        == "De volgende actie kan niet in het verleden liggen."
    )
    assert next_action_refusal(day + timedelta(days=367), day) is not None


def test_due_today_includes_what_was_due_before_and_nothing_unplanned() -> None:
    day = date(2026, 12, 7)
    assert [is_due(d, day) for d in (day - timedelta(days=3), day, day + timedelta(days=1), None)] == [
        True,
        True,
        False,
        False,
    ]


def test_work_status_follows_the_contact_attempts_and_outcome() -> None:
    assert work_status(has_outcome=False, attempts=0, reached=False) == "nieuw"
    assert work_status(has_outcome=False, attempts=3, reached=False) == "contact_gezocht"
    assert work_status(has_outcome=False, attempts=3, reached=True) == "bereikt"
    assert work_status(has_outcome=True, attempts=3, reached=True) == "afgerond"


def test_assignment_and_next_action_are_case_events_on_the_topic() -> None:
    for event in (wx.assigned("r1", ex.SEPT, "anna"), wx.planned("p1", ex.SEPT, date(2026, 9, 8))):
        again = CASE_EVENT.validate_json(event.model_dump_json())
        assert again == event
    assert wx.assigned("r1", ex.SEPT, None).model_dump()["assignee"] is None


def test_the_newest_assignment_and_next_action_win_whatever_the_order() -> None:
    later = ex.later(ex.SEPT, 1)
    events: list[CaseItem] = [
        wx.assigned("r2", later, "bram", previous="anna"),
        wx.assigned("r1", ex.SEPT, "anna"),
        wx.planned("p2", later, None),
        wx.planned("p1", ex.SEPT, date(2026, 9, 9)),
    ]
    for batch in (events, events[::-1]):
        rows = plan_case_batch(batch)
        case_id = ex.case_of()
        assert rows.assignments[case_id]["assignee"] == "bram"
        assert rows.next_actions[case_id]["next_action_on"] is None  # cleared last
        assert {r["action"] for r in rows.audit.values()} == {"case_assigned", "next_action_planned"}


def test_an_assignment_id_seen_before_in_the_batch_changes_nothing() -> None:
    first = wx.assigned("r1", ex.SEPT, "anna")
    rival = first.model_copy(update={"assignee": "bram", "occurred_at": ex.later(ex.SEPT, 1)})
    rows = plan_case_batch([first, rival])
    assert rows.assignments[ex.case_of()]["assignee"] == "anna"


# --- validating requests (streams/team/work_queue.py) ---


def _who(member: str = "anna", role: TeamRole = "medewerker") -> Principal:
    return Principal(member_id=member, team_id=ex.TEAM, name=member, via="bearer", role=role)


def _case(assignee: str | None = None, *, closed: bool = False) -> CaseSummary:
    outcome = OutcomeView("Inwoner is overleden", date(2026, 9, 3), "bram", ex.SEPT) if closed else None
    return CaseSummary(
        case_id=ex.case_of(),
        household_key=ex.HOUSEHOLD,
        team_id=ex.TEAM,
        gemeente_code="GM0363",
        period_start=date(2026, 9, 1),
        period_end=date(2026, 9, 30),
        first_signal_at=ex.SEPT,
        last_signal_at=ex.SEPT,
        priority="high",
        reasons=(),
        signals=(),
        outcome=outcome,
        assignee=assignee,
    )


MEMBERS = {"anna": "Anna", "bram": "Bram"}


def test_taking_a_case_is_an_event_naming_who_had_it() -> None:
    event = assignment(_who(), _case(), {"assignee": "mij", "request_id": "take-0001"}, MEMBERS)
    assert isinstance(event, CaseAssigned)
    assert (event.assignee, event.previous, event.actor) == ("anna", None, "anna")
    same = assignment(_who(), _case(), {"assignee": "anna", "request_id": "take-0001"}, MEMBERS)
    assert same.event_id == event.event_id  # one request id, one event (a double submit)


@pytest.mark.parametrize(
    ("who", "case", "form", "status"),
    [
        (_who(), _case("bram"), {"assignee": "mij"}, 403),  # a colleague's case
        (_who(), _case(), {"assignee": "bram"}, 403),  # a free case to someone else
        (_who(role="coordinator"), _case(), {"assignee": "zoe"}, 400),  # not in the team
        (_who(), _case(), {"assignee": ["anna"]}, 400),
        (_who(), _case(closed=True), {"assignee": "mij"}, 409),
    ],
)
def test_refused_assignments_say_why(
    who: Principal, case: CaseSummary, form: dict[str, object], status: int
) -> None:
    with pytest.raises(CaseError) as refused:
        assignment(who, case, form, MEMBERS)
    assert refused.value.status == status
    assert refused.value.message


def test_a_coordinator_reassigns_and_anyone_lets_go_of_their_own() -> None:
    moved = assignment(_who(role="coordinator"), _case("bram"), {"assignee": "anna"}, MEMBERS)
    assert (moved.assignee, moved.previous) == ("anna", "bram")
    freed = assignment(_who(), _case("anna"), {"assignee": None}, MEMBERS)
    assert freed.assignee is None
    assert assignment(_who(), _case("anna"), {"assignee": NOBODY}, MEMBERS).assignee is None


def test_a_next_action_is_planned_today_or_later_or_cleared() -> None:
    planned = next_action(_who(), _case(), {"datum": today().isoformat()})
    assert isinstance(planned, NextActionPlanned)
    assert planned.datum == today()
    assert next_action(_who(), _case(), {"datum": None}).datum is None
    assert next_action(_who(), _case(), {"datum": ""}).datum is None
    for form in ({}, {"datum": "gisteren"}, {"datum": (today() - timedelta(days=1)).isoformat()}):
        with pytest.raises(CaseError) as refused:
            next_action(_who(), _case(), form)
        assert (refused.value.status, refused.value.field) == (400, "datum")


def test_filters_are_parsed_from_the_page_and_api_names() -> None:
    flt = queue_filter(
        {
            "wijk": "wk036300",
            "prioriteit": "urgent",
            "behandelaar": "mij",
            "actie": "vandaag",
            "postcode": "1011 ab",
        },
        _who(),
        PAGE_FILTER_NAMES,
    )
    assert (flt.wijk, flt.priority, flt.assignee, flt.due_by) == ("WK036300", "urgent", "anna", today())
    assert flt.search == HouseSearch("1011AB")
    api = queue_filter({"postcode": "1011AB", "house_number": "12", "status": "bereikt"}, _who())
    assert (api.search, api.status) == (HouseSearch("1011AB", 12), "bereikt")
    assert (
        queue_filter({"assignee": "j.jansen@gemeente.example"}, _who()).assignee
        == "j.jansen@gemeente.example"
    )
    whole = queue_filter({"postcode": "1011AB", "house_number": "12 a"}, _who())
    assert whole.search == HouseSearch("1011AB", 12, "1011AB-12A")
    assert queue_filter({}, _who()) == queue_filter(
        {"wijk": "", "postcode": ""}, _who()
    )  # an empty form field


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"wijk": "centrum"}, "wijk"),
        ({"buurt": "WK036300"}, "buurt"),
        ({"priority": "hoog"}, "priority"),
        ({"status": "open"}, "status"),
        ({"assignee": "a b"}, "assignee"),
        ({"due": "morgen"}, "due"),
        ({"postcode": "10"}, "postcode"),
        ({"house_number": "12"}, "postcode"),
        ({"postcode": "1011AB", "house_number": "twaalf"}, "house_number"),
    ],
)
def test_a_wrong_filter_is_a_400_naming_it(query: dict[str, str], field: str) -> None:
    with pytest.raises(CaseError) as refused:
        queue_filter(query, _who())
    assert (refused.value.status, refused.value.field) == (400, field)


def test_today_is_the_amsterdam_calendar_day() -> None:
    now = datetime.now(UTC)
    assert today() in {(now + timedelta(hours=h)).date() for h in (1, 2)}


# --- the controls on the inbox and the case page (templates) ---


def _queue_extra(**filters: str) -> dict[str, Any]:
    typed = dict.fromkeys(PAGE_FILTER_NAMES.values(), "") | filters
    return {
        "queue": {
            "filters": typed,
            "errors": {"zoek-postcode": "Vul een postcode in zoals 1011 AB."}
            if filters.get("postcode")
            else {},
            "counts": {"nieuw": 2, "contact_gezocht": 1, "bereikt": 0, "afgerond": 4},
            "due": 1,
            "total": 3,
            "members": {"anna": "Anna <de Vries>", "bram": "Bram"},
            "wijken": [("WK036300", "WK036300")],
            "buurten": [("BU03630000", "BU03630000")],
            "status_nl": WERKSTATUS_NL,
            "status_links": {s: f"/team/{ex.TEAM}/zaken?status={s}" for s in WERKSTATUS_NL},
            "due_link": f"/team/{ex.TEAM}/zaken?actie=vandaag",
            "clear_link": f"/team/{ex.TEAM}/zaken",
            "filtered": bool(filters),
            "today": today(),
        },
        "page_base": f"/team/{ex.TEAM}/zaken?status=nieuw&pagina=",
    }


def _labels_and_ids_unique(page: str) -> list[str]:
    labels = re.findall(r'<label for="([^"]+)">([^<]+)</label>', page)
    assert len({text for _, text in labels}) == len(labels), labels
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    return [text for _, text in labels]


def test_the_inbox_shows_counts_due_today_filters_and_search_with_every_control_labelled() -> None:
    case = _case("anna")
    case = dataclasses.replace(case, next_action_on=today(), work_status="contact_gezocht")
    page = pages.inbox_page(_who(), "Buurtteam", [case], total=3, page=1, **_queue_extra(status="nieuw"))
    assert "Nieuw: 2" in page
    assert "Afgerond: 4" in page
    assert "Actie vandaag: 1" in page
    assert '<a href="/team/buurtteam-centrum/zaken?status=nieuw" aria-current="true">' in page
    labels = _labels_and_ids_unique(page)
    assert {"Status", "Behandelaar", "Prioriteit", "Wijk", "Buurt", "Postcode", "Huisnummer"} <= set(labels)
    assert "Anna &lt;de Vries&gt;" in page  # escaped
    assert "Contact gezocht · behandelaar: Anna &lt;de Vries&gt;" in page
    assert "nu aan de beurt" in page
    assert '<option value="nieuw" selected>' in page


def test_a_mistyped_search_shows_the_message_at_the_field() -> None:
    page = pages.inbox_page(_who(), "Buurtteam", [], total=0, page=1, **_queue_extra(postcode="10"))
    assert 'aria-invalid="true" aria-describedby="zoek-postcode-hint zoek-postcode-fout"' in page
    assert "Vul een postcode in zoals 1011 AB." in page


@pytest.mark.parametrize(
    ("role", "assignee", "take", "assign_label"),
    [
        ("medewerker", None, True, None),  # nobody has it: take it
        ("medewerker", "anna", False, "Overdragen aan"),  # one's own: hand it over
        ("medewerker", "bram", False, None),  # a colleague's: only see who has it
        ("coordinator", "bram", False, "Toewijzen aan"),
    ],
)
def test_the_case_page_offers_what_the_member_may_do(
    role: TeamRole, assignee: str | None, take: bool, assign_label: str | None
) -> None:
    case = dataclasses.replace(_case(assignee), next_action_on=today())
    work: dict[str, Any] = {
        "work": {
            "members": MEMBERS,
            "assignee_name": MEMBERS.get(assignee or ""),
            "me": "anna",
            "may_reassign": role == "coordinator",
            "status_nl": WERKSTATUS_NL,
            "due": True,
        }
    }
    page = pages.case_page(_who(role=role), "T", CaseDetail(case, (), None), "req-12345678", None, **work)
    labels = _labels_and_ids_unique(page)
    assert ("Zaak oppakken" in page) == take
    assert (
        (assign_label in labels) if assign_label else not ({"Toewijzen aan", "Overdragen aan"} & set(labels))
    )
    assert "Datum volgende actie" in labels
    assert f'value="{today().isoformat()}"' in page
    assert "(nu aan de beurt)" in page
