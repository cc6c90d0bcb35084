"""The team JSON API: the same cases and changes as the pages, for other tools, with a bearer token.

Version 1 in the path (`/v1/...`, REST API Design Rules API-20); the old `/api/...` paths answer
308 to these for one release (MOVED).

| method | path | answer |
|---|---|---|
| GET | /v1/teams/{team}/cases | the team's work queue: open cases, most urgent first; filters, search, counts |
| GET | /v1/teams/{team}/members | who a case of the team can be assigned to |
| GET | /v1/cases/{case_id} | the case with signals, contact attempts, outcome and overview (audited) |
| GET | /v1/households/{key} | the household's overview (audited) |
| POST | /v1/cases/{case_id}/contact-attempts | `{soort, bereikt, datum, dagdeel?, request_id?}` |
| POST | /v1/cases/{case_id}/outcome | `{resultaat, datum?}`; 409 when the case has another |
| POST | /v1/cases/{case_id}/signals/{signal_id}/status | `{status, request_id?}` |
| POST | /v1/cases/{case_id}/assignment | `{assignee, request_id?}`: a member id, "mij", or null (nobody) |
| POST | /v1/cases/{case_id}/next-action | `{datum, request_id?}`: today or later, or null to clear |

The work queue's filters (streams/team/work_queue.py): `?wijk=WK..&buurt=BU..&priority=urgent|high|normal
&status=nieuw|contact_gezocht|bereikt|afgerond&assignee=<member>|mij|niemand&due=today&postcode=&house_number=`.

Errors are application/problem+json (RFC 9457) with a Dutch title and detail, and `field` when
one body member is wrong (docs/openapi.json). 401 without a valid member token. Another team's case, and a household without a case
or signal routed to the member's team (need to know, signals/access.py), answer 404 like
an unknown one, so an answer never tells that it exists; every read, granted or refused,
is audited. A POST answers 201 once the read model shows the change, or 202 when the
broker has it but the sink has not written it yet; 409 when the read model holds another
content under its id (a request_id re-used, the case's other outcome: streams/team/cases.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import faust
import orjson
from faust.web import Request, Response, View

from connectors.readmodel.case_queries import (
    CASE_SIGNALS_PAGE_SIZE,
    INBOX_PAGE_SIZE,
    CaseDetail,
    CaseSummary,
)
from connectors.readmodel.queries import overview
from connectors.readmodel.work_queue import work_queue_page
from schemas.cases_v1 import ReadStatus
from schemas.household import HouseholdKeyError, normalise_key
from streams.team import cases as cc
from streams.team import work_queue as wq
from streams.team.auth import Principal, TeamAuth
from streams.team.paging import PagingError, limit_of, offset_of
from streams.worker.edge import BadInput, read_json_object
from streams.worker.moved import register_moved
from streams.worker.pipeline import Pipeline
from streams.worker.problem import view_problem

__all__ = ["MOVED", "case_json", "register_api", "summary_json"]

Handler = Callable[[Principal], Awaitable[Response]]


def summary_json(case: CaseSummary) -> dict[str, Any]:
    """A case as JSON (the inbox entry)."""
    return {
        "case_id": case.case_id,
        "household_key": case.household_key,
        "team_id": case.team_id,
        "priority": case.priority,
        "period_start": case.period_start.isoformat(),
        "period_end": case.period_end.isoformat(),
        "first_signal_at": case.first_signal_at.isoformat(),
        "total_cents": case.total_cents,
        "resolved": case.resolved,
        # `signals` is one page: the newest from `signals_offset` on (GET /v1/cases/{id}?limit=&offset=).
        "signal_count": case.signal_count,
        "signals_offset": case.signals_offset,
        "reasons": [r.model_dump() for r in case.reasons],
        "signals": [
            {"signal_id": v.signal.signal_id, "status": v.status, "raised_at": v.signal.raised_at.isoformat()}
            for v in case.signals
        ],
        "outcome": None
        if case.outcome is None
        else {"resultaat": case.outcome.resultaat, "datum": case.outcome.datum.isoformat()},
        "assignee": case.assignee,
        "next_action_on": None if case.next_action_on is None else case.next_action_on.isoformat(),
        "work_status": case.work_status,
    }


def case_json(detail: CaseDetail) -> dict[str, Any]:
    """The whole case as JSON."""
    attempts = [
        {
            "attempt_id": a.attempt_id,
            "soort": a.soort,
            "bereikt": a.bereikt,
            "datum": a.datum.isoformat(),
            "dagdeel": a.dagdeel,
            "actor": a.actor,
        }
        for a in detail.attempts
    ]
    ov = orjson.loads(detail.overview.model_dump_json()) if detail.overview else None
    return summary_json(detail.summary) | {"contact_attempts": attempts, "overview": ov}


def _paging(request: Request, page_size: int) -> tuple[int, int]:
    """`?limit=&offset=` of a list (at most `page_size` per answer), else a 400."""
    try:
        return limit_of(request.query, page_size), offset_of(request.query)
    except PagingError as exc:
        raise cc.CaseError(400, str(exc)) from None


def _guard(auth: TeamAuth) -> Any:
    """The wrapper of every endpoint: 401 without a member's bearer token, CaseError as a Dutch problem (RFC 9457)."""

    async def guarded(view: View, request: Request, handler: Handler) -> Response:
        who = await auth.authenticate(request.headers, {})  # the API takes bearer tokens only, no cookies
        if who is None:
            return view_problem(view, 401, "Een geldig bearer-token van een teamlid is nodig.", in_dutch=True)
        try:
            return await handler(who)
        except cc.CaseError as exc:
            extra = {} if exc.field is None else {"field": exc.field}
            return view_problem(view, exc.status, exc.message, in_dutch=True, **extra)

    return guarded


