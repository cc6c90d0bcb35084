"""Bodies of the project's CLI commands (the Faust command wrappers stay one-liners)."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from connectors.errors import Unavailable
from connectors.kafka.broker import EmbeddedBroker
from connectors.readmodel import ReadModel, is_transient, overview, shown_url
from schemas.export import export_json_schemas
from schemas.household import HouseholdKeyError, parse_household
from schemas.outputs_v1 import HouseholdOverview
from signals.money import eur_nl
from signals.policy import describe_rules
from streams.worker.settings import Settings


class CommandError(SystemExit):
    """A command failed for a reason the user can fix; exits 2 with a one-line message."""

    def __init__(self, message: str) -> None:
        print(f"vroegsignaal: {message}", file=sys.stderr)
        super().__init__(2)


@contextmanager
def read_model_reachable(settings: Settings) -> Iterator[None]:
    """A read model that cannot be reached ends the command in one line naming the setting, not a traceback."""
    try:
        yield
    except Exception as exc:
        if not _unreachable(exc):
            raise
        url = shown_url(settings.effective_database_url)
        raise CommandError(
            f"cannot reach the read model at {url} ({type(exc).__name__}: {exc}); check 'database_url'"
        ) from None


def _unreachable(exc: BaseException) -> bool:
    if isinstance(exc, Unavailable):
        return True
    if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError | NotADirectoryError):
        return False  # a file of the command (an --out path), not the database
    return is_transient(exc)


async def run_broker(port: int | None) -> None:
    """Embedded broker in the foreground until Ctrl-C or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with EmbeddedBroker(port=port) as broker:
        print(f"broker listening on {broker.url} (bootstrap {broker.bootstrap}); Ctrl-C stops it", flush=True)
        await stop.wait()


def print_rules(settings: Settings) -> None:
    """The effective rules as an aligned table, each with its legal basis (article, ruling, policy)."""
    rows: list[tuple[str, ...]] = [("source", "rule", "value", "basis"), *describe_rules(settings.rules)]
    print(table(rows))


def schemas(action: str, directory: Path) -> None:
    """`schemas export DIR`."""
    if action != "export":
        raise CommandError(f"unknown schemas action {action!r}; use: schemas export DIR")
    for path in export_json_schemas(directory):
        print(path)


async def print_overview(settings: Settings, postcode: str, house: str) -> None:
    """Read a household's overview from the read model and print it."""
    try:
        key = parse_household(postcode, house)
    except HouseholdKeyError as exc:
        raise CommandError(str(exc)) from None
    with read_model_reachable(settings):
        read_model = await ReadModel.open(settings.effective_database_url)
        try:
            found = await overview(read_model, key)
        finally:
            await read_model.close()
    if found is None:
        raise CommandError(f"no household {key} in {shown_url(settings.effective_database_url)}")
    print(render_overview(found))


def render_overview(found: HouseholdOverview) -> str:
    """The integrated debt overview as a readable table, amounts in euros."""
    rows: list[tuple[str, ...]] = [
        ("creditor", "source", "ref", "principal", "costs", "days overdue", "reminders", "pay by", "status")
    ]
    for d in found.debts:
        reminders = ", ".join(f"{r.kind} {r.sent_on.isoformat()} ({r.issued_by})" for r in d.reminders) or "-"
        status = d.status + (f" ({d.close_reason})" if d.close_reason else "")
        rows.append(
            (
                d.creditor_name,
                d.debt.source,
                d.debt.debt_ref,
                eur_nl(d.principal_cents),
                eur_nl(d.costs_cents),
                str(d.days_overdue),
                reminders,
                d.pay_by.isoformat() if d.pay_by else "-",
                status,
            )
        )
    head = (
        f"Household {found.household_key}  team {found.team_id}  buurt {found.buurt_code or '-'}  "
        f"as of {found.as_of:%Y-%m-%d %H:%M} UTC"
    )
    foot = (
        f"Total principal {eur_nl(found.total_principal_cents)}, costs {eur_nl(found.total_costs_cents)}; "
        f"{found.open_creditors} creditor(s) with open debts, {found.source_kinds} kind(s) of creditor"
    )
    return "\n".join([head, table(rows), foot])


def table(rows: Sequence[tuple[str, ...]]) -> str:
    """Rows as left-aligned columns with a rule under the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
