"""The work queue's forms on the case page (issue 19): assign or take the case, plan its next action.

Same as the other case forms (streams/team/pages.py): a same-origin post with a `request_id`,
published as an event, then back to the case page (post/redirect/get); a mistake shows the case
page again with the message at the field and the typed value kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import faust
from faust.web import Request, Response, View

from streams.team import cases as cc
from streams.team import work_queue as wq
from streams.team.auth import Principal, TeamAuth
from streams.team.pages import (
    FormField,
    _case_page,
    _guard,
    _html,
    _redirect,
    creditor_directory,
    form_errors,
)
from streams.worker.edge import BadInput, read_form
from streams.worker.pipeline import Pipeline

__all__ = ["ASSIGN_FORM", "NEXT_ACTION_FORM", "register_queue_pages"]

ASSIGN_FORM = {
    "assignee": FormField("toewijzing-aan", "", lambda _raw: "Kies iemand van uw team, of niemand."),
}
NEXT_ACTION_FORM = {
    "datum": FormField(
        "actie-datum",
        None,
        lambda _raw: (
            "Vul een datum in vanaf vandaag, hoogstens een jaar vooruit, bijvoorbeeld "
            f"{cc.today():%d-%m-%Y}; laat het veld leeg om de volgende actie te wissen."
        ),
    ),
}


def register_queue_pages(app: faust.App, pipeline: Pipeline, auth: TeamAuth) -> None:
    """Attach the assignment and next-action form posts."""
    guarded = _guard(auth)
    creditors = creditor_directory(pipeline.settings)

    async def form_of(request: Request) -> Mapping[str, Any]:
        try:
            return await read_form(request, timeout_s=pipeline.settings.web_body_timeout_s)
        except BadInput as exc:
            raise cc.CaseError(exc.status, exc.message) from None

    async def finish(view: View, who: Principal, event: cc.TeamChange, notice: str) -> Response:
        stored = await cc.wait_stored(pipeline, event)
        return _redirect(view, f"/zaken/{event.case_id}?melding={notice if stored else 'verwerking'}")

    async def again(
        view: View,
        who: Principal,
        case_id: str,
        check: Any,
        form: Mapping[str, Any],
        fields: Mapping[str, FormField],
    ) -> Response:
        errors, values = form_errors(check, form, fields)
        body = await _case_page(pipeline, auth, creditors, who, case_id, errors=errors, values=values)
        return _html(view, body, 400)

    @app.page("/zaken/{case_id}/toewijzing")
    class Assign(View):
        async def post(self, request: Request, case_id: str) -> Response:
            async def handle(who: Principal) -> Response:
                case = await cc.authorised_case(pipeline, who, case_id, signals_limit=0)
                form = await form_of(request)
                members = await wq.team_members(pipeline, auth.directory, case.team_id)
                try:
                    event = await wq.record_assignment(pipeline, who, case, form, members)
                except cc.CaseError as exc:
                    if exc.status != 400 or exc.field not in ASSIGN_FORM:
                        raise
                    check = lambda f: wq.assignment(who, case, f, members)  # noqa: E731
                    return await again(self, who, case_id, check, form, ASSIGN_FORM)
                return await finish(self, who, event, "toewijzing")

            return await guarded(self, request, handle, post=True)

    @app.page("/zaken/{case_id}/volgende-actie")
    class NextAction(View):
        async def post(self, request: Request, case_id: str) -> Response:
            async def handle(who: Principal) -> Response:
                case = await cc.authorised_case(pipeline, who, case_id, signals_limit=0)
                form = await form_of(request)
                try:
                    event = await wq.plan_next_action(pipeline, who, case, form)
                except cc.CaseError as exc:
                    if exc.status != 400 or exc.field not in NEXT_ACTION_FORM:
                        raise
                    check = lambda f: wq.next_action(who, case, f)  # noqa: E731
                    return await again(self, who, case_id, check, form, NEXT_ACTION_FORM)
                return await finish(self, who, event, "actie")

            return await guarded(self, request, handle, post=True)