# Before the version was in the path (streams/worker/moved.py): 308 to the new path for one release.
MOVED = (
    ("/api/teams/{team}/cases", "/v1/teams/{team}/cases", False),
    ("/api/cases/{case_id}", "/v1/cases/{case_id}", False),
    ("/api/households/{key}", "/v1/households/{key}", False),
    ("/api/cases/{case_id}/contact-attempts", "/v1/cases/{case_id}/contact-attempts", True),
    ("/api/cases/{case_id}/outcome", "/v1/cases/{case_id}/outcome", True),
    (
        "/api/cases/{case_id}/signals/{signal_id}/status",
        "/v1/cases/{case_id}/signals/{signal_id}/status",
        True,
    ),
)


def register_api(app: faust.App, pipeline: Pipeline, auth: TeamAuth) -> None:
    """Attach the JSON API views, and the 308s of their old paths."""
    guarded = _guard(auth)
    _register_reads(app, pipeline, guarded)
    _register_queue(app, pipeline, auth, guarded)
    _register_changes(app, pipeline, guarded)
    for old, new, post in MOVED:
        register_moved(app, old, new, post=post)


def _register_reads(app: faust.App, pipeline: Pipeline, guarded: Any) -> None:
    """The GET endpoints; reading a case or household is audited."""

    @app.page("/v1/cases/{case_id}")
    class Case(View):
        async def get(self, request: Request, case_id: str) -> Response:
            async def handle(who: Principal) -> Response:
                limit, offset = _paging(request, CASE_SIGNALS_PAGE_SIZE)
                detail = await cc.read_case(
                    pipeline, who, case_id, signals_limit=limit, signals_offset=offset
                )
                return self.json(case_json(detail))

            return await guarded(self, request, handle)

    @app.page("/v1/households/{key}")
    class Household(View):
        async def get(self, request: Request, key: str) -> Response:
            async def handle(who: Principal) -> Response:
                try:
                    household = normalise_key(key)  # one home, one key however it is written
                except HouseholdKeyError:
                    await cc.audit_view(pipeline, who.member_id, who.team_id, key, status=404)
                    raise cc.CaseError(404, cc.UNKNOWN_HOUSEHOLD) from None
                await cc.authorised_household(pipeline, who, household)  # need to know, else 404
                found = await overview(cc.read_model_of(pipeline), household)
                status: ReadStatus = 200 if found is not None else 404
                await cc.audit_view(pipeline, who.member_id, who.team_id, household, status=status)
                if found is None:
                    raise cc.CaseError(404, cc.UNKNOWN_HOUSEHOLD)
                return self.bytes(found.model_dump_json().encode(), content_type="application/json")

            return await guarded(self, request, handle)


async def body_of(request: Request, timeout_s: float) -> dict[str, Any]:
    """The JSON object a POST carries (edge.py: 400, 408, 413 instead of an exception)."""
    try:
        return await read_json_object(request, timeout_s=timeout_s)
    except BadInput as exc:
        raise cc.CaseError(exc.status, exc.message) from None


