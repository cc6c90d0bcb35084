"""The shutdown watchdog ends a stop that overruns its grace, and only then."""

from __future__ import annotations

import threading

from streams.worker.shutdown import SHUTDOWN_OVERRUN_EXIT, arm_watchdog


def test_a_stop_that_overruns_the_grace_exits_with_the_overrun_code() -> None:
    exited: list[int] = []
    done = threading.Event()

    def record(code: int) -> None:
        exited.append(code)
        done.set()

    arm_watchdog(0.01, exit=record)
    assert done.wait(10), "the watchdog never fired"
    assert exited == [SHUTDOWN_OVERRUN_EXIT]


def test_a_stop_that_completes_cancels_the_watchdog() -> None:
    exited: list[int] = []
    timer = arm_watchdog(0.2, exit=exited.append)
    timer.cancel()
    timer.join(5)
    assert not timer.is_alive()
    assert exited == []
