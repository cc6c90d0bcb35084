"""The HTTP API as an OpenAPI 3.1 document, built from the pydantic models (served at `/openapi.json`).

Covers what other programs call: creditor ingest (`POST /v1/ingest/{source}`), the team JSON API
(streams/team/api.py), the operator's household overview and the probes. The request bodies are
the contract's models (schemas/contract_v1.py) and the team change bodies as streams/team/cases.py
accepts them; the answers are the models below, which mirror what the handlers return. Every
error is `application/problem+json` (RFC 9457, streams/worker/problem.py).

The checked-in copy is docs/openapi.json; regenerate it with `python -m streams.worker.openapi`.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from schemas.cases_v1 import Contactsoort, Dagdeel, Eindresultaat, Signaalstatus, Werkstatus
from schemas.contract_v1 import CONTRACT_VERSION, SOURCES, CreditorEvent
from schemas.deadletter_v1 import FieldError
from schemas.outputs_v1 import HouseholdOverview, Priority, Reason

__all__ = ["API_VERSION", "DOCUMENT_PATH", "document", "document_bytes"]

API_VERSION = "1.0.0"
DOCUMENT_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
_REF = "#/components/schemas/{model}"
_PROBLEM = "application/problem+json"


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Problem(BaseModel):
    """An error (RFC 9457): `title` says what kind, `detail` this occurrence; more members may follow."""

    model_config = ConfigDict(frozen=True, extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None


class IngestItemProblem(_Doc):
    """One refused item of an ingest request: its index (null: the body as a whole) and every problem."""

    index: int | None
    reason_class: str
    errors: list[FieldError]


class IngestProblem(Problem):
    """An ingest refusal: nothing was published (`accepted` 0); a 400 or 409 lists the items."""

    accepted: int | None = None
    items: list[IngestItemProblem] | None = None


class TeamProblem(Problem):
    """A team API refusal, in Dutch; `field` names the body member that is wrong, if one is."""

    field: str | None = None


class UnavailableProblem(Problem):
    """503: a dependency did not answer; retry after the `Retry-After` seconds."""

    unavailable: str


class Accepted(_Doc):
    """All events of the request were published."""

    accepted: int


class Health(_Doc):
    status: Literal["ok"]


class Ready(_Doc):
    ready: bool
    checks: dict[str, bool]
    reasons: list[str]


class CaseSignal(_Doc):
    signal_id: str
    status: str
    raised_at: datetime


class CaseOutcome(_Doc):
    resultaat: str
    datum: date


class CaseSummaryBody(_Doc):
    """A case as the inbox lists it; `signals` is one page (`signal_count` in all, from `signals_offset`)."""

    case_id: str
    household_key: str
    team_id: str
    priority: Priority
    period_start: date
    period_end: date
    first_signal_at: datetime
    total_cents: int
    resolved: bool
    signal_count: int
    signals_offset: int
    reasons: list[Reason]
    signals: list[CaseSignal]
    outcome: CaseOutcome | None
    assignee: str | None = Field(description="the member id the case is with; null: nobody")
    next_action_on: date | None = Field(
        description="the local day its next action is due; null: none planned"
    )
    work_status: Werkstatus = Field(description="nieuw, contact_gezocht, bereikt or afgerond (its outcome)")


class ContactAttemptBody(_Doc):
    attempt_id: str
    soort: str
    bereikt: bool
    datum: date
    dagdeel: str | None
    actor: str


class CaseBody(CaseSummaryBody):
    """The whole case: signals, contact attempts, outcome and the household overview."""

    contact_attempts: list[ContactAttemptBody]
    overview: HouseholdOverview | None


class CasesPage(_Doc):
    """One page of the team's work queue, most urgent first; `next_offset` null on the last page.

    Without `status` the open cases (every status but afgerond); `counts` per status apply every
    other filter; `due_today` counts the open cases whose next action is due today or before."""

    team_id: str
    cases: list[CaseSummaryBody]
    total: int
    limit: int
    offset: int
    next_offset: int | None
    counts: dict[Werkstatus, int]
    due_today: int


class TeamMemberBody(_Doc):
    member_id: str
    name: str


class TeamMembers(_Doc):
    """Who a case of the team can be assigned to."""

    team_id: str
    members: list[TeamMemberBody]


class ChangeAnswer(_Doc):
    """201: the read model shows the change; 202: the broker has it, the sink has not written it yet."""

    event_id: str
    type: str
    stored: bool


RequestId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
YesNo = bool | Literal["ja", "nee", "true", "false", "1", "0", "yes", "no"]


class NewContactAttempt(_Doc):
    """A contact attempt; the same content (or request_id) again is one attempt."""

    model_config = ConfigDict(extra="allow")

    soort: Contactsoort
    bereikt: YesNo
    datum: date = Field(description="within the last year, not after tomorrow (JJJJ-MM-DD)")
    dagdeel: Dagdeel | None = None
    request_id: RequestId | None = None


class NewOutcome(_Doc):
    """The case's final outcome; another one than the case has answers 409."""

    model_config = ConfigDict(extra="allow")

    resultaat: Eindresultaat
    datum: date | None = Field(default=None, description="default today; within the last year")