def _register_queue(app: faust.App, pipeline: Pipeline, auth: TeamAuth, guarded: Any) -> None:
    """The work queue: the team's filtered cases with counts, its members, assigning and next actions."""

    def own_team(who: Principal, team: str) -> None:
        if team != who.team_id:
            raise cc.CaseError(403, "Dit is niet uw team.")

    @app.page("/v1/teams/{team}/cases")
    class TeamCases(View):
        async def get(self, request: Request, team: str) -> Response:
            async def handle(who: Principal) -> Response:
                own_team(who, team)
                limit, offset = _paging(request, INBOX_PAGE_SIZE)
                flt = wq.queue_filter(request.query, who)
                found = await work_queue_page(
                    cc.read_model_of(pipeline), team, flt, today=cc.today(), limit=limit, offset=offset
                )
                return self.json(
                    {
                        "team_id": team,
                        "cases": [summary_json(c) for c in found.cases],
                        "total": found.total,
                        "limit": limit,
                        "offset": offset,
                        "next_offset": found.next_offset,
                        "counts": found.counts,
                        "due_today": found.due,
                    }
                )

            return await guarded(self, request, handle)

    @app.page("/v1/teams/{team}/members")
    class TeamMembers(View):
        async def get(self, request: Request, team: str) -> Response:
            async def handle(who: Principal) -> Response:
                own_team(who, team)
                members = await wq.team_members(pipeline, auth.directory, team)
                return self.json(
                    {"team_id": team, "members": [{"member_id": k, "name": v} for k, v in members.items()]}
                )

            return await guarded(self, request, handle)

    @app.page("/v1/cases/{case_id}/assignment")
    class Assignment(View):
        async def post(self, request: Request, case_id: str) -> Response:
            async def handle(who: Principal) -> Response:
                case = await cc.authorised_case(pipeline, who, case_id, signals_limit=0)
                body = await body_of(request, pipeline.settings.web_body_timeout_s)
                members = await wq.team_members(pipeline, auth.directory, case.team_id)
                event = await wq.record_assignment(pipeline, who, case, body, members)
                return await _answer(pipeline, self, event)

            return await guarded(self, request, handle)

    @app.page("/v1/cases/{case_id}/next-action")
    class NextAction(View):
        async def post(self, request: Request, case_id: str) -> Response:
            async def handle(who: Principal) -> Response:
                case = await cc.authorised_case(pipeline, who, case_id, signals_limit=0)
                body = await body_of(request, pipeline.settings.web_body_timeout_s)
                event = await wq.plan_next_action(pipeline, who, case, body)
                return await _answer(pipeline, self, event)

            return await guarded(self, request, handle)


async def _answer(pipeline: Pipeline, view: View, event: cc.TeamChange) -> Response:
    """201 once the read model shows the change, 202 while only the broker has it (409 from wait_stored)."""
    stored = await cc.wait_stored(pipeline, event)
    body = {"event_id": event.event_id, "type": event.type, "stored": stored}
    return view.json(body, status=201 if stored else 202)


def _register_changes(app: faust.App, pipeline: Pipeline, guarded: Any) -> None:
    """The POST endpoints: validate, publish, wait for the broker and briefly for the sink."""

    async def answer(view: View, event: cc.TeamChange) -> Response:
        return await _answer(pipeline, view, event)

    @app.page("/v1/cases/{case_id}/contact-attempts")
    class Attempts(View):
        async def post(self, request: Request, case_id: str) -> Response:
            async def handle(who: Principal) -> Response:
                case = await cc.authorised_case(pipeline, who, case_id)
                event = await cc.record_contact_attempt(
                    pipeline, who, case, await body_of(request, pipeline.settings.web_body_timeout_s)
                )
                return await answer(self, event)

            return await guarded(self, request, handle)

    @app.page("/v1/cases/{case_id}/outcome")
    class Outcome(View):
        async def post(self, request: Request, case_id: str) -> Response:
            async def handle(who: Principal) -> Response:
                case = await cc.authorised_case(pipeline, who, case_id)
                event = await cc.record_outcome(
                    pipeline, who, case, await body_of(request, pipeline.settings.web_body_timeout_s)
                )
                return await answer(self, event)

            return await guarded(self, request, handle)

    @app.page("/v1/cases/{case_id}/signals/{signal_id}/status")
    class Status(View):
        async def post(self, request: Request, case_id: str, signal_id: str) -> Response:
            async def handle(who: Principal) -> Response:
                case = await cc.authorised_case(pipeline, who, case_id)
                event = await cc.change_status(
                    pipeline,
                    who,
                    case,
                    signal_id,
                    await body_of(request, pipeline.settings.web_body_timeout_s),
                )
                return await answer(self, event)

            return await guarded(self, request, handle)
