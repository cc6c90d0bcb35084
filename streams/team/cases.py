"""What a team may do to a case: check access, validate, publish the event, wait for the broker.

Shared by the HTML pages and the JSON API. Nothing here writes the read model:
the event on `case-events` is the source of truth and the case sink writes it;
`wait_stored` only lets a handler show the result once the sink has it.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectors.errors import Unavailable
from connectors.readmodel.case_queries import (
    CASE_SIGNALS_PAGE_SIZE,
    CaseDetail,
    CaseSummary,
    case_detail,
    case_summary,
    event_stored,
    household_teams,
    stored_attempt,
    stored_outcome,
    stored_status,
)
from connectors.readmodel.case_work import stored_work
from connectors.readmodel.writer import ReadModel
from schemas.cases_v1 import (
    CONTACTSOORTEN,
    DAGDELEN,
    EINDRESULTATEN,
    SIGNAALSTATUSSEN,
    CaseAssigned,
    ContactAttemptRecorded,
    NextActionPlanned,
    OutcomeRecorded,
    SignalStatusChanged,
)
from signals.access import case_read, household_read
from signals.calendar import local_day
from signals.cases import contact_attempt_id, outcome_id, same_outcome, signalled_debts, status_change_id
from signals.ids import stable_id
from streams.errors import StreamsError
from streams.team.auth import Principal
from streams.worker.audit import audit_view, publish_case_event
from streams.worker.pipeline import Pipeline

__all__ = [
    "UNKNOWN_CASE",
    "UNKNOWN_HOUSEHOLD",
    "CaseError",
    "audit_view",
    "authorised_case",
    "authorised_household",
    "change_status",
    "publish_case_event",
    "read_model_of",
    "record_contact_attempt",
    "record_outcome",
    "wait_stored",
]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_YES = {"ja", "true", "1", "yes", True}
_NO = {"nee", "false", "0", "no", False}
TeamChange = ContactAttemptRecorded | OutcomeRecorded | SignalStatusChanged | CaseAssigned | NextActionPlanned


class CaseError(StreamsError):
    """A request a team cannot make; `status` is the HTTP status, the message is Dutch for the pages."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def read_model_of(pipeline: Pipeline) -> ReadModel:
    """The open read model, or Unavailable (503 with Retry-After) while the worker is still starting."""
    read_model = pipeline.read_model.model
    if read_model is None:
        raise Unavailable("database", "the read model is not open yet")
    return read_model


UNKNOWN_CASE = "Deze zaak bestaat niet."
UNKNOWN_HOUSEHOLD = "Dit huishouden is niet bekend."


async def authorised_case(
    pipeline: Pipeline,
    who: Principal,
    case_id: str,
    *,
    audit_refusal: bool = False,
    signals_limit: int | None = None,
) -> CaseSummary:
    """The case, if it is routed to the member's team; 404 when it is not, as when it does not exist.

    With `audit_refusal` (a read) the refusal is audited, with the case's household if it has one.
    `signals_limit` 0: only the check, without reading the case's signals.
    """
    found = await case_summary(read_model_of(pipeline), case_id, signals_limit=signals_limit)
    if case_read(who.team_id, found.team_id if found else None) == 404:
        if audit_refusal:
            household = found.household_key if found else ""
            await audit_view(pipeline, who.member_id, who.team_id, household, case_id, status=404)
        raise CaseError(404, UNKNOWN_CASE)
    assert found is not None  # case_read grants only a case that exists
    return found


async def authorised_household(pipeline: Pipeline, who: Principal, household_key: str) -> None:
    """Need to know: the household has a case or signal routed to the member's team, else an audited 404."""
    teams = await household_teams(read_model_of(pipeline), household_key)
    if household_read(who.team_id, teams) == 404:
        await audit_view(pipeline, who.member_id, who.team_id, household_key, status=404)
        raise CaseError(404, UNKNOWN_HOUSEHOLD)


def today() -> date:
    """Today in Europe/Amsterdam: what a date field shows before anyone types, and what 'due today' means."""
    return local_day(datetime.now(UTC))


def request_id_of(form: Mapping[str, Any], *content: object) -> str:
    """The form's idempotency key, or one derived from the content (an identical retry is one event)."""
    given = form.get("request_id")
    if given in (None, ""):
        return stable_id("req", *content)[4:]
    if not isinstance(given, str) or not _REQUEST_ID.match(given):
        raise CaseError(400, "Ongeldig request_id.", "request_id")
    return given


def _choice(form: Mapping[str, Any], name: str, allowed: tuple[str, ...], *, optional: bool = False) -> Any:
    value = form.get(name)
    if optional and value in (None, ""):
        return None
    if value not in allowed:
        raise CaseError(400, f"Kies een geldige waarde voor '{name}'.", name)
    return value


