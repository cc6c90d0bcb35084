"""CLI commands of the team workflow: `audit`, `retention` and `report cbs` (bodies and Faust wrappers)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from faust.cli import AppCommand, argument, option

from connectors.readmodel import ReadModel
from connectors.readmodel.case_queries import audit_entries
from streams.cli.commands import CommandError, read_model_reachable, table
from streams.cli.retention import retention_cutoff, run_retention
from streams.team.cbs_report import ReportError, write_cbs_report
from streams.worker.settings import Settings

__all__ = ["attach", "make_report", "print_audit", "retention_cutoff", "run_retention"]


def _day(value: str | None, option_name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option_name} {value!r} is not a date like 2026-09-30") from None


async def print_audit(
    settings: Settings, member: str | None, household: str | None, since: str | None
) -> None:
    """Print the audit log, oldest first, filtered."""
    day = _day(since, "--since")
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC) if day else None
    read_model = await ReadModel.open(settings.effective_database_url)
    try:
        rows = await audit_entries(read_model, member=member, household=household, since=start)
    finally:
        await read_model.close()
    lines = [("when (UTC)", "member", "team", "action", "household", "case")]
    lines += [
        (
            r["occurred_at"].strftime("%Y-%m-%d %H:%M:%S"),
            r["actor"],
            r["team_id"] or "-",
            r["action"],
            r["household_key"] or "-",
            r["case_id"] or "-",
        )
        for r in rows
    ]
    print(table(lines))
    print(f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}")


async def make_report(settings: Settings, kind: str, options: dict[str, Any]) -> None:
    """`report cbs`: write the DDAS file."""
    if kind != "cbs":
        raise CommandError(
            f"unknown report {kind!r}; use: report cbs --gemeente GM#### --from DATE --to DATE --out FILE"
        )
    start, end = _day(options["date_from"], "--from"), _day(options["date_to"], "--to")
    assert start is not None
    assert end is not None
    try:
        document = await write_cbs_report(
            settings.effective_database_url,
            gemeente=options["gemeente"],
            start=start,
            end=end,
            out=Path(options["out"]),
            supplier=options["leverancier"],
            organisation=options["organisatie"],
        )
    except ReportError as exc:
        raise CommandError(str(exc)) from None
    levering = document["leveringen"][0]
    print(
        f"wrote {options['out']}: {len(levering['vroegsignaalzaken'])} vroegsignaalzaken, "
        f"{len(levering['vroegsignalen'])} vroegsignalen of {options['gemeente']}, {start} to {end}"
    )


def attach(app: Any, settings: Settings) -> None:
    """The Faust command wrappers (one line each into the bodies above)."""

    @app.command(
        option("--member", type=str, default=None, help="Only this member id."),
        option("--household", type=str, default=None, help="Only this household key, e.g. 1011AB-1."),
        option("--since", type=str, default=None, help="Only from this date (YYYY-MM-DD, UTC)."),
    )
    async def audit(self: AppCommand, member: str | None, household: str | None, since: str | None) -> None:
        """Who read or changed which household or case, and when."""
        with read_model_reachable(settings):
            await print_audit(settings, member, household, since)

    @app.command(option("--dry-run", is_flag=True, default=False, help="Only report what would be deleted."))
    async def retention(self: AppCommand, dry_run: bool) -> None:
        """Close inactive cases, delete cases closed `retention_months` ago and quiet households; keep counts."""
        with read_model_reachable(settings):
            await run_retention(settings, dry_run=dry_run)

    @app.command(
        argument("kind", type=str),
        option("--gemeente", type=str, required=True, help="CBS gemeente code, e.g. GM0363."),
        option("--from", "date_from", type=str, required=True, help="First day (YYYY-MM-DD)."),
        option("--to", "date_to", type=str, required=True, help="Last day (YYYY-MM-DD)."),
        option("--out", type=str, required=True, help="The JSON file to write."),
        option("--leverancier", type=str, default="vroegsignaal", help="codeGegevensleverancier."),
        option("--organisatie", type=str, default=None, help="Name of the delivering organisation."),
    )
    async def report(self: AppCommand, kind: str, **options: Any) -> None:
        """`report cbs`: the DDAS Uitwisselmodel v1.2 JSON of a gemeente and period for CBS."""
        with read_model_reachable(settings):
            await make_report(settings, kind, options)
