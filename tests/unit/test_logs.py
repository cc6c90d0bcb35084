"""Worker logs: plain text by default, one JSON object per line with `log_format = "json"`."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator

import pytest
from mode.utils.logging import setup_logging

from streams.cli.main import with_log_level
from streams.worker.logs import JsonFormatter, logging_config


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_record_with_an_exception_is_one_json_line_with_the_traceback_apart() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord(
            "vroegsignaal.sink", logging.ERROR, __file__, 1, "write %s failed", ("x",), None
        )
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "error"
    assert entry["logger"] == "vroegsignaal.sink"
    assert entry["message"] == "write x failed"
    assert "RuntimeError: boom" in entry["exception"]
    assert entry["time"].endswith("+00:00")


@pytest.mark.usefixtures("restored_logging")
def test_faust_logging_with_the_json_setting_writes_json_at_the_chosen_level(
    capfd: pytest.CaptureFixture[str],
) -> None:
    setup_logging(loglevel="WARN", logging_config=logging_config("json"))
    logging.getLogger("vroegsignaal.test").info("not shown below the level")
    logging.getLogger("vroegsignaal.test").warning("shown")
    lines = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert [json.loads(line)["message"] for line in lines] == ["shown"]


def test_text_is_the_default_and_faust_keeps_its_own_format() -> None:
    assert logging_config("text") is None


def test_the_setting_is_the_worker_s_level_unless_the_command_line_gives_one() -> None:
    assert with_log_level(["worker"], "warning") == ["worker", "--loglevel=WARN"]
    assert with_log_level(["worker", "--loglevel=error"], "debug") == ["worker", "--loglevel=error"]
    assert with_log_level(["sink"], "debug") == ["sink"]
    assert with_log_level(["rules"], "debug") == ["rules"]