def _date(form: Mapping[str, Any], name: str, *, default: date | None = None) -> date:
    raw = form.get(name)
    if raw in (None, "") and default is not None:
        return default
    try:
        value = date.fromisoformat(str(raw))
    except ValueError:
        raise CaseError(400, f"'{name}' moet een datum zijn (JJJJ-MM-DD).", name) from None
    now = today()
    if value > now + timedelta(days=1) or value < now - timedelta(days=366):
        raise CaseError(400, f"'{name}' moet in het afgelopen jaar liggen, niet in de toekomst.", name)
    return value


def _bool(form: Mapping[str, Any], name: str) -> bool:
    value = form.get(name)
    value = value.lower() if isinstance(value, str) else value
    if not isinstance(value, str | bool):  # a JSON list or object is unhashable: no `in` on a set
        value = None
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise CaseError(400, f"Geef aan of de inwoner bereikt is ('{name}': ja of nee).", name)


def change_base(who: Principal, case: CaseSummary) -> dict[str, Any]:
    return {
        "case_id": case.case_id,
        "household_key": case.household_key,
        "team_id": case.team_id,
        "actor": who.member_id,
        "occurred_at": datetime.now(UTC),
    }


def contact_attempt(who: Principal, case: CaseSummary, form: Mapping[str, Any]) -> ContactAttemptRecorded:
    """Validate a contact-attempt form into its event."""
    soort = _choice(form, "soort", CONTACTSOORTEN)
    bereikt = _bool(form, "bereikt")
    datum = _date(form, "datum")
    dagdeel = _choice(form, "dagdeel", DAGDELEN, optional=True)
    request_id = request_id_of(form, case.case_id, who.member_id, soort, bereikt, datum, dagdeel)
    return ContactAttemptRecorded(
        event_id=contact_attempt_id(case.case_id, request_id),
        soort=soort,
        bereikt=bereikt,
        datum=datum,
        dagdeel=dagdeel,
        **change_base(who, case),
    )


def outcome(who: Principal, case: CaseSummary, form: Mapping[str, Any]) -> OutcomeRecorded:
    """Validate an outcome form into its event (its id is the case's one outcome id).

    409 when the case already has another outcome (result or date); the same one again is a retry.
    """
    resultaat = _choice(form, "resultaat", EINDRESULTATEN)
    datum = _date(form, "datum", default=today())
    if case.outcome is not None and (case.outcome.resultaat, case.outcome.datum) != (resultaat, datum):
        raise CaseError(409, CONFLICTING_OUTCOME.format(case.outcome.resultaat))
    debts = signalled_debts(view.signal for view in case.signals)
    return OutcomeRecorded(
        event_id=outcome_id(case.case_id),
        resultaat=resultaat,
        datum=datum,
        debts=debts,
        **change_base(who, case),
    )


def status_change(
    who: Principal, case: CaseSummary, signal_id: str, form: Mapping[str, Any]
) -> SignalStatusChanged:
    """Validate a status form for one signal of the case."""
    if signal_id not in {view.signal.signal_id for view in case.signals}:
        raise CaseError(404, "Dit signaal hoort niet bij deze zaak.")
    status = _choice(form, "status", SIGNAALSTATUSSEN)
    request_id = request_id_of(form, signal_id, who.member_id, status, uuid.uuid4().hex)
    return SignalStatusChanged(
        event_id=status_change_id(signal_id, request_id),
        signal_id=signal_id,
        status=status,
        **change_base(who, case),
    )


async def record_contact_attempt(
    pipeline: Pipeline, who: Principal, case: CaseSummary, form: Mapping[str, Any]
) -> ContactAttemptRecorded:
    """Validate and publish a contact attempt; a stored request id answers without publishing again."""
    event = contact_attempt(who, case, form)
    if await stored_as(pipeline, event) is None:
        await publish_case_event(pipeline, event)
    return event


async def record_outcome(
    pipeline: Pipeline, who: Principal, case: CaseSummary, form: Mapping[str, Any]
) -> OutcomeRecorded:
    """Validate and publish the final outcome; once the case has one, only the same one is answered (else 409)."""
    try:
        event = outcome(who, case, form)
    except CaseError as exc:
        if exc.status == 409:
            _conflict(pipeline, "outcome")
        raise
    if case.outcome is None:
        await publish_case_event(pipeline, event)  # the case sink decides which outcome is stored
    return event


async def change_status(
    pipeline: Pipeline, who: Principal, case: CaseSummary, signal_id: str, form: Mapping[str, Any]
) -> SignalStatusChanged:
    """Validate and publish a signal status change; a request id used before is not published again."""
    event = status_change(who, case, signal_id, form)
    if await stored_as(pipeline, event) is None:
        await publish_case_event(pipeline, event)
    return event


CONFLICTING_OUTCOME = "Deze zaak heeft al een ander eindresultaat: '{}'. Er is niets gewijzigd."
CONFLICTING_REQUEST = (
    "Dit formulier (request_id) is al verwerkt met andere gegevens; het eerste blijft staan en er is niets "
    "gewijzigd. Open de zaak opnieuw om een nieuwe wijziging in te voeren."
)
SUPERSEDED_STATUS = (
    "Dit formulier (request_id) is al verwerkt en daarna vervangen door een nieuwere statuswijziging; "
    "er is niets gewijzigd."
)
SUPERSEDED_CHANGE = (
    "Dit formulier (request_id) is al verwerkt en daarna vervangen door een nieuwere wijziging; "
    "er is niets gewijzigd."
)


