"""The work queue (issue 19) on real parts: the fold on SQLite and PostgreSQL, then the API on one worker.

The read-model tests write case events as the case sink does (no worker); the API tests share one
module-scoped worker with one case in its inbox.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from connectors.kafka.broker import EmbeddedBroker
from connectors.readmodel import ReadModel
from connectors.readmodel.case_queries import case_summary
from connectors.readmodel.case_rows import CaseItem
from connectors.readmodel.case_writer import write_case_batch
from connectors.readmodel.retention import open_cases_with_activity, purge_closed_cases
from connectors.readmodel.work_queue import NOBODY, HouseSearch, QueueFilter, team_areas, work_queue_page
from schemas.cases_v1 import CASE_EVENT, CaseAssigned
from schemas.outputs_v1 import Route, Signal
from signals.cases import work_status
from streams.team import cases as team_cases
from streams.worker.metrics import Metrics
from tests.integration.harness import Worker, collect, isolated_worker, publish, running
from tests.integration.runs import table_rows
from tests.integration.team_client import DEMO_TOKENS, call, login_cookie
from tests.unit import case_examples as ex
from tests.unit import work_examples as wx

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

OOST = Route(
    team_id=ex.TEAM,
    buurt_code="BU03630100",
    wijk_code="WK036301",
    gemeente_code="GM0363",
    map_version="test",
    fallback=False,
)
TWELVE_A, TWELVE, HUNDRED_TWENTY = "1011AB-12A", "1011AB-12", "1011AB-120"


def queue_history() -> list[CaseItem]:
    """Four households' September cases of one team, worked on: assigned, planned, tried, reached, closed."""
    d = ex.later
    return [
        ex.signal("s1", priority="normal"),  # HOUSEHOLD: taken, then handed over; next action planned
        ex.signal("s2", d(ex.SEPT, 1), household=TWELVE_A, priority="urgent", route=OOST),
        ex.signal("s3", d(ex.SEPT, 2), household=TWELVE),
        ex.signal("s4", d(ex.SEPT, 3), household=HUNDRED_TWENTY),
        wx.assigned("a1", d(ex.SEPT, 1), "centrum-01"),
        wx.assigned("a2", d(ex.SEPT, 2), "centrum-02", previous="centrum-01"),
        wx.planned("p1", d(ex.SEPT, 2), date(2026, 9, 10)),
        wx.planned("p2", d(ex.SEPT, 1), date(2026, 9, 20), household=TWELVE),
        ex.attempt("t1", d(ex.SEPT, 2), household=TWELVE),
        ex.attempt("t2", d(ex.SEPT, 2), household=TWELVE_A).model_copy(update={"bereikt": True}),
        ex.outcome("Vervolghulp en/of verwijzing financieel", d(ex.SEPT, 4), household=HUNDRED_TWENTY),
    ]


async def _work_rows(rm: ReadModel) -> list[tuple[Any, ...]]:
    return (await table_rows(rm))["case_work"]


async def _fresh(rm: ReadModel) -> None:
    from sqlalchemy import delete

    from connectors.readmodel.tables import Base

    async with rm.engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            await conn.execute(delete(table))


async def _write_all(rm: ReadModel, items: list[CaseItem]) -> None:
    """As the worker does: the read-model sink writes the signals, the case sink the cases and events."""
    await rm.write([i for i in items if isinstance(i, Signal)])
    await write_case_batch(rm, items)