class NewStatus(_Doc):
    """A new DDAS status for one signal of the case."""

    model_config = ConfigDict(extra="allow")

    status: Signaalstatus
    request_id: RequestId | None = None


class NewAssignment(_Doc):
    """Give the case to a member of its team ("mij": take it; null: nobody). A medewerker may take a case
    nobody has and hand over their own; a coordinator may reassign any (else 403)."""

    model_config = ConfigDict(extra="allow")

    assignee: str | None
    request_id: RequestId | None = None


class NewNextAction(_Doc):
    """Plan the case's next action on a local day, today or within a year; null clears it."""

    model_config = ConfigDict(extra="allow")

    datum: date | None
    request_id: RequestId | None = None


IngestBody = CreditorEvent | Annotated[list[CreditorEvent], Field(min_length=1, max_length=1000)]


class _Components:
    """Collects schemas by name; a name is defined once."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, name: str, shape: Any, mode: Literal["validation", "serialization"]) -> dict[str, Any]:
        schema = TypeAdapter(shape).json_schema(ref_template=_REF, mode=mode)
        for key, value in schema.pop("$defs", {}).items():
            self._add(key, value)
        if "title" in schema and isinstance(shape, type):
            self._add(name, schema)
            return {"$ref": _REF.format(model=name)}
        schema.pop("title", None)
        return schema

    def _add(self, name: str, schema: Any) -> None:
        if self.schemas.setdefault(name, schema) != schema:
            raise ValueError(f"two different schemas are both called {name}")


def _json(schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    return {"content": {media: {"schema": schema}}}


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the worker's HTTP API."""
    c = _Components()
    problem = c.ref("Problem", Problem, "serialization")
    ingest_problem = c.ref("IngestProblem", IngestProblem, "serialization")
    team_problem = c.ref("TeamProblem", TeamProblem, "serialization")
    unavailable = {
        "description": "A dependency did not answer; try again after Retry-After seconds.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        **_json(c.ref("UnavailableProblem", UnavailableProblem, "serialization"), _PROBLEM),
    }

    def errors(schema: dict[str, Any], *statuses: int) -> dict[str, Any]:
        answers: dict[str, Any] = {
            str(s): {"description": _REASONS[s], **_json(schema, _PROBLEM)} for s in statuses
        }
        answers["503"] = unavailable
        return answers

    def team_get(summary: str, ok: dict[str, Any], *params: dict[str, Any]) -> dict[str, Any]:
        return {
            "get": {
                "tags": ["team"],
                "summary": summary,
                "security": [{"memberToken": []}],
                "parameters": list(params),
                "responses": {
                    "200": {"description": "OK", **_json(ok)},
                    **errors(team_problem, 400, 401, 403, 404),
                },
            }
        }

    def team_post(
        summary: str, body: type[BaseModel], *params: dict[str, Any], forbidden: bool = False
    ) -> dict[str, Any]:
        answer = c.ref("ChangeAnswer", ChangeAnswer, "serialization")
        return {
            "post": {
                "tags": ["team"],
                "summary": summary,
                "security": [{"memberToken": []}],
                "parameters": list(params),
                "requestBody": {"required": True, **_json(c.ref(body.__name__, body, "validation"))},
                "responses": {
                    "201": {"description": "Stored: the read model shows the change", **_json(answer)},
                    "202": {
                        "description": "Accepted: the broker has it, the read model not yet",
                        **_json(answer),
                    },
                    **errors(
                        team_problem,
                        *sorted({400, 401, 404, 408, 409, 413} | ({403} if forbidden else set())),
                    ),
                },
            }
        }

    case_id = _path_param("case_id")
    paging = [_query_param("limit"), _query_param("offset")]
    paths: dict[str, Any] = {
        "/v1/ingest/{source}": {
            "post": {
                "tags": ["ingest"],
                "summary": "Deliver one event or a JSON array of events (all or nothing)",
                "security": [{"creditorToken": []}],
                "parameters": [
                    {"name": "source", "in": "path", "required": True, "schema": {"enum": list(SOURCES)}}
                ],
                "requestBody": {"required": True, **_json(c.ref("IngestBody", IngestBody, "validation"))},
                "responses": {
                    "202": {
                        "description": "Every event published",
                        **_json(c.ref("Accepted", Accepted, "serialization")),
                    },
                    **errors(ingest_problem, 400, 401, 403, 404, 408, 409, 413),
                },
            }
        },
        "/v1/teams/{team}/cases": team_get(
            "The team's work queue: open cases, most urgent first, filtered and searched, with counts",
            c.ref("CasesPage", CasesPage, "serialization"),
            _path_param("team"),
            *paging,
            *_QUEUE_FILTERS,
        ),
        "/v1/teams/{team}/members": team_get(
            "Who a case of the team can be assigned to",
            c.ref("TeamMembers", TeamMembers, "serialization"),
            _path_param("team"),
        ),
        "/v1/cases/{case_id}": team_get(
            "A case with signals, contact attempts, outcome and overview (audited)",
            c.ref("CaseBody", CaseBody, "serialization"),
            case_id,
            *paging,
        ),
        "/v1/households/{key}": team_get(
            "A household's overview (audited; 404 unless a case or signal of it is routed to the team)",
            c.ref("HouseholdOverview", HouseholdOverview, "serialization"),
            _path_param("key"),
        ),
        "/v1/cases/{case_id}/contact-attempts": team_post(
            "Record a contact attempt", NewContactAttempt, case_id
        ),
        "/v1/cases/{case_id}/outcome": team_post("Record the case's final outcome", NewOutcome, case_id),
        "/v1/cases/{case_id}/signals/{signal_id}/status": team_post(
            "Change a signal's DDAS status", NewStatus, case_id, _path_param("signal_id")
        ),
        "/v1/cases/{case_id}/assignment": team_post(
            "Assign the case, take it, hand it over or let it go", NewAssignment, case_id, forbidden=True
        ),
        "/v1/cases/{case_id}/next-action": team_post(
            "Plan (or clear) the case's next action", NewNextAction, case_id
        ),
        "/households/{key}": {
            "get": {
                "tags": ["operator"],
                "summary": "A household's overview with the operator's read token (audited)",
                "security": [{"readToken": []}],
                "parameters": [_path_param("key")],
                "responses": {
                    "200": {
                        "description": "OK",
                        **_json(c.ref("HouseholdOverview", HouseholdOverview, "serialization")),
                    },
                    **errors(problem, 400, 401, 404),
                },
            }
        },
        "/healthz": _probe("The event loop answers", c.ref("Health", Health, "serialization"), None),
        "/readyz": _probe(
            "Broker, database and tables ready",
            c.ref("Ready", Ready, "serialization"),
            c.ref("Ready", Ready, "serialization"),
        ),
    }
    for operations in paths.values():  # API-57: every answer says the API's version
        for operation in operations.values():
            for answer in operation["responses"].values():
                answer["headers"] = {**answer.get("headers", {}), "API-Version": _API_VERSION_HEADER}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "vroegsignaal HTTP API",
            "version": API_VERSION,
            "description": (
                "Creditor ingest (event contract v"
                + CONTRACT_VERSION
                + ", docs/contract-v1.md), the team JSON API "
                "and the operator's household overview. Errors are application/problem+json (RFC 9457): English "
                "for ingest and the operator, Dutch title and detail for the team API. Every answer carries an "
                "API-Version header. The paths before version 1 "
                "(/ingest/{source}, /api/...) answer 308 Permanent Redirect to these, with Deprecation and Link, "
                "for one release."
            ),
            "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        },
        "tags": [
            {"name": "ingest", "description": "Creditors deliver events (creditor bearer token)"},
            {"name": "team", "description": "Teams read and change cases (member bearer token)"},
            {"name": "operator", "description": "Operators read a household's overview (read token)"},
            {"name": "probes", "description": "Liveness and readiness"},
        ],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(c.schemas.items())),
            "securitySchemes": {
                "creditorToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A creditor's token (one source)",
                },
                "memberToken": {"type": "http", "scheme": "bearer", "description": "A team member's token"},
                "readToken": {"type": "http", "scheme": "bearer", "description": "The operator's read token"},
            },
        },
    }