async def stored_as(pipeline: Pipeline, event: TeamChange) -> bool | None:
    """None while the read model has nothing under the event's id; True when it holds this very change
    (an identical retry); a CaseError 409 when it holds another content under the same id.

    For an outcome the id is the case's: the case has its one outcome, which must say the same.
    """
    read_model = read_model_of(pipeline)
    if isinstance(event, OutcomeRecorded):
        stored = await stored_outcome(read_model, event.case_id)
        if stored is None:
            return None
        if not same_outcome(stored, event):  # the case sink counted the published loser
            raise CaseError(409, CONFLICTING_OUTCOME.format(stored.resultaat))
        return True
    if isinstance(event, ContactAttemptRecorded):
        attempt = await stored_attempt(read_model, event.event_id)
        if attempt is None:
            return None
        mine = (event.soort, event.bereikt, event.datum, event.dagdeel, event.actor)
        if (attempt.soort, attempt.bereikt, attempt.datum, attempt.dagdeel, attempt.actor) != mine:
            _conflict(pipeline, "request_id")
            raise CaseError(409, CONFLICTING_REQUEST, "request_id")
        return True
    if isinstance(event, CaseAssigned | NextActionPlanned):
        return await _work_stored_as(pipeline, read_model, event)
    return await _status_stored_as(pipeline, read_model, event)


async def _work_stored_as(
    pipeline: Pipeline, read_model: ReadModel, event: CaseAssigned | NextActionPlanned
) -> bool | None:
    """`stored_as` of an assignment or next action: the case's work row names the last change applied."""
    # The audit log first: the sink writes it and the row in one transaction, so a row read after
    # it is at least as new. The other way round, a commit between the two reads looked like a
    # change applied and replaced since (a 409 for the very change just posted).
    audited = await event_stored(read_model, "audit_log", "event_id", event.event_id)
    work = await stored_work(read_model, event.case_id)
    current: tuple[str | None, object] | None
    if isinstance(event, CaseAssigned):
        current = None if work is None else (work.assign_event_id, work.assignee)
        mine: object = event.assignee
    else:
        current = None if work is None else (work.plan_event_id, work.next_action_on)
        mine = event.datum
    if current is not None and current[0] == event.event_id:
        if current[1] != mine:
            _conflict(pipeline, "request_id")
            raise CaseError(409, CONFLICTING_REQUEST, "request_id")
        return True
    if audited:
        _conflict(pipeline, "request_id")
        raise CaseError(409, SUPERSEDED_CHANGE, "request_id")
    return None


async def _status_stored_as(
    pipeline: Pipeline, read_model: ReadModel, event: SignalStatusChanged
) -> bool | None:
    """`stored_as` of a status change: the signal's row names the last change applied."""
    audited = await event_stored(read_model, "audit_log", "event_id", event.event_id)  # first: see above
    current = await stored_status(read_model, event.signal_id)
    if current is not None and current[0] == event.event_id:
        if current[1] != event.status:
            _conflict(pipeline, "request_id")
            raise CaseError(409, CONFLICTING_REQUEST, "request_id")
        return True
    if audited:
        # Applied before and replaced since (or refused as a rival): what it said is no longer known.
        _conflict(pipeline, "request_id")
        raise CaseError(409, SUPERSEDED_STATUS, "request_id")
    return None


def _conflict(pipeline: Pipeline, kind: str) -> None:
    pipeline.metrics.conflicts.labels(kind).inc()


async def read_case(
    pipeline: Pipeline,
    who: Principal,
    case_id: str,
    *,
    signals_limit: int = CASE_SIGNALS_PAGE_SIZE,
    signals_offset: int = 0,
) -> CaseDetail:
    """A case of the member's own team, its read recorded in the audit log first (a refused one too).

    One page of its signals: `signals_limit` from the newest `signals_offset` on (issue 16).
    """
    case = await authorised_case(pipeline, who, case_id, audit_refusal=True, signals_limit=0)
    await audit_view(pipeline, who.member_id, who.team_id, case.household_key, case_id)
    detail = await case_detail(
        read_model_of(pipeline), case_id, signals_limit=signals_limit, signals_offset=signals_offset
    )
    assert detail is not None  # authorised_case found it; cases are only deleted by retention
    return detail


async def wait_stored(pipeline: Pipeline, event: TeamChange, *, timeout_s: float = 5.0) -> bool:
    """Poll (without blocking the loop) until the case sink has written the event's row.

    True when the read model holds this change; a CaseError 409 when it holds another under
    the same id (the case's other outcome, a request id first used with other content):
    the sink, which stores the first one, decided; False when the sink has not got to it yet.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if await stored_as(pipeline, event):
                return True
        except Unavailable:
            return False  # the broker has the change; the database cannot tell yet: 202, not 503
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
