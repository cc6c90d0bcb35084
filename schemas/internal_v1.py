"""Messages on the internal events-by-household topic (keyed by household key).

The ingest stage turns a validated creditor event into an `AcceptedEvent`: the
raw BSN and the birth date are removed (no rule uses them; `bsn_pseudonym` is only
set on messages of versions before issue 15). A `ClockTick` carries
time into a partition that has no traffic, so deadlines there still fire.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from schemas.contract_v1 import CreditorEvent


class _Internal(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AcceptedEvent(_Internal):
    """A valid creditor event without BSN or birth date, routed to its household."""

    kind: Literal["event"] = "event"
    v: Literal[1] = 1
    household_key: str
    bsn_pseudonym: str | None = None
    event: CreditorEvent


class ClockTick(_Internal):
    """Stream time has reached `at` in this partition (event time, not processing time)."""

    kind: Literal["tick"] = "tick"
    v: Literal[1] = 1
    at: AwareDatetime


HouseholdMessage = Annotated[AcceptedEvent | ClockTick, Field(discriminator="kind")]
HOUSEHOLD_MESSAGE: TypeAdapter[HouseholdMessage] = TypeAdapter(HouseholdMessage)
