"""`vroegsignaal`: the Faust app's own command line (worker, ...) plus the project's commands."""

from __future__ import annotations

import sys
from pathlib import Path

from faust.cli import AppCommand, argument, option

from streams.bootstrap import VroegsignaalApp, create_app
from streams.worker.logs import LogLevel, faust_loglevel
from streams.worker.malloc_arenas import limit_malloc_arenas
from streams.worker.settings import Settings, SettingsError, load_settings


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    config, args = _pop_config(args)
    try:
        settings = load_settings(config)
        # Before Faust, aiokafka and RocksDB start threads: arenas made before stay.
        limit_malloc_arenas(settings.malloc_arena_max)
        app = build(settings, args)
    except SettingsError as exc:
        print(f"vroegsignaal: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    sys.argv = ["vroegsignaal", *with_log_level(args, settings.log_level)]
    app.main()


def with_log_level(args: list[str], level: LogLevel) -> list[str]:
    """The long-running commands' arguments, with the `log_level` setting as --loglevel unless given.

    >>> with_log_level(["worker"], "debug")
    ['worker', '--loglevel=DEBUG']
    >>> with_log_level(["worker", "-l", "warn"], "debug")
    ['worker', '-l', 'warn']
    >>> with_log_level(["rules"], "info")
    ['rules']
    """
    given = any(a in ("-l", "--loglevel") or a.startswith("--loglevel=") for a in args)
    if given or _command(args) != "worker":  # `sink` is a project command without --loglevel
        return args
    return [*args, f"--loglevel={faust_loglevel(level)}"]


def build(settings: Settings, args: list[str]) -> VroegsignaalApp:
    """The app with every project command attached."""
    host = settings
    if _command(args) != "worker":
        # The other commands serve no team pages: the app only hosts them, so it may stand on the
        # sample teams; the commands themselves get the settings as configured.
        host = settings.model_copy(update={"demo": True})
    app = create_app(host)
    _attach_commands(app, settings)
    return app


def _command(args: list[str]) -> str | None:
    return next((a for a in args if not a.startswith("-")), None)


def _pop_config(args: list[str]) -> tuple[Path | None, list[str]]:
    for i, arg in enumerate(args):
        if arg == "--config" and i + 1 < len(args):
            return Path(args[i + 1]), args[:i] + args[i + 2 :]
        if arg.startswith("--config="):
            return Path(arg.split("=", 1)[1]), args[:i] + args[i + 1 :]
    return None, args


def _attach_commands(app: VroegsignaalApp, settings: Settings) -> None:
    from streams.cli import commands, ingest_file

    @app.command(
        option("--port", type=int, default=None, help="Port on 127.0.0.1 (default: a free one)."),
    )
    async def broker(self: AppCommand, port: int | None) -> None:
        """Run the embedded Tansu broker in the foreground and print its address."""
        await commands.run_broker(port)

    @app.command(
        option("--duration", type=float, default=None, help="Stop after this many seconds."),
        option("--pace", type=float, default=0.4, help="Wall seconds per simulated day."),
    )
    async def demo(self: AppCommand, duration: float | None, pace: float) -> None:
        """Embedded broker + worker + synthetic feed; prints the signals as they come out."""
        from streams.cli.demo import run_demo

        code = await run_demo(settings, duration_s=duration, seconds_per_day=pace)
        if code:
            raise SystemExit(code)

    @app.command()
    async def sink(self: AppCommand) -> None:
        """Run the read-model sink alone (output topics -> SQL), for workers with sink_in_worker=false."""
        from streams.worker.sink import run_standalone

        await run_standalone(settings)

    @app.command()
    async def rules(self: AppCommand) -> None:
        """Print the effective rules per source, so a municipality can check what it runs."""
        commands.print_rules(settings)

    @app.command(argument("action", type=str), argument("directory", type=str))
    async def schemas(self: AppCommand, action: str, directory: str) -> None:
        """`schemas export DIR`: write the JSON Schemas of every contract."""
        commands.schemas(action, Path(directory))

    @app.command(
        argument("file", type=str),
        option("--source", type=str, required=True, help="housing, energy, water, health or cjib."),
    )
    async def ingest(self: AppCommand, file: str, source: str) -> None:
        """Publish a creditor's daily CSV or JSON Lines file to the inbound topic of SOURCE.

        Rejected rows are reported with their line and kept on the dead-letter topic; exits 1 when
        any row was rejected. Re-running the same file is safe: the household stage drops duplicate
        event ids.
        """
        await ingest_file.run(settings, Path(file), source)

    @app.command(argument("postcode", type=str), argument("house", type=str))
    async def overview(self: AppCommand, postcode: str, house: str) -> None:
        """Print a household's integrated debt overview from the read model."""
        await commands.print_overview(settings, postcode, house)

    from streams.cli import history

    @app.command(
        option("--households", type=int, default=1000, help="Number of households."),
        option("--months", type=int, default=12, help="Months of history."),
        option("--seed", type=int, default=1, help="Random seed: the same seed gives the same files."),
        option("--start", type=str, default="2026-01-01", help="First day of the history."),
        option("--out", type=str, required=True, help="Directory for <source>.jsonl and scenarios.jsonl."),
    )
    async def generate(
        self: AppCommand, households: int, months: int, seed: int, start: str, out: str
    ) -> None:
        """Write a deterministic synthetic creditor history (v1 contract), one JSON Lines file per source."""
        history.run_generate(households=households, months=months, seed=seed, start=start, out=out)

    @app.command(
        option("--out", type=str, required=True, help="Directory for <topic>.jsonl.gz files."),
        option("--topics", type=str, multiple=True, help="Topics (repeat or comma-separate); default all."),
        option("--since", type=str, default=None, help="From this date/time (records' own time)."),
        option("--until", type=str, default=None, help="Before this date/time (records' own time)."),
    )
    async def archive(
        self: AppCommand, out: str, topics: tuple[str, ...], since: str | None, until: str | None
    ) -> None:
        """Export topics to gzip JSON Lines (key, value, headers, partition, offset, timestamp)."""
        await history.run_archive(settings, out=out, topics=topics, since=since, until=until)

    @app.command(
        option("--from", "from_dir", type=str, default=None, help="A generate or archive directory."),
        option("--from-topics", is_flag=True, default=False, help="The live inbound topics (read-only)."),
        option("--out", type=str, required=True, help="Directory for the sorted output files."),
        option("--expect", type=str, default=None, help="Compare with this directory; exit 1 if different."),
        option("--since", type=str, default=None, help="Only events from this date/time."),
        option("--until", type=str, default=None, help="Only events before this date/time."),
        option("--embedded", is_flag=True, default=False, help="Run on a fresh embedded broker."),
        option("--tail-days", type=int, default=3, help="Days ticked after the last event."),
        option("--start-at", type=str, default="inbound", help="inbound, or internal (archive only)."),
        option(
            "--workers",
            type=int,
            default=None,
            help="Worker processes (default: one per core, at most one per partition).",
        ),
        option(
            "--in-process",
            is_flag=True,
            default=False,
            help="Fold each partition in a process of its own, without broker or sink (same output files).",
        ),
    )
    async def replay(
        self: AppCommand,
        from_dir: str | None,
        from_topics: bool,
        out: str,
        expect: str | None,
        since: str | None,
        until: str | None,
        embedded: bool,
        tail_days: int,
        start_at: str,
        workers: int | None,
        in_process: bool,
    ) -> None:
        """Replay a history through an isolated pipeline and write its outputs as sorted JSON Lines."""
        await history.run_replay(
            settings,
            from_dir=from_dir,
            from_topics=from_topics,
            out=out,
            expect=expect,
            since=since,
            until=until,
            embedded=embedded,
            tail_days=tail_days,
            start_at=start_at,
            workers=workers,
            in_process=in_process,
        )

    from streams.cli import team as team_commands

    team_commands.attach(app, settings)  # audit, retention, report cbs


if __name__ == "__main__":
    main()
