"""Creditor event contract v1 (revision 1.1): what a signaalpartner publishes, one event per message.

Revision 1.1 only adds: `reminder.sent` `channel` and `pay_by`, `supply.ending` `exception`, the
event type `contact.attempted`, and a BAG-style normalisation of house letter and addition.

Every model is frozen and strict; unknown fields are rejected so a typo in a
creditor's feed is a clear error instead of silently missing data.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from schemas.address import AddressError, normalise_house

CONTRACT_VERSION = "1.1"

Source = Literal["housing", "energy", "water", "health", "cjib"]
SOURCES: tuple[Source, ...] = ("housing", "energy", "water", "health", "cjib")
EventType = Literal[
    "debt.opened",
    "debt.updated",
    "reminder.sent",
    "costs.charged",
    "payment.received",
    "debt.closed",
    "supply.ending",
    "collection.paused",
    "contact.attempted",
]
ReminderKind = Literal["free", "formal"]
CloseReason = Literal["paid", "arrangement", "withdrawn", "transferred", "written_off"]
FineKind = Literal["wahv", "other"]
# How a reminder reached the debtor; post is presumed received later (HR 25-11-2016).
ReminderChannel = Literal["post", "email", "portal"]
# Regeling afsluitbeleid voor kleinverbruikers van elektriciteit en gas, winter period (art. 8):
# the grounds on which supply may still end between 1 October and 1 April.
SupplyEndingException = Literal[
    "customer_request", "fraud", "safety", "no_occupant", "no_contact_after_procedure"
]
ContactMethod = Literal["phone", "home_visit", "letter", "email", "other"]

_POSTCODE = re.compile(r"^[1-9][0-9]{3}[A-Z]{2}$")
# PostNL never issues these letter pairs (historical connotations).
_FORBIDDEN_POSTCODE_LETTERS = frozenset({"SA", "SD", "SS"})
_BSN = re.compile(r"[0-9]{9}")
# RFC 3339 date-time with a mandatory offset; pydantic alone also accepts unix
# timestamps, "_" separators, "+0100" offsets and times without seconds.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_MONTHLY_SOURCES = frozenset({"housing", "health"})


class ContractModel(BaseModel):
    """Base for contract models: frozen, strict, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def bsn_is_valid(bsn: str) -> bool:
    """Elfproef: weights 9..2 and -1, the sum divisible by 11 (and not all zeros).

    >>> bsn_is_valid("111222333")
    True
    >>> bsn_is_valid("123456789")
    False
    >>> bsn_is_valid("111222333\\n")
    False
    """
    if not _BSN.fullmatch(bsn) or bsn == "000000000":
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return sum(int(d) * w for d, w in zip(bsn, weights, strict=True)) % 11 == 0


def normalise_postcode(raw: str) -> str:
    """Upper-case and remove spaces: ' 1234 ab' -> '1234AB'.

    >>> normalise_postcode("1234 ab")
    '1234AB'
    """
    return re.sub(r"\s+", "", raw).upper()


