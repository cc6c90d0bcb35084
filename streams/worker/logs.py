"""The worker's log format: Faust's plain text by default, one JSON object per line when asked.

`log_format = "json"` is for log shippers (Loki, Elastic): every record is one line with
its time (UTC), level, logger and message, and the traceback as a field of its own.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

__all__ = ["JsonFormatter", "LogFormat", "LogLevel", "faust_loglevel", "logging_config"]

LogFormat = Literal["text", "json"]
LogLevel = Literal["debug", "info", "warning", "error"]

# Faust's `--loglevel` choices spell warning as WARN.
_FAUST_LEVELS: dict[LogLevel, str] = {"debug": "DEBUG", "info": "INFO", "warning": "WARN", "error": "ERROR"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and exception, when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def faust_loglevel(level: LogLevel) -> str:
    """The setting as Faust's `--loglevel` spells it.

    >>> faust_loglevel("warning")
    'WARN'
    """
    return _FAUST_LEVELS[level]


def logging_config(log_format: LogFormat) -> dict[str, Any] | None:
    """Faust's `logging_config` option: None keeps its text format; JSON swaps the handler's formatter."""
    if log_format == "text":
        return None
    return {
        "version": 1,
        # Merged into the configuration Faust builds, which sets the root level from --loglevel.
        "merge": True,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
    }