@pytest.mark.parametrize("kind", ["assignment", "next action", "signal status"])
async def test_the_sink_committing_between_the_handlers_two_reads_never_makes_the_change_a_409(
    rm: ReadModel, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    # A handler asks the read model twice whether its change is stored (the audit log and the
    # case's work row). The sink's commit landing between the two reads once answered 409 for
    # the very change just posted, as if it had been applied and replaced since.
    await _write_all(rm, [ex.signal("s1")])
    changes: dict[str, Any] = {
        "assignment": wx.assigned("a1", ex.later(ex.SEPT, 1), "centrum-01"),
        "next action": wx.planned("p1", ex.later(ex.SEPT, 1), date(2026, 9, 20)),
        "signal status": ex.status("s1", "Opgepakt", ex.later(ex.SEPT, 1), "r1"),
    }
    change = changes[kind]
    pending = [change]
    for name in ("event_stored", "stored_work", "stored_status"):
        real = getattr(team_cases, name)

        async def commit_after_the_first_read(*args: Any, _real: Any = real) -> Any:
            result = await _real(*args)
            if pending:
                await _write_all(rm, [pending.pop()])  # the sink commits right now
            return result

        monkeypatch.setattr(team_cases, name, commit_after_the_first_read)
    pipeline: Any = SimpleNamespace(read_model=SimpleNamespace(model=rm), metrics=Metrics())
    assert await team_cases.wait_stored(pipeline, change, timeout_s=2) is True
    assert not pending


async def test_a_replay_in_any_order_or_batching_rebuilds_the_same_assignments_and_next_actions(
    rm: ReadModel,
) -> None:
    items = queue_history()
    await write_case_batch(rm, items)
    expected = await _work_rows(rm)
    summary = await case_summary(rm, ex.case_of())
    assert summary is not None
    assert (summary.assignee, summary.next_action_on) == ("centrum-02", date(2026, 9, 10))
    await write_case_batch(rm, items)  # the same batch again (a retried batch)
    assert await _work_rows(rm) == expected
    await _fresh(rm)
    # Case events before their signals (a replay may read case-events first), newest first, one per batch.
    for item in [i for i in items if i.type != "signal"][::-1] + [i for i in items if i.type == "signal"]:
        await write_case_batch(rm, [item])
    assert await _work_rows(rm) == expected


async def test_a_reused_assignment_id_in_a_later_batch_changes_nothing(rm: ReadModel) -> None:
    first = wx.assigned("a1", ex.later(ex.SEPT, 1), "centrum-01")
    rival = first.model_copy(update={"assignee": "centrum-02", "occurred_at": ex.later(ex.SEPT, 2)})
    await write_case_batch(rm, [ex.signal("s1"), first])
    await write_case_batch(rm, [rival])
    summary = await case_summary(rm, ex.case_of())
    assert summary is not None
    assert summary.assignee == "centrum-01"


async def test_the_queue_filters_searches_and_counts_in_sql(rm: ReadModel) -> None:
    await _write_all(rm, queue_history())

    async def households(flt: QueueFilter, today: date | None = None) -> list[str]:
        page = await work_queue_page(rm, ex.TEAM, flt, today=today)
        return [c.household_key for c in page.cases]

    # Open cases only, most urgent first; the closed one is counted, not listed.
    everything = await work_queue_page(rm, ex.TEAM, QueueFilter(), today=date(2026, 9, 10))
    assert [c.household_key for c in everything.cases] == [TWELVE_A, TWELVE, ex.HOUSEHOLD]
    assert everything.counts == {"nieuw": 1, "contact_gezocht": 1, "bereikt": 1, "afgerond": 1}
    assert everything.total == 3
    assert everything.due == 1  # HOUSEHOLD's next action on 10 September; TWELVE's on the 20th
    first = everything.cases[2]
    assert (first.assignee, first.next_action_on, first.work_status) == (
        "centrum-02",
        date(2026, 9, 10),
        "nieuw",
    )

    assert await households(QueueFilter(wijk="WK036301")) == [TWELVE_A]
    assert await households(QueueFilter(buurt="BU03630000")) == [TWELVE, ex.HOUSEHOLD]
    assert await households(QueueFilter(priority="normal")) == [ex.HOUSEHOLD]
    assert await households(QueueFilter(status="afgerond")) == [HUNDRED_TWENTY]
    [closed] = (await work_queue_page(rm, ex.TEAM, QueueFilter(status="afgerond"))).cases
    assert closed.outcome is not None
    assert closed.outcome.resultaat == "Vervolghulp en/of verwijzing financieel"
    assert await households(QueueFilter(status="bereikt")) == [TWELVE_A]
    assert await households(QueueFilter(assignee="centrum-02")) == [ex.HOUSEHOLD]
    assert await households(QueueFilter(assignee=NOBODY)) == [TWELVE_A, TWELVE]
    # Due: by next action first; what was due before still shows.
    assert await households(QueueFilter(due_by=date(2026, 9, 20))) == [ex.HOUSEHOLD, TWELVE]
    assert await households(QueueFilter(due_by=date(2026, 9, 9))) == []
    # Search: 12 finds 12 and 12A, not 120; a whole key finds that home; a postcode all of it.
    assert await households(QueueFilter(search=HouseSearch("1011AB", 12))) == [TWELVE_A, TWELVE]
    assert await households(QueueFilter(search=HouseSearch("1011AB", 12, TWELVE_A))) == [TWELVE_A]
    assert await households(QueueFilter(search=HouseSearch("1011AB"))) == [TWELVE_A, TWELVE, ex.HOUSEHOLD]
    assert await households(QueueFilter(search=HouseSearch("1011AB", 120), status="afgerond")) == [
        HUNDRED_TWENTY
    ]
    # Counts apply every filter but the status.
    oost = await work_queue_page(rm, ex.TEAM, QueueFilter(wijk="WK036301", status="nieuw"))
    assert (oost.cases, oost.counts["bereikt"], oost.counts["nieuw"]) == ((), 1, 0)
    paged = await work_queue_page(rm, ex.TEAM, QueueFilter(), limit=2, offset=2)
    assert ([c.household_key for c in paged.cases], paged.next_offset, paged.previous_offset) == (
        [ex.HOUSEHOLD],
        None,
        0,
    )
    assert await team_areas(rm, ex.TEAM) == (["WK036300", "WK036301"], ["BU03630000", "BU03630100"])


async def test_the_sql_status_is_the_pure_rule(rm: ReadModel) -> None:
    items = queue_history()
    await _write_all(rm, items)
    for household in (ex.HOUSEHOLD, TWELVE_A, TWELVE, HUNDRED_TWENTY):
        case_id = ex.case_of(ex.SEPT, household)
        attempts = [i for i in items if i.type == "contact_attempt_recorded" and i.case_id == case_id]
        expected = work_status(
            has_outcome=any(i.type == "outcome_recorded" and i.case_id == case_id for i in items),
            attempts=len(attempts),
            reached=any(getattr(a, "bereikt", False) for a in attempts),
        )
        summary = await case_summary(rm, case_id)
        assert summary is not None
        assert summary.work_status == expected, household


async def test_retention_deletes_a_closed_case_work_row(rm: ReadModel) -> None:
    closed = ex.outcome("Vervolghulp en/of verwijzing financieel", ex.later(ex.SEPT, 4))
    await _write_all(rm, [ex.signal("s1"), wx.assigned("a1", ex.later(ex.SEPT, 1), "centrum-01"), closed])
    assert len(await _work_rows(rm)) == 1
    await purge_closed_cases(rm, cutoff=datetime(2026, 10, 1, tzinfo=UTC))
    assert await _work_rows(rm) == []


async def test_assigning_or_planning_counts_as_activity_for_the_retention_job(rm: ReadModel) -> None:
    planned_at = ex.later(ex.SEPT, 20)
    await _write_all(rm, [ex.signal("s1"), wx.assigned("a1", ex.later(ex.SEPT, 5), "centrum-01")])
    await write_case_batch(rm, [wx.planned("p1", planned_at, date(2026, 10, 1))])
    [case] = await open_cases_with_activity(rm)
    assert case.last_activity_at == planned_at


# --- the JSON API on a worker ---

TOKEN = DEMO_TOKENS[ex.TEAM]
CASE = f"/v1/cases/{ex.case_of()}"
QUEUE = f"/v1/teams/{ex.TEAM}/cases"


@pytest.fixture(scope="module")
def worker(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A worker whose inbox holds one case (a signal on the signals topic)."""
    worker = isolated_worker(broker, tmp_path_factory.mktemp("work-queue"), "work-queue")
    with running(worker, topics_first=True) as w:
        sig = ex.signal("sig-queue")
        asyncio.run(
            publish(broker, [(w.names.signals, ex.HOUSEHOLD.encode(), sig.model_dump_json().encode())])
        )
        deadline = time.monotonic() + 30
        while not call(w, "GET", QUEUE, token=TOKEN).body.get("cases"):
            assert time.monotonic() < deadline, "the signal's case never reached the inbox"
            time.sleep(0.2)
        yield w


def _post(worker: Worker, path: str, body: dict[str, Any], token: str = TOKEN) -> tuple[int, Any]:
    answer = call(worker, "POST", path, token=token, json_body=body)
    return answer.status, answer.body


def _queue(worker: Worker, query: str = "") -> dict[str, Any]:
    answer = call(worker, "GET", QUEUE + query, token=TOKEN)
    assert answer.status == 200, answer.body
    body: dict[str, Any] = answer.body
    return body


def _amsterdam_today() -> date:
    from signals.calendar import local_day

    return local_day(datetime.now(UTC))


def test_a_member_takes_a_case_plans_it_for_today_and_finds_it_in_the_queue(
    broker: EmbeddedBroker, worker: Worker
) -> None:
    request_id = "take-" + uuid.uuid4().hex[:12]
    status, body = _post(worker, CASE + "/assignment", {"assignee": "mij", "request_id": request_id})
    assert (status, body["type"]) == (201, "case_assigned")
    assert (
        _post(worker, CASE + "/assignment", {"assignee": "mij", "request_id": request_id})[0] == 201
    )  # a retry
    status, refused = _post(worker, CASE + "/assignment", {"assignee": None, "request_id": request_id})
    assert (status, refused["field"]) == (409, "request_id")  # the same request id with other content

    today = _amsterdam_today()
    assert _post(worker, CASE + "/next-action", {"datum": today.isoformat()})[0] == 201
    status, past = _post(worker, CASE + "/next-action", {"datum": (today - timedelta(days=1)).isoformat()})
    assert (status, past["field"]) == (400, "datum")

    mine = _queue(worker, "?assignee=mij&due=today")
    assert [(c["assignee"], c["next_action_on"], c["work_status"]) for c in mine["cases"]] == [
        ("centrum-01", today.isoformat(), "nieuw")
    ]
    assert (mine["due_today"], mine["counts"]["nieuw"]) == (1, 1)
    assert [c["household_key"] for c in _queue(worker, "?postcode=1011+ab&house_number=1")["cases"]] == [
        ex.HOUSEHOLD
    ]
    assert _queue(worker, "?postcode=1011AB&house_number=10")["cases"] == []
    assert _queue(worker, "?assignee=niemand")["cases"] == []
    detail = call(worker, "GET", CASE, token=TOKEN).body
    assert (detail["assignee"], detail["next_action_on"]) == ("centrum-01", today.isoformat())

    # Each change is one event on case-events, folded by the case sink (so a replay rebuilds it).
    records = asyncio.run(collect(broker, [worker.names.case_events], until=lambda r: False, timeout_s=2))
    events = [CASE_EVENT.validate_json(r.value) for r in records]
    assignments = [e for e in events if isinstance(e, CaseAssigned)]
    assert [(e.assignee, e.previous, e.actor) for e in assignments] == [("centrum-01", None, "centrum-01")]


def test_a_medewerker_cannot_give_a_case_to_another_team_nor_take_a_colleagues(worker: Worker) -> None:
    status, body = _post(worker, CASE + "/assignment", {"assignee": "oost-01"})
    assert (status, body["field"]) == (400, "assignee")
    assert "geen lid van het team" in body["detail"]
    # Another team's member cannot see (or take) the case at all.
    assert (
        _post(worker, CASE + "/assignment", {"assignee": "mij"}, token=DEMO_TOKENS["buurtteam-oost"])[0]
        == 404
    )
    # Letting go of one's own case: then nobody has it.
    assert _post(worker, CASE + "/assignment", {"assignee": "mij"})[0] == 201
    assert _post(worker, CASE + "/assignment", {"assignee": None})[0] == 201
    assert [c["assignee"] for c in _queue(worker, "?assignee=niemand")["cases"]] == [None]
    assert _post(worker, CASE + "/next-action", {"datum": None})[0] == 201
    assert _queue(worker, "?due=today")["cases"] == []


def test_a_coordinator_reassigns_a_colleagues_case_which_a_medewerker_cannot(worker: Worker) -> None:
    coordinator = "demo-coordinator"  # the sample teams' coordinator of Centrum (centrum-02)
    assert _post(worker, CASE + "/assignment", {"assignee": "mij"})[0] == 201  # centrum-01 takes it
    assert _post(worker, CASE + "/assignment", {"assignee": "mij"}, token=coordinator)[0] == 201
    assert call(worker, "GET", CASE, token=TOKEN).body["assignee"] == "centrum-02"
    # Now it is a colleague's case: the medewerker cannot take it back, the coordinator can give it.
    status, refused = _post(worker, CASE + "/assignment", {"assignee": "mij"})
    assert (status, refused["field"]) == (403, "assignee")
    assert "coördinator" in refused["detail"]
    assert _post(worker, CASE + "/assignment", {"assignee": "centrum-01"}, token=coordinator)[0] == 201
    assert call(worker, "GET", CASE, token=TOKEN).body["assignee"] == "centrum-01"
    assert _post(worker, CASE + "/assignment", {"assignee": None})[0] == 201  # and lets go again


def test_wrong_filters_answer_400_naming_the_parameter(worker: Worker) -> None:
    answer = call(worker, "GET", QUEUE + "?wijk=centrum", token=TOKEN)
    assert (answer.status, answer.body["field"]) == (400, "wijk")
    members = call(worker, "GET", f"/v1/teams/{ex.TEAM}/members", token=TOKEN).body["members"]
    assert {"member_id": "centrum-01", "name": "Demo medewerker Centrum"} in members


def test_the_pages_filter_take_and_plan_with_forms(worker: Worker) -> None:
    cookie, _ = login_cookie(worker, TOKEN)
    page = f"/zaken/{ex.case_of()}"
    assert call(worker, "POST", page + "/toewijzing", form={"assignee": ""}, cookie=cookie).status in (
        303,
        403,
    )
    taken = call(
        worker,
        "POST",
        page + "/toewijzing",
        form={"assignee": "mij", "request_id": uuid.uuid4().hex},
        cookie=cookie,
    )
    assert (taken.status, taken.location) == (303, page + "?melding=toewijzing")
    wrong = call(worker, "POST", page + "/volgende-actie", form={"datum": "31-02-2026"}, cookie=cookie)
    assert wrong.status == 400
    assert 'id="actie-datum" name="datum" type="date" value="31-02-2026" aria-invalid="true"' in wrong.body
    planned = call(
        worker,
        "POST",
        page + "/volgende-actie",
        form={"datum": _amsterdam_today().isoformat()},
        cookie=cookie,
    )
    assert (planned.status, planned.location) == (303, page + "?melding=actie")

    inbox = call(worker, "GET", f"/team/{ex.TEAM}/zaken?behandelaar=mij&actie=vandaag", cookie=cookie)
    assert inbox.status == 200
    assert "Actie vandaag: 1" in inbox.body
    assert f'href="{page}"' in inbox.body
    assert "nu aan de beurt" in inbox.body
    searched = call(worker, "GET", f"/team/{ex.TEAM}/zaken?postcode=10", cookie=cookie)
    assert searched.status == 200  # a mistyped search: the queue unsearched, the message at the field
    assert "Vul een postcode in zoals 1011 AB." in searched.body
    case_page = call(worker, "GET", page, cookie=cookie).body
    assert "Overdragen aan" in case_page
    assert "Zaak oppakken" not in case_page