class Debtor(ContractModel):
    """The person the claim is against; only `name` is required."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    birth_date: date | None = None
    bsn: str | None = None
    phone: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    email: Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None

    @field_validator("bsn")
    @classmethod
    def _bsn_passes_elfproef(cls, value: str | None) -> str | None:
        if value is not None and not bsn_is_valid(value):
            raise ValueError("bsn must be 9 digits and pass the elfproef")
        return value


class Address(ContractModel):
    """A Dutch address; postcode + house number (+ letter, addition) is the household."""

    postcode: str
    house_number: Annotated[int, Field(ge=1, le=99999)]
    house_letter: str | None = None
    house_number_addition: str | None = None
    street: Annotated[str, Field(max_length=200)] | None = None
    city: Annotated[str, Field(max_length=200)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _bag_house(cls, data: object) -> object:
        """House letter and addition in BAG form, so every spelling of one home gives one household."""
        if not isinstance(data, dict):
            return data
        letter, addition = data.get("house_letter"), data.get("house_number_addition")
        if not all(v is None or isinstance(v, str) for v in (letter, addition)):
            return data
        try:
            letter, addition = normalise_house(letter, addition)
        except AddressError:
            return data  # the field validators name the field that is wrong
        return {**data, "house_letter": letter, "house_number_addition": addition}

    @field_validator("postcode", mode="before")
    @classmethod
    def _postcode(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        postcode = normalise_postcode(value)
        # str.upper() maps some non-ASCII letters onto A-Z ("ı" -> "I"), so check the input is ASCII.
        if not value.isascii() or not _POSTCODE.fullmatch(postcode):
            raise ValueError("postcode must look like 1234AB")
        if postcode[4:] in _FORBIDDEN_POSTCODE_LETTERS:
            raise ValueError(f"postcode letters {postcode[4:]} are never issued")
        return postcode

    @field_validator("house_letter", mode="before")
    @classmethod
    def _house_letter(cls, value: object) -> object:
        if isinstance(value, str):
            ascii_input = value.isascii()
            value = value.strip().upper() or None
            if value is not None and not (ascii_input and re.fullmatch(r"[A-Z]", value)):
                raise ValueError("house_letter must be one letter")
        return value

    @field_validator("house_number_addition", mode="before")
    @classmethod
    def _addition(cls, value: object) -> object:
        if isinstance(value, str):
            ascii_input = value.isascii()
            value = value.strip().upper() or None
            if value is not None and not (ascii_input and re.fullmatch(r"[A-Z0-9]{1,4}", value)):
                raise ValueError("house_number_addition must be 1-4 letters or digits")
        return value


class _EventBase(ContractModel):
    event_id: Annotated[str, Field(min_length=1, max_length=128)]
    source: Source
    creditor_id: Annotated[str, Field(min_length=1, max_length=64)]
    creditor_name: Annotated[str, Field(min_length=1, max_length=200)]
    debt_ref: Annotated[str, Field(min_length=1, max_length=64)]
    # Lax so the RFC 3339 check below can hand pydantic the string; that check is the strict part.
    occurred_at: Annotated[AwareDatetime, Field(strict=False)]
    debtor: Debtor
    address: Address
    amount_cents: Annotated[int, Field(ge=0)]

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _rfc3339(cls, value: object) -> object:
        if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339.fullmatch(value)):
            return value
        raise ValueError(
            "occurred_at must be an RFC 3339 date-time with offset, like 2024-03-01T09:30:00+01:00"
        )

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @property
    def dedup_key(self) -> str:
        """Identity of the event for duplicate detection: source + creditor + event_id."""
        return f"{self.source}|{self.creditor_id}|{self.event_id}"


class _DebtFacts(_EventBase):
    # Source rules are field validators (not model validators) so a rejection names the field;
    # validate_default makes them run when the field is absent too.
    _fine_kind_required: ClassVar[bool] = False

    due_date: date
    monthly_amount_cents: Annotated[int, Field(gt=0)] | None = Field(default=None, validate_default=True)
    fine_kind: FineKind | None = Field(default=None, validate_default=True)

    @field_validator("monthly_amount_cents")
    @classmethod
    def _monthly_for_rent_and_premium(cls, value: int | None, info: ValidationInfo) -> int | None:
        source = info.data.get("source")
        if value is None and source in _MONTHLY_SOURCES:
            raise ValueError(f"monthly_amount_cents is required for source {source}")
        return value

    @field_validator("fine_kind")
    @classmethod
    def _fine_kind_for_cjib(cls, value: FineKind | None, info: ValidationInfo) -> FineKind | None:
        source = info.data.get("source")
        if value is not None and source is not None and source != "cjib":
            raise ValueError("fine_kind is only allowed for source cjib")
        if value is None and source == "cjib" and cls._fine_kind_required:
            raise ValueError("fine_kind is required when source is cjib")
        return value


class DebtOpened(_DebtFacts):
    """A debt became overdue (for CJIB: the fine's payment term ended unpaid)."""

    _fine_kind_required: ClassVar[bool] = True

    type: Literal["debt.opened"]


class DebtUpdated(_DebtFacts):
    """The arrears of an open debt changed (new amount or oldest due date)."""

    type: Literal["debt.updated"]


class ReminderSent(_EventBase):
    """The creditor sent the debtor a reminder."""

    type: Literal["reminder.sent"]
    reminder_kind: ReminderKind
    term_days: Annotated[int, Field(ge=1, le=365)]
    # v1.1: how it was sent (post is presumed received on the second day after sending, e-mail and
    # portal on the day itself) and the pay-by date the letter names, when it names one.
    channel: ReminderChannel = "post"
    pay_by: date | None = None


class CostsCharged(_EventBase):
    """The creditor added collection costs (for CJIB: a fine increase)."""

    type: Literal["costs.charged"]
    costs_cents: Annotated[int, Field(gt=0)]


class PaymentReceived(_EventBase):
    """The debtor paid (part of) the debt."""

    type: Literal["payment.received"]
    paid_cents: Annotated[int, Field(gt=0)]


class DebtClosed(_EventBase):
    """The creditor closed the claim."""

    type: Literal["debt.closed"]
    reason: CloseReason


class SupplyEnding(_EventBase):
    """An energy supplier announced the end of supply: always a crisis."""

    type: Literal["supply.ending"]
    supply_end_date: date
    # v1.1: the Regeling afsluitbeleid's ground for ending supply in the winter period, if any.
    exception: SupplyEndingException | None = None

    @field_validator("source")
    @classmethod
    def _energy_only(cls, value: Source) -> Source:
        if value != "energy":
            raise ValueError("supply.ending is only allowed for source energy")
        return value


class CollectionPaused(_EventBase):
    """The creditor paused collection until a date (e.g. during an arrangement)."""

    type: Literal["collection.paused"]
    until: date


class ContactAttempted(_EventBase):
    """v1.1: the creditor tried to reach the debtor in person (Besluit gsv art. 2, landlords)."""

    type: Literal["contact.attempted"]
    method: ContactMethod
    reached: bool = False


CreditorEvent = Annotated[
    DebtOpened
    | DebtUpdated
    | ReminderSent
    | CostsCharged
    | PaymentReceived
    | DebtClosed
    | SupplyEnding
    | CollectionPaused
    | ContactAttempted,
    Field(discriminator="type"),
]
CREDITOR_EVENT: TypeAdapter[CreditorEvent] = TypeAdapter(CreditorEvent)
