"""The audit trail of reads: every read of a household's overview or case, granted or refused, is an
event on the case-events topic.

Shared by the operator's `/households/{key}` view and the team pages and API; a read is
refused when its audit event cannot be recorded.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from connectors.kafka.probe import broker_within
from schemas.cases_v1 import (
    CaseAssigned,
    ContactAttemptRecorded,
    NextActionPlanned,
    OutcomeRecorded,
    OverviewViewed,
    ReadStatus,
    SignalStatusChanged,
)
from signals.masking import mask_text
from streams.worker.pipeline import Pipeline

__all__ = ["audit_view", "publish_case_event"]

# The audit log's key columns hold 200 characters; a longer path segment is no key or case id.
_MAX_KEY_CHARS = 200


async def publish_case_event(
    pipeline: Pipeline,
    event: ContactAttemptRecorded
    | OutcomeRecorded
    | SignalStatusChanged
    | OverviewViewed
    | CaseAssigned
    | NextActionPlanned,
) -> None:
    """Send the event keyed by household and wait until the broker has it (Unavailable after publish_timeout_s)."""
    topic = pipeline.topic(pipeline.names.case_events)
    async with broker_within(pipeline.settings.publish_timeout_s):
        future = await topic.send(
            key=event.household_key.encode(),
            value=event.model_dump_json().encode(),
            partition=pipeline.partition_of(event.household_key),
        )
        # Shielded: Faust's own callback reads this future; a timeout must not cancel it under Faust.
        await asyncio.shield(future)


async def audit_view(
    pipeline: Pipeline,
    actor: str,
    team_id: str | None,
    household_key: str,
    case_id: str | None = None,
    *,
    status: ReadStatus = 200,
) -> None:
    """Record a read of a household's overview or case, granted (200) or refused (403, 404).

    A granted read is refused if its audit cannot be recorded. What was asked for is user
    input on a refused read: kept short and with any BSN masked.
    """
    event = OverviewViewed(
        event_id=f"view-{uuid.uuid4().hex}",
        household_key=mask_text(household_key[:_MAX_KEY_CHARS]),
        actor=actor,
        team_id=team_id,
        case_id=mask_text(case_id[:_MAX_KEY_CHARS]) if case_id is not None else None,
        occurred_at=datetime.now(UTC),
        status=status,
    )
    await publish_case_event(pipeline, event)
