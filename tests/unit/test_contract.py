"""Creditor event contract v1: what is accepted, how it is normalised, what is rejected and where."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.contract_v1 import CREDITOR_EVENT, Address, CreditorEvent, DebtOpened, bsn_is_valid
from schemas.errors import errors_from_validation
from tests.unit.contract_examples import EVENT_TYPES, event, with_path, without


def parse(document: dict[str, Any]) -> CreditorEvent:
    return CREDITOR_EVENT.validate_json(json.dumps(document))


def rejection_paths(document: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        parse(document)
    return {error.path: error.message for error in errors_from_validation(info.value)}


@pytest.mark.parametrize("type_", EVENT_TYPES)
def test_every_event_type_has_a_valid_example(type_: str) -> None:
    assert parse(event(type_)).type == type_


VALID = [
    pytest.param(event(), id="housing-opened"),
    pytest.param(event(source="water"), id="water-opened-without-monthly-amount"),
    pytest.param(event(source="health", monthly_amount_cents=15000), id="health-opened"),
    pytest.param(event(source="cjib", fine_kind="other"), id="cjib-opened-other-fine"),
    pytest.param(event("debt.updated", source="cjib"), id="cjib-updated-without-fine-kind"),
    pytest.param(event("costs.charged", source="cjib", costs_cents=4500), id="cjib-increase"),
    pytest.param(
        event("reminder.sent", reminder_kind="formal", term_days=365), id="formal-reminder-max-term"
    ),
    pytest.param(event(amount_cents=0), id="zero-outstanding"),
    pytest.param(event(occurred_at="2024-03-01T08:30:00Z"), id="utc-z"),
    pytest.param(event(occurred_at="2024-03-01t08:30:00.123456z"), id="lower-case-t-z-fraction"),
    pytest.param(event(debtor={"name": "X"}), id="debtor-name-only"),
    pytest.param(event(debtor={"name": "X", "email": "x@example.nl", "phone": "+31612345678"}), id="contact"),
    pytest.param(
        event(address={"postcode": "9999zz", "house_number": 99999, "house_number_addition": "bis"}),
        id="max-house-number-and-addition",
    ),
    pytest.param(event(event_id="e" * 128, debt_ref="r" * 64), id="max-lengths"),
]


@pytest.mark.parametrize("document", VALID)
def test_valid_events_are_accepted(document: dict[str, Any]) -> None:
    assert parse(document).event_id == document["event_id"]


INVALID = [
    pytest.param(with_path(event(), "address.postcode", "1234 SA"), "address.postcode", id="postcode-SA"),
    pytest.param(with_path(event(), "address.postcode", "1234sd"), "address.postcode", id="postcode-SD"),
    pytest.param(with_path(event(), "address.postcode", "1234SS"), "address.postcode", id="postcode-SS"),
    pytest.param(
        with_path(event(), "address.postcode", "0123AB"), "address.postcode", id="postcode-leading-0"
    ),
    pytest.param(with_path(event(), "address.postcode", "1234A"), "address.postcode", id="postcode-short"),
    pytest.param(
        with_path(event(), "address.postcode", "1234ıa"), "address.postcode", id="postcode-non-ascii"
    ),
    pytest.param(with_path(event(), "address.postcode", 1234), "address.postcode", id="postcode-int"),
    pytest.param(with_path(event(), "address.house_number", 0), "address.house_number", id="house-number-0"),
    pytest.param(with_path(event(), "address.house_number", 100000), "address.house_number", id="house-big"),
    pytest.param(with_path(event(), "address.house_letter", "AB"), "address.house_letter", id="two-letters"),
    pytest.param(
        with_path(event(), "address.house_number_addition", "12345"),
        "address.house_number_addition",
        id="addition-5",
    ),
    pytest.param(with_path(event(), "debtor.bsn", "123456789"), "debtor.bsn", id="bsn-elfproef"),
    pytest.param(with_path(event(), "debtor.bsn", "11122233"), "debtor.bsn", id="bsn-8-digits"),
    pytest.param(with_path(event(), "debtor.bsn", "000000000"), "debtor.bsn", id="bsn-zeros"),
    pytest.param(with_path(event(), "debtor.bsn", 111222333), "debtor.bsn", id="bsn-int"),
    pytest.param(with_path(event(), "debtor.email", "no-at-sign"), "debtor.email", id="email"),
    pytest.param(without(event(), "debtor.name"), "debtor.name", id="debtor-name-missing"),
    pytest.param(event(occurred_at="2024-03-01T09:30:00"), "occurred_at", id="occurred-at-no-offset"),
    pytest.param(event(occurred_at="2024-03-01"), "occurred_at", id="occurred-at-date"),
    pytest.param(event(occurred_at="1709281800"), "occurred_at", id="occurred-at-unix-string"),
    pytest.param(event(occurred_at=1709281800), "occurred_at", id="occurred-at-unix-number"),
    pytest.param(event(occurred_at="2024-03-01T09:30+01:00"), "occurred_at", id="occurred-at-no-seconds"),
    pytest.param(event(occurred_at="2024-03-01T09:30:00+0100"), "occurred_at", id="offset-without-colon"),
    pytest.param(event(amount_cents="100"), "amount_cents", id="amount-as-string-strict"),
    pytest.param(event(amount_cents=100.0), "amount_cents", id="amount-as-float"),
    pytest.param(event(amount_cents=True), "amount_cents", id="amount-as-bool"),
    pytest.param(event(amount_cents=-1), "amount_cents", id="amount-negative"),
    pytest.param(event(due_date=None), "due_date", id="due-date-null"),
    pytest.param(without(event("debt.updated"), "due_date"), "due_date", id="updated-needs-due-date"),
    pytest.param(event(event_id=""), "event_id", id="event-id-empty"),
    pytest.param(event(event_id="e" * 129), "event_id", id="event-id-129"),
    pytest.param(event(debt_ref="r" * 65), "debt_ref", id="debt-ref-65"),
    pytest.param(event(source="bank"), "source", id="unknown-source"),
    pytest.param(event(surprise=1), "surprise", id="extra-field"),
    pytest.param(with_path(event(), "debtor.nickname", "J"), "debtor.nickname", id="extra-nested-field"),
    pytest.param(
        without(event(), "monthly_amount_cents"), "monthly_amount_cents", id="housing-opened-needs-monthly"
    ),
    pytest.param(
        without(event("debt.updated", source="health"), "monthly_amount_cents"),
        "monthly_amount_cents",
        id="health-updated-needs-monthly",
    ),
    pytest.param(event(monthly_amount_cents=0), "monthly_amount_cents", id="monthly-zero"),
    pytest.param(event(source="energy", fine_kind="wahv"), "fine_kind", id="fine-kind-only-cjib"),
    pytest.param(without(event(source="cjib"), "fine_kind"), "fine_kind", id="cjib-opened-needs-fine-kind"),
    pytest.param(event(source="cjib", fine_kind="parking"), "fine_kind", id="fine-kind-unknown"),
    pytest.param(event("supply.ending", source="water"), "source", id="supply-ending-only-energy"),
    pytest.param(event("costs.charged", costs_cents=0), "costs_cents", id="costs-zero"),
    pytest.param(event("payment.received", paid_cents=0), "paid_cents", id="paid-zero"),
    pytest.param(event("reminder.sent", reminder_kind="final"), "reminder_kind", id="reminder-kind"),
    pytest.param(event("reminder.sent", term_days=0), "term_days", id="term-days-0"),
    pytest.param(event("debt.closed", reason="lost"), "reason", id="close-reason"),
    pytest.param(event("debt.closed", due_date="2024-01-01"), "due_date", id="due-date-not-on-closed"),
    pytest.param(event(type="debt.deleted"), "", id="unknown-type"),
    pytest.param(without(event(), "type"), "", id="missing-type"),
]


@pytest.mark.parametrize(("document", "path"), INVALID)
def test_invalid_events_are_rejected_at_the_field(document: dict[str, Any], path: str) -> None:
    assert path in rejection_paths(document)


def test_postcode_is_normalised_to_six_upper_case_characters() -> None:
    parsed = parse(with_path(event(), "address.postcode", " 1234 ab "))
    assert parsed.address.postcode == "1234AB"


def test_house_letter_and_addition_are_upper_cased() -> None:
    address = Address(postcode="1234AB", house_number=1, house_letter="a", house_number_addition="bis")
    assert (address.house_letter, address.house_number_addition) == ("A", "BIS")


def test_occurred_at_offset_is_converted_to_utc() -> None:
    parsed = parse(event(occurred_at="2024-03-01T09:30:00+01:00"))
    assert parsed.occurred_at == datetime(2024, 3, 1, 8, 30, tzinfo=UTC)
    assert parsed.occurred_at.utcoffset() == UTC.utcoffset(None)


@pytest.mark.parametrize(("bsn", "valid"), [("111222333", True), ("999999990", True), ("123456789", False)])
def test_bsn_elfproef(bsn: str, valid: bool) -> None:
    assert bsn_is_valid(bsn) is valid


def test_bsn_with_trailing_newline_is_invalid_not_an_exception() -> None:
    assert bsn_is_valid("111222333\n") is False


def test_models_built_in_code_from_python_values_are_accepted() -> None:
    parsed = parse(event())
    assert DebtOpened.model_validate(parsed.model_dump()) == parsed


def test_rejection_messages_never_echo_the_bsn() -> None:
    messages = rejection_paths(with_path(event(), "debtor.bsn", "123456789"))
    assert "123456789" not in " ".join(messages.values())


def test_dedup_key_is_source_creditor_and_event_id() -> None:
    assert parse(event()).dedup_key == "housing|woonstad-rotterdam|evt-debt.opened-1"


def test_models_are_frozen() -> None:
    parsed = parse(event())
    with pytest.raises(ValidationError):
        parsed.amount_cents = 1  # type: ignore[misc]
