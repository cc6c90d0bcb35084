"""Case contracts v1: what teams record on a case (vroegsignaalzaak) and what creditors hear back.

Team changes are events on the ``case-events`` topic, keyed by household, so the
read model (and a replay of it) is derived from them. The enumerations are the
ones of the DDAS "Uitwisselmodel" v1.2, spelled exactly as CBS expects them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Final, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from schemas.outputs_v1 import DebtRef

__all__ = [
    "CASE_EVENT",
    "CONTACTSOORTEN",
    "DAGDELEN",
    "EINDRESULTATEN",
    "SIGNAALSTATUSSEN",
    "WERKSTATUSSEN",
    "CaseAssigned",
    "CaseEvent",
    "ContactAttemptRecorded",
    "Contactsoort",
    "CreditorFeedback",
    "Dagdeel",
    "Eindresultaat",
    "FeedbackStatus",
    "NextActionPlanned",
    "OutcomeRecorded",
    "OverviewViewed",
    "ReadStatus",
    "Signaalstatus",
    "SignalStatusChanged",
    "Werkstatus",
]

# DDAS EnumContactsoort.
Contactsoort = Literal[
    "Administratief",
    "Afspraak op locatie",
    "Brief",
    "Huisbezoek",
    "Kaartje",
    "Mail",
    "Onbekend",
    "Overige",
    "SMS/Whatsapp",
    "Telefoon",
]
# The answer to an audited read: 200 shown, 403 refused, 404 unknown or not the reader's to know.
ReadStatus = Literal[200, 403, 404]
# DDAS EnumDagdeel.
Dagdeel = Literal["Ochtend", "Middag", "Avond"]
# DDAS EnumEindresultaat.
Eindresultaat = Literal[
    "(Budget)advies en/of quick fix",
    "Definitief geen contact kunnen krijgen",
    "Geen reactie na eerder contact",
    "Inwoner al bekend bij schuldhulpverlening",
    "Inwoner heeft al een ander lopend traject",
    "Inwoner heeft zelf al betaald/betalingsregeling getroffen",
    "Inwoner is overleden",
    "Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering",
    "Niet opgepakt: andere reden",
    "Niet opgepakt: herhaalde melding",
    "Niet opgepakt: onterecht signaal",
    "Persoon is geen inwoner (meer) in de gemeente",
    "Vervolghulp en/of verwijzing",
    "Vervolghulp en/of verwijzing financieel",
    "Vervolghulp en/of verwijzing niet financieel",
    "Verwijzing zonder tussenkomst inwoner",
]
# DDAS EnumSignaalstatus.
Signaalstatus = Literal[
    "Inwoner al bekend bij schuldhulpverlening",
    "Inwoner is overleden",
    "Niet opgepakt: andere reden",
    "Niet opgepakt: herhaalde melding",
    "Niet opgepakt: onterecht signaal",
    "Nog niet opgepakt",
    "Opgepakt",
    "Persoon is geen inwoner (meer) in de gemeente",
]
FeedbackStatus = Literal["in_help", "not_picked_up"]
# Where a case stands in the team's work queue (not a DDAS enumeration): no contact attempt yet,
# tried without reaching the household, reached, or closed with its final outcome.
Werkstatus = Literal["nieuw", "contact_gezocht", "bereikt", "afgerond"]

CONTACTSOORTEN: Final[tuple[str, ...]] = get_args(Contactsoort)
DAGDELEN: Final[tuple[str, ...]] = get_args(Dagdeel)
EINDRESULTATEN: Final[tuple[str, ...]] = get_args(Eindresultaat)
SIGNAALSTATUSSEN: Final[tuple[str, ...]] = get_args(Signaalstatus)
WERKSTATUSSEN: Final[tuple[str, ...]] = get_args(Werkstatus)


class _Model(BaseModel):
    # Attribute docstrings become the fields' descriptions in the exported JSON Schemas.
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class _CaseEvent(_Model):
    """What every case event carries: its id, the household, who did it and when."""

    v: Literal[1] = 1
    event_id: str
    household_key: str
    actor: str  # the member id of the team member; never a name or token
    # Wall clock of the web request: an audit fact, never input to a rule.
    occurred_at: AwareDatetime


class _TeamChange(_CaseEvent):
    """A change a team made to one of its cases."""

    case_id: str
    team_id: str


class ContactAttemptRecorded(_TeamChange):
    """The team tried to reach the household (DDAS contactpoging)."""

    type: Literal["contact_attempt_recorded"] = "contact_attempt_recorded"
    soort: Contactsoort
    bereikt: bool
    datum: date
    dagdeel: Dagdeel | None = None


class OutcomeRecorded(_TeamChange):
    """The case's one final outcome (DDAS eindresultaat); `debts` are the signalled debts, for feedback."""

    type: Literal["outcome_recorded"] = "outcome_recorded"
    resultaat: Eindresultaat
    datum: date
    debts: tuple[DebtRef, ...]


class SignalStatusChanged(_TeamChange):
    """The team set the status of one signal of the case (DDAS signaalstatus)."""

    type: Literal["signal_status_changed"] = "signal_status_changed"
    signal_id: str
    status: Signaalstatus


class CaseAssigned(_TeamChange):
    """The case was given to a member of its team, or taken, handed over or let go (`assignee` None)."""

    type: Literal["case_assigned"] = "case_assigned"
    assignee: str | None
    """The member id the case is now with; None: with nobody."""
    previous: str | None
    """The member id the case was with when the change was made (as the actor saw it)."""


class NextActionPlanned(_TeamChange):
    """The team set (or cleared, `datum` None) the day of the case's next action: the work queue's due date."""

    type: Literal["next_action_planned"] = "next_action_planned"
    datum: date | None
    """The local (Europe/Amsterdam) day the next action is due; None: no next action planned."""


class OverviewViewed(_CaseEvent):
    """A team member (or the read API) asked for a household's overview or case: audited, changes nothing.

    A refused read is audited like a granted one, with the answer given: 403 (not allowed) or 404
    (unknown, or not the team's to know: signals.access); `household_key` is then the key asked for.
    """

    type: Literal["overview_viewed"] = "overview_viewed"
    case_id: str | None
    team_id: str | None  # None: read with the operators' read token
    status: ReadStatus = 200


CaseEvent = Annotated[
    ContactAttemptRecorded
    | OutcomeRecorded
    | SignalStatusChanged
    | OverviewViewed
    | CaseAssigned
    | NextActionPlanned,
    Field(discriminator="type"),
]
CASE_EVENT: TypeAdapter[CaseEvent] = TypeAdapter(CaseEvent)


class CreditorFeedback(_Model):
    """Bgs art. 17 feedback to a creditor: only whether the household is in help; never why or what."""

    type: Literal["creditor_feedback"] = "creditor_feedback"
    v: Literal[1] = 1
    feedback_id: str
    """Deterministic id (case and debt): drop a repeat by it."""
    debt: DebtRef
    """A debt the case's signals named."""
    status: FeedbackStatus
    """`in_help`: the household gets help; `not_picked_up`: the signal led to no help."""
    decided_on: date
    """The day the team recorded the case's outcome."""
