"""Each patch of Faust internals shows the failure it guards against, and is scoped to its app."""

from __future__ import annotations

import io
import logging
from importlib.metadata import version
from typing import Any

import faust
import pytest
from faust.types import TP

from connectors.kafka.security import PLAINTEXT
from streams.faust_fixes import CHECKED_FAUST_VERSIONS, apply_fixes
from streams.faust_fixes.committed import FaustInternalsChanged, committed_offsets
from streams.faust_fixes.fetch_wait import lower_fetch_wait
from streams.faust_fixes.slow_clients import GuardedAppRunner, guard_faust_web, guarded_runner


def test_the_installed_faust_is_one_the_fixes_were_checked_against() -> None:
    # An upgrade must re-read every patch (streams/faust_fixes/README.md), then add its version.
    assert version("faust-streaming") in CHECKED_FAUST_VERSIONS


def _worker_consumer(app: faust.App) -> Any:
    consumer: Any = app.consumer
    return consumer._thread._create_worker_consumer(consumer.transport)  # noqa: SLF001  # what Faust calls at start


async def test_the_fetch_wait_is_the_setting_per_app_and_faust_alone_waits_1500_ms() -> None:
    patched, other, plain = (
        faust.App(f"fetch-wait-{n}", broker="kafka://127.0.0.1:1", autodiscover=False) for n in range(3)
    )
    lower_fetch_wait(patched.consumer, 100)
    lower_fetch_wait(other.consumer, 250)
    assert _worker_consumer(patched)._fetch_max_wait_ms == 100  # noqa: SLF001
    assert _worker_consumer(other)._fetch_max_wait_ms == 250  # noqa: SLF001
    # No process-wide class patch: an app without the fix keeps Faust's hard-coded wait.
    assert _worker_consumer(plain)._fetch_max_wait_ms == 1500  # noqa: SLF001


async def test_faust_keeps_its_committed_offsets_where_the_lag_gauge_reads_them() -> None:
    # streams/faust_fixes/committed.py: without this record the lag falls back to positions.
    app = faust.App("committed-offsets", broker="kafka://127.0.0.1:1", autodiscover=False)
    consumer: Any = app.consumer
    tp = TP("inbound", 0)
    offsets = committed_offsets(consumer)
    assert offsets.get(tp) is None
    consumer._committed_offset[tp] = 41  # noqa: SLF001  # what Faust records after a commit
    assert committed_offsets(consumer).get(tp) == 41
    assert committed_offsets(consumer).get(TP("inbound", 1)) is None
    assert TP("inbound", 1) not in offsets  # .get never grows the defaultdict


def test_a_consumer_without_the_record_is_named_not_read_as_no_commits() -> None:
    with pytest.raises(FaustInternalsChanged, match="_committed_offset"):
        committed_offsets(object())


def test_the_web_driver_hands_back_the_guarded_runner_it_was_given() -> None:
    app = faust.App("guarded-runner", broker="kafka://127.0.0.1:1", autodiscover=False)
    assert guarded_runner(app.web) is None  # Faust's own runner
    guard_faust_web(app.web, header_timeout_s=5)
    runner = guarded_runner(app.web)
    assert isinstance(runner, GuardedAppRunner)
    assert runner.header_timeout_s == 5


def test_a_worker_at_warn_without_a_terminal_keeps_the_root_logger_at_warn() -> None:
    """quiet_logs.py: Faust alone lowers the root logger to DEBUG for a spinner no terminal shows."""
    fixed, plain = (
        faust.App(f"quiet-logs-{n}", broker="kafka://127.0.0.1:1", autodiscover=False) for n in range(2)
    )
    apply_fixes(fixed, bootstrap="127.0.0.1:1", fetch_max_wait_ms=100, security=PLAINTEXT)
    levels = {}
    for name, app in (("fixed", fixed), ("plain", plain)):
        root = logging.Logger(f"quiet-logs-{name}")  # stands in for the root logger Faust is given
        root.addHandler(logging.StreamHandler(io.StringIO()))
        root.setLevel(logging.WARNING)
        worker = app.Worker(stdout=io.StringIO(), loglevel="WARN")  # a log file, not a terminal
        worker.on_setup_root_logger(root, logging.WARNING)
        levels[name] = (root.level, root.isEnabledFor(logging.DEBUG))
    assert levels == {"fixed": (logging.WARNING, False), "plain": (logging.DEBUG, True)}
