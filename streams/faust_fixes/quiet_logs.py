"""A worker at --loglevel WARN or ERROR keeps its root logger there when no terminal shows a spinner.

faust-streaming 0.15.3, faust/worker.py `Worker.on_setup_root_logger` -> `_setup_spinner_handler`:
at WARN or above Faust keeps its terminal progress spinner, adds a SpinnerHandler at DEBUG to
the root logger and sets the root logger to DEBUG, so that the spinner turns on every record.
Every debug call of aiokafka, Faust and mode on the hot path then builds a LogRecord and runs
the handlers (the stream handler drops it again): py-spy of a replay worker (`-l warn`) found
~3% of its active time in logging. The spinner draws only on a terminal (`Spinner.write`
checks `isatty`); when the worker's stdout is none (a container, a service, a replay's log
file) it is dropped here before Faust sets it up, and the root logger keeps the level asked for.

Set per app (`app.conf.Worker`, see `apply_fixes`), not by patching Faust's class.
Test: tests/streams/test_faust_fixes.py (without it the root logger is lowered to DEBUG).
"""

from __future__ import annotations

import logging

import faust

__all__ = ["SpinnerOnlyOnATerminal"]


class SpinnerOnlyOnATerminal(faust.Worker):
    """Faust's worker, without the spinner (and its DEBUG root logger) when stdout is no terminal."""

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        spinner = self.spinner
        if spinner is not None and not _isatty(spinner.file):
            self.spinner = None
        super().on_setup_root_logger(logger, level)


def _isatty(file: object) -> bool:
    isatty = getattr(file, "isatty", None)
    return bool(isatty()) if callable(isatty) else False
