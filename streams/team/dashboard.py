"""The coordinator's page: the team's figures of a month and its DDAS report, without a shell on the server.

| method | path | what |
|---|---|---|
| GET | /team/{team}/overzicht?maand=JJJJ-MM | figures of the month (table and chart) and the report links |
| GET | /team/{team}/rapport.json?maand=JJJJ-MM&gemeente=GM0363 | the DDAS Uitwisselmodel of the team's cases |

Coordinators of the team only (streams/team/roles.py): another team answers 403, a medewerker 403,
no session the login form. The report is built by the same code as `vroegsignaal report cbs`
(streams/team/cbs_report.py), from the team's cases only, and every case in it is an audited read.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import faust
import orjson
from faust.web import Request, Response, View

from connectors.readmodel.team_report_queries import team_cases_in_period
from signals.calendar import local_day
from streams.team import cases as cc
from streams.team import html as pages
from streams.team.auth import Principal, TeamAuth
from streams.team.cbs_report import ReportError, uitwisselmodel
from streams.team.roles import can_see_dashboard
from streams.team.team_figures import MonthError, bars, figures_of, month_period
from streams.worker.audit import audit_view
from streams.worker.pipeline import Pipeline

__all__ = ["register_dashboard"]

_NO_STORE = {"Cache-Control": "no-store"}
_GEMEENTE = re.compile(r"^GM[0-9]{4}$")


def register_dashboard(app: faust.App, pipeline: Pipeline, auth: TeamAuth) -> None:
    """Attach the coordinator's overview and report download."""

    async def coordinator(view: View, request: Request, team: str) -> Principal | Response:
        who = await auth.authenticate(request.headers, request.cookies)
        if who is None:
            return view.text("", status=303, headers={"Location": "/team/login", **_NO_STORE})
        name = auth.directory.team_names.get(who.team_id, who.team_id)
        if team != who.team_id:
            return _error(view, 403, "Dit is het overzicht van een ander team.", who, name)
        if not can_see_dashboard(who):
            return _error(view, 403, "Alleen een coördinator van het team ziet dit overzicht.", who, name)
        return who

    @app.page("/team/{team}/overzicht")
    class Overview(View):
        async def get(self, request: Request, team: str) -> Response:
            who = await coordinator(self, request, team)
            if not isinstance(who, Principal):
                return who
            name = auth.directory.team_names.get(team, team)
            maand = request.query.get("maand", "")[:20]
            try:
                start, end = month_period(maand, local_day(datetime.now(UTC)))
            except MonthError as exc:
                return _error(self, 400, str(exc), who, name)
            per_gemeente = await team_cases_in_period(cc.read_model_of(pipeline), team, start, end)
            figures = figures_of((c for cs in per_gemeente.values() for c in cs), start, end)
            body = pages.render(
                "dashboard.html",
                who=who,
                team_name=name,
                active="overzicht",
                maand=f"{start:%Y-%m}",
                figures=figures,
                bars=bars(figures),
                gemeenten=sorted(per_gemeente),
            )
            return self.html(body, headers=dict(_NO_STORE))

    @app.page("/team/{team}/rapport.json")
    class Report(View):
        async def get(self, request: Request, team: str) -> Response:
            who = await coordinator(self, request, team)
            if not isinstance(who, Principal):
                return who
            name = auth.directory.team_names.get(team, team)
            gemeente = request.query.get("gemeente", "")
            try:
                start, end = month_period(request.query.get("maand", "")[:20], local_day(datetime.now(UTC)))
                if not _GEMEENTE.match(gemeente):
                    raise ReportError("Kies een gemeente (CBS-code zoals GM0363).")
            except (MonthError, ReportError) as exc:
                return _error(self, 400, str(exc), who, name)
            found = await team_cases_in_period(cc.read_model_of(pipeline), team, start, end)
            cases = found.get(gemeente, [])
            # Postcode and house number of every household in it: each case is a read, audited first.
            await asyncio.gather(
                *(audit_view(pipeline, who.member_id, team, c.household_key, c.case_id) for c in cases)
            )
            document = uitwisselmodel(
                cases,
                gemeente=gemeente,
                start=start,
                end=end,
                delivered_at=datetime.now(UTC),
                supplier="vroegsignaal",
                organisation=name,
            )
            filename = f"ddas-{team}-{gemeente}-{start:%Y-%m}.json"
            return self.bytes(
                orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n",
                content_type="application/json",
                headers={**_NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'},
            )


def _error(view: View, status: int, message: str, who: Principal, team_name: str) -> Any:
    body = pages.error_page(status, message, who, team_name)
    return view.html(body, status=status, headers=dict(_NO_STORE))
