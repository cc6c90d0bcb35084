"""Each patch of Faust internals shows the failure it guards against, and is scoped to its app."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import faust

from streams.faust_fixes import CHECKED_FAUST_VERSIONS
from streams.faust_fixes.fetch_wait import lower_fetch_wait


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
