"""`clear_only_on_real_resume`: queued messages survive a resume of flow that was never suspended."""

from __future__ import annotations

import asyncio

from mode.utils.queues import FlowControlEvent, FlowControlQueue

from streams.faust_fixes.flow_control import clear_only_on_real_resume


async def _queue_with_one_message() -> tuple[FlowControlEvent, FlowControlQueue[str]]:
    flow = FlowControlEvent(initially_suspended=False)
    clear_only_on_real_resume(flow)
    queue: FlowControlQueue[str] = FlowControlQueue(flow_control=flow, clear_on_resume=True)
    queue.put_nowait("delivered, not yet read")
    return flow, queue


def test_without_the_fix_resuming_active_flow_drops_messages_already_handed_over() -> None:
    async def unpatched() -> tuple[FlowControlEvent, FlowControlQueue[str]]:
        flow = FlowControlEvent(initially_suspended=False)
        queue: FlowControlQueue[str] = FlowControlQueue(flow_control=flow, clear_on_resume=True)
        queue.put_nowait("delivered, not yet read")
        return flow, queue

    flow, queue = asyncio.run(unpatched())
    flow.resume()
    assert queue.qsize() == 0  # the failure the fix guards against


def test_resuming_active_flow_keeps_the_queued_messages() -> None:
    flow, queue = asyncio.run(_queue_with_one_message())
    flow.resume()  # what recovery does once more after seeking the stream partitions
    assert queue.qsize() == 1


def test_resuming_suspended_flow_still_drops_what_was_buffered_before() -> None:
    flow, queue = asyncio.run(_queue_with_one_message())
    flow.suspend()
    flow.resume()
    assert queue.qsize() == 0
    assert flow.is_active()
