"""The work queue (issue 19): who has a case, its next action, and the inbox's filters and search.

Shared by the pages and the JSON API. An assignment and a next action are events on
`case-events` (`CaseAssigned`, `NextActionPlanned`) like every team change: validated here
(the rules are signals/cases.py's), published, and folded by the case sink into `case_work`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import urlencode

from connectors.readmodel.case_queries import INBOX_PAGE_SIZE, CaseSummary
from connectors.readmodel.case_work import known_members
from connectors.readmodel.work_queue import (
    NOBODY,
    HouseSearch,
    QueueFilter,
    QueuePage,
    team_areas,
    work_queue_page,
)
from connectors.team_access import TeamDirectory
from schemas.address import AddressError, split_house
from schemas.cases_v1 import WERKSTATUSSEN, CaseAssigned, NextActionPlanned
from schemas.contract_v1 import normalise_postcode
from schemas.household import HouseholdKeyError, parse_household
from signals.cases import (
    PRIORITY_RANK,
    assignment_id,
    assignment_refusal,
    is_due,
    next_action_id,
    next_action_refusal,
)
from streams.team.auth import Principal
from streams.team.cases import (
    CaseError,
    change_base,
    publish_case_event,
    read_model_of,
    request_id_of,
    stored_as,
    today,
)
from streams.team.roles import can_reassign
from streams.worker.pipeline import Pipeline

__all__ = [
    "API_FILTER_NAMES",
    "PAGE_FILTER_NAMES",
    "WERKSTATUS_NL",
    "assignment",
    "case_extra",
    "inbox_queue",
    "next_action",
    "plan_next_action",
    "queue_filter",
    "record_assignment",
    "team_members",
    "today",
]

ME = "mij"
_WIJK = re.compile(r"^WK[0-9]{6}$")
_BUURT = re.compile(r"^BU[0-9]{8}$")
_POSTCODE = re.compile(r"^[1-9][0-9]{3}[A-Z]{2}$")
# A member id from the teams file ([A-Za-z0-9._-]) or an OIDC claim (an e-mail address, say): printable, 200 at most.
_MEMBER_ID = re.compile(r"^[^\s\x00-\x1f\x7f]{1,200}$")
# The query parameters of the filters: English in the API, Dutch on the pages.
API_FILTER_NAMES = {
    "wijk": "wijk",
    "buurt": "buurt",
    "priority": "priority",
    "status": "status",
    "assignee": "assignee",
    "due": "due",
    "postcode": "postcode",
    "house_number": "house_number",
}
PAGE_FILTER_NAMES = API_FILTER_NAMES | {
    "priority": "prioriteit",
    "assignee": "behandelaar",
    "due": "actie",
    "house_number": "huisnummer",
}
_DUE_TODAY = {"today", "vandaag"}
WERKSTATUS_NL = {
    "nieuw": "Nieuw",
    "contact_gezocht": "Contact gezocht",
    "bereikt": "Bereikt",
    "afgerond": "Afgerond",
}
_CLOSED = "Deze zaak is afgerond; er is niets gewijzigd."


def _text(query: Mapping[str, Any], name: str) -> str | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise CaseError(400, f"'{name}' moet tekst zijn.", name)
    return value.strip()


def _code(query: Mapping[str, Any], name: str, pattern: re.Pattern[str], example: str) -> str | None:
    value = _text(query, name)
    if value is None:
        return None
    value = value.upper()
    if not pattern.match(value):
        raise CaseError(400, f"'{name}' moet een CBS-code zijn zoals {example}.", name)
    return value


def _search(query: Mapping[str, Any], names: Mapping[str, str]) -> HouseSearch | None:
    """Postcode (required for a search) and house number as a person types them."""
    raw_pc, raw_house = _text(query, names["postcode"]), _text(query, names["house_number"])
    if raw_pc is None:
        if raw_house is not None:
            raise CaseError(400, "Zoek op postcode, met of zonder huisnummer.", names["postcode"])
        return None
    postcode = normalise_postcode(raw_pc)
    if not _POSTCODE.match(postcode):
        raise CaseError(400, "Vul een postcode in zoals 1011 AB.", names["postcode"])
    if raw_house is None:
        return HouseSearch(postcode)
    try:
        number, letter, addition = split_house(raw_house)
        key = parse_household(postcode, raw_house)
    except (AddressError, HouseholdKeyError):
        raise CaseError(400, "Vul een huisnummer in zoals 12, 12A of 12-2.", names["house_number"]) from None
    return HouseSearch(postcode, number, key if letter or addition else None)


def queue_filter(
    query: Mapping[str, Any], who: Principal, names: Mapping[str, str] = API_FILTER_NAMES
) -> QueueFilter:
    """The filters and search of an inbox request, validated (400 with the parameter's name when wrong)."""
    priority = _text(query, names["priority"])
    if priority is not None and priority not in PRIORITY_RANK:
        raise CaseError(400, "Kies een prioriteit: urgent, high of normal.", names["priority"])
    status = _text(query, names["status"])
    if status is not None and status not in WERKSTATUSSEN:
        raise CaseError(400, f"Kies een status: {', '.join(WERKSTATUSSEN)}.", names["status"])
    assignee = _text(query, names["assignee"])
    if assignee == ME:
        assignee = who.member_id
    elif assignee is not None and assignee != NOBODY and not _MEMBER_ID.match(assignee):
        raise CaseError(400, "Kies een behandelaar van het team, 'mij' of 'niemand'.", names["assignee"])
    due = _text(query, names["due"])
    if due is not None and due not in _DUE_TODAY:
        raise CaseError(400, f"'{names['due']}' kan alleen 'vandaag' zijn.", names["due"])
    return QueueFilter(
        wijk=_code(query, names["wijk"], _WIJK, "WK036300"),
        buurt=_code(query, names["buurt"], _BUURT, "BU03630000"),
        priority=priority,
        status=status,  # type: ignore[arg-type]  # checked against WERKSTATUSSEN above
        assignee=assignee,
        due_by=today() if due is not None else None,
        search=_search(query, names),
    )


async def team_members(pipeline: Pipeline, directory: TeamDirectory, team_id: str) -> dict[str, str]:
    """Who a case of the team can be given to, id -> name: the teams file's members, then those the read
    model knows (signed in for the team through OIDC, or having one of its cases; their id as name)."""
    members = {m.member_id: m.name for m in directory.members_of(team_id)}
    for member_id in await known_members(read_model_of(pipeline), team_id):
        members.setdefault(member_id, member_id)
    return members


def assignment(
    who: Principal, case: CaseSummary, form: Mapping[str, Any], members: Mapping[str, str]
) -> CaseAssigned:
    """Validate an assignment into its event: `assignee` a member id, 'mij' (take it), or empty/null (nobody).

    400 for someone outside the team; 403 when the member's role does not allow it (signals.cases).
    """
    if case.outcome is not None:
        raise CaseError(409, _CLOSED)
    raw = form.get("assignee")
    if raw is not None and not isinstance(raw, str):
        raise CaseError(400, "Kies een behandelaar van het team.", "assignee")
    assignee = who.member_id if raw == ME else (raw or None)
    if assignee == NOBODY:
        assignee = None
    team = set(members) | {who.member_id}
    refusal = assignment_refusal(
        actor=who.member_id, role=who.role, team_members=team, current=case.assignee, assignee=assignee
    )
    if refusal is not None:
        raise CaseError(400 if assignee is not None and assignee not in team else 403, refusal, "assignee")
    request_id = request_id_of(form, case.case_id, who.member_id, assignee, uuid.uuid4().hex)
    return CaseAssigned(
        event_id=assignment_id(case.case_id, request_id),
        assignee=assignee,
        previous=case.assignee,
        **change_base(who, case),
    )


def next_action(who: Principal, case: CaseSummary, form: Mapping[str, Any]) -> NextActionPlanned:
    """Validate a next action into its event: `datum` today or later (within a year), or empty/null to clear it."""
    if case.outcome is not None:
        raise CaseError(409, _CLOSED)
    if "datum" not in form:
        raise CaseError(
            400, "Kies de datum van de volgende actie (JJJJ-MM-DD), of laat hem leeg om te wissen.", "datum"
        )
    raw = form.get("datum")
    datum: date | None = None
    if raw not in (None, ""):
        try:
            datum = date.fromisoformat(str(raw))
        except ValueError:
            raise CaseError(400, "'datum' moet een datum zijn (JJJJ-MM-DD).", "datum") from None
        refusal = next_action_refusal(datum, today())
        if refusal is not None:
            raise CaseError(400, refusal, "datum")
    request_id = request_id_of(form, case.case_id, who.member_id, datum, uuid.uuid4().hex)
    return NextActionPlanned(
        event_id=next_action_id(case.case_id, request_id), datum=datum, **change_base(who, case)
    )


async def record_assignment(
    pipeline: Pipeline, who: Principal, case: CaseSummary, form: Mapping[str, Any], members: Mapping[str, str]
) -> CaseAssigned:
    """Validate and publish an assignment; a request id used before is not published again."""
    event = assignment(who, case, form, members)
    if await stored_as(pipeline, event) is None:
        await publish_case_event(pipeline, event)
    return event


async def plan_next_action(
    pipeline: Pipeline, who: Principal, case: CaseSummary, form: Mapping[str, Any]
) -> NextActionPlanned:
    """Validate and publish a next action; a request id used before is not published again."""
    event = next_action(who, case, form)
    if await stored_as(pipeline, event) is None:
        await publish_case_event(pipeline, event)
    return event


async def inbox_queue(
    pipeline: Pipeline, directory: TeamDirectory, who: Principal, query: Mapping[str, Any], page: int
) -> tuple[QueuePage, dict[str, Any]]:
    """The inbox page's queue and what its controls show (`queue` in the template, and `page_base`).

    A search the member mistyped (postcode, house number) shows the queue unsearched with the message
    at the field; any other wrong filter is a 400 (the form only offers valid ones).
    """
    names = PAGE_FILTER_NAMES
    typed = {name: str(query.get(name) or "") for name in names.values()}
    errors: dict[str, str] = {}
    try:
        flt = queue_filter(query, who, names)
    except CaseError as exc:
        if exc.field not in (names["postcode"], names["house_number"]):
            raise
        errors[f"zoek-{exc.field}"] = exc.message
        search = (names["postcode"], names["house_number"])
        flt = queue_filter({k: v for k, v in query.items() if k not in search}, who, names)
    read_model = read_model_of(pipeline)
    found = await work_queue_page(
        read_model,
        who.team_id,
        flt,
        today=today(),
        limit=INBOX_PAGE_SIZE,
        offset=(page - 1) * INBOX_PAGE_SIZE,
    )
    wijken, buurten = await team_areas(read_model, who.team_id)
    kept = {k: v for k, v in typed.items() if v}
    base = f"/team/{who.team_id}/zaken?"

    def link(**change: str) -> str:
        return base + urlencode({k: v for k, v in (kept | change).items() if v})

    queue = {
        "filters": typed,
        "errors": errors,
        "counts": found.counts,
        "due": found.due,
        "total": found.total,
        "members": await team_members(pipeline, directory, who.team_id),
        "wijken": [(code, code) for code in wijken],
        "buurten": [(code, code) for code in buurten],
        "status_nl": WERKSTATUS_NL,
        "status_links": {status: link(status=status) for status in WERKSTATUSSEN},
        "due_link": link(actie="vandaag", status=""),
        "clear_link": f"/team/{who.team_id}/zaken",
        "filtered": bool(kept),
        "today": today(),
    }
    return found, {"queue": queue, "page_base": link() + ("&" if kept else "") + "pagina="}


async def case_extra(
    pipeline: Pipeline, directory: TeamDirectory, who: Principal, case: CaseSummary
) -> dict[str, Any]:
    """What the case page's work-queue controls show (`work` in the template)."""
    members = await team_members(pipeline, directory, case.team_id)
    return {
        "work": {
            "members": members,
            "assignee_name": None if case.assignee is None else members.get(case.assignee, case.assignee),
            "me": who.member_id,
            "may_reassign": can_reassign(who),
            "status_nl": WERKSTATUS_NL,
            "due": is_due(case.next_action_on, today()),
        }
    }
