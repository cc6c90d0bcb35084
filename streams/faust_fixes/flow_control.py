"""Keep Faust from dropping live messages when it "resumes" flow that was never suspended.

Targets faust-streaming 0.15 (`App.flow_control`, a mode `FlowControlEvent` whose
`resume()` clears every queue made with `clear_on_resume=True`).

Faust hands every fetched message to an agent through a queue that the app's flow
control clears on resume (`clear_on_resume`), so that messages buffered before a
rebalance are not processed after it. But recovery calls `flow_control.resume()` a
second time once the stream partitions are resumed and sought, while flow has been
active (and messages delivered) since the changelogs were read. That call empties the
queues anyway: a message the consumer had already handed over, and marked as read, is
gone; nothing fetches it again in this session, and when Faust later records the jump as
an offset gap the commit can even move past it. Seen after restarts with a backlog: one
to 150 events per restart never processed (tests/integration/test_reliability.py).

Clearing belongs to a real resume only: while flow is active the queued messages are
current, and they must reach the agents.

Shown by: tests/streams/test_flow.py (a resume while active keeps the queue) and
tests/integration/test_reliability.py (restarts with a backlog lose no event).
"""

from __future__ import annotations

from typing import Any


def clear_only_on_real_resume(flow_control: Any) -> None:
    """Make `flow_control.resume()` a no-op (no clearing) while flow is already active."""
    resume = flow_control.resume

    def resume_if_suspended() -> None:
        if flow_control.is_active():
            return
        resume()

    flow_control.resume = resume_if_suspended
