"""The audit trail of reads: every view of a household's overview is an event on the case-events topic.

Shared by the operator's `/households/{key}` view and the team pages; a read is refused
when its audit event cannot be recorded.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from schemas.cases_v1 import ContactAttemptRecorded, OutcomeRecorded, OverviewViewed, SignalStatusChanged
from streams.worker.pipeline import Pipeline

__all__ = ["audit_view", "publish_case_event"]


async def publish_case_event(
    pipeline: Pipeline, event: ContactAttemptRecorded | OutcomeRecorded | SignalStatusChanged | OverviewViewed
) -> None:
    """Send the event keyed by household and wait until the broker has it."""
    topic = pipeline.topic(pipeline.names.case_events)
    future = await topic.send(
        key=event.household_key.encode(),
        value=event.model_dump_json().encode(),
        partition=pipeline.partition_of(event.household_key),
    )
    await future


async def audit_view(
    pipeline: Pipeline, actor: str, team_id: str | None, household_key: str, case_id: str | None = None
) -> None:
    """Record a read of a household's overview; the read is refused if the audit cannot be recorded."""
    event = OverviewViewed(
        event_id=f"view-{uuid.uuid4().hex}",
        household_key=household_key,
        actor=actor,
        team_id=team_id,
        case_id=case_id,
        occurred_at=datetime.now(UTC),
    )
    await publish_case_event(pipeline, event)