_API_VERSION_HEADER = {
    "description": "The version of this API (semantic versioning; REST API Design Rules API-57)",
    "required": True,
    "schema": {"type": "string", "example": API_VERSION},
}
_REASONS = {
    400: "The request is not valid",
    401: "No valid bearer token",
    403: "The token may not do this",
    404: "Not found (or not the caller's to know)",
    408: "The body did not arrive in time",
    409: "Conflicts with what was sent before",
    413: "The body is too large",
}


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}}


def _filter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_QUEUE_FILTERS = (
    _filter("wijk", {"type": "string", "pattern": "^[Ww][Kk][0-9]{6}$"}, "CBS wijk code, e.g. WK036300"),
    _filter("buurt", {"type": "string", "pattern": "^[Bb][Uu][0-9]{8}$"}, "CBS buurt code, e.g. BU03630000"),
    _filter("priority", {"enum": ["urgent", "high", "normal"]}, "only cases of this priority"),
    _filter(
        "status",
        {"enum": ["nieuw", "contact_gezocht", "bereikt", "afgerond"]},
        "only cases in this status (default: every status but afgerond)",
    ),
    _filter("assignee", {"type": "string"}, "a member id, 'mij' (the caller) or 'niemand' (nobody)"),
    _filter("due", {"enum": ["today", "vandaag"]}, "only cases whose next action is due today or before"),
    _filter("postcode", {"type": "string"}, "search: the postcode (1011AB or 1011 ab)"),
    _filter("house_number", {"type": "string"}, "search, with postcode: 12, 12A or 12-2"),
)


def _probe(summary: str, ok: dict[str, Any], not_ready: dict[str, Any] | None) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": "OK", **_json(ok)}}
    if not_ready is not None:
        responses["503"] = {"description": "Not ready; `reasons` says why", **_json(not_ready)}
    return {"get": {"tags": ["probes"], "summary": summary, "security": [], "responses": responses}}


def document_bytes() -> bytes:
    """The document as the checked-in file holds it (indented, keys in build order, final newline)."""
    return orjson.dumps(document(), option=orjson.OPT_INDENT_2) + b"\n"


if __name__ == "__main__":  # python -m streams.worker.openapi [--check]
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if DOCUMENT_PATH.read_bytes() == document_bytes() else "docs/openapi.json is out of date")
    DOCUMENT_PATH.write_bytes(document_bytes())
