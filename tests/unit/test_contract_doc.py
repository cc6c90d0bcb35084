"""docs/contract-v1.md cannot drift: its examples are parsed by the real contract."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, get_args

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from connectors.files import CSV_COLUMNS, read_events
from schemas.cases_v1 import CreditorFeedback, OutcomeRecorded
from schemas.contract_v1 import CREDITOR_EVENT, SOURCES, Address, CreditorEvent, Debtor, EventType
from schemas.deadletter_v1 import DeadLetter, ReasonClass
from schemas.export import SCHEMA_FILES
from schemas.outputs_v1 import DebtRef
from signals.cases import case_id_of, creditor_feedback
from signals.intake import IntakeLimits, Origin, accept
from signals.masking import mask_text
from streams.worker.settings import Settings
from streams.worker.topics import CREDITOR_FEEDBACK, CREDITOR_OUTPUT_TOPICS, DEAD_LETTER, TopicNames

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "contract-v1.md"
GOLDEN = ROOT / "tests" / "golden" / "replay"
NAMES = TopicNames(Settings.model_fields["topic_prefix"].default)
# Every kind of topic a creditor reads, and the model the pipeline writes to it.
RECEIVED: dict[str, Any] = {
    **{kind: model for model, kind in CREDITOR_OUTPUT_TOPICS.items()},
    DEAD_LETTER: DeadLetter,
    CREDITOR_FEEDBACK: CreditorFeedback,
}
_FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(info: str) -> list[str]:
    """Bodies of the fenced blocks whose info string is exactly `info`."""
    return [
        match["body"] for match in _FENCE.finditer(DOC.read_text(encoding="utf-8")) if match["info"] == info
    ]


def test_every_json_example_is_a_valid_creditor_event() -> None:
    examples = blocks("json")
    assert examples, "no ```json examples found"
    for example in examples:
        CREDITOR_EVENT.validate_json(example)


def test_every_event_type_has_an_example() -> None:
    documented = {CREDITOR_EVENT.validate_json(example).type for example in blocks("json")}
    assert documented == set(get_args(EventType))


def test_dead_letter_example_is_a_valid_envelope() -> None:
    (example,) = blocks("json dead-letter")
    assert DeadLetter.model_validate_json(example).reason_class == "invalid"


def test_csv_example_reads_without_errors(tmp_path: Path) -> None:
    (example,) = blocks("csv")
    path = tmp_path / "example.csv"
    path.write_text(example, encoding="utf-8")
    rows = list(read_events(path, "housing"))
    assert rows
    assert all(row.errors == () for row in rows)


def _contract_fields() -> set[str]:
    union, _discriminator = get_args(CreditorEvent)
    fields = {*Debtor.model_fields, *Address.model_fields}
    for model in get_args(union):
        fields.update(model.model_fields)
    return fields


@pytest.mark.parametrize("field", sorted(_contract_fields()))
def test_every_contract_field_is_documented(field: str) -> None:
    assert f"`{field}`" in DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [*CSV_COLUMNS, *SOURCES, *get_args(ReasonClass)])
def test_every_csv_column_source_and_reason_class_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC.read_text(encoding="utf-8")


def _section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def _schema_file(model: Any) -> str:
    (name,) = [name for name, (_title, target, _mode) in SCHEMA_FILES.items() if target is model]
    return name


def test_every_topic_a_creditor_reads_is_in_what_you_receive() -> None:
    section = _section("What you receive")
    for source in SOURCES:
        kinds = {
            topic.removeprefix(NAMES.prefix).removesuffix(f".{source}") for topic in NAMES.of_creditor(source)
        }
        assert kinds == set(RECEIVED)
    for kind, model in RECEIVED.items():
        (row,) = [
            line for line in section.splitlines() if line.startswith(f"| `{NAMES.prefix}{kind}.<source>` |")
        ]
        assert row.endswith("| `creditor-<source>`: Read, Describe |"), (
            kind
        )  # infra/kubernetes/acl/ (test_asyncapi)
        assert f"### `{NAMES.prefix}{kind}.<source>`" in section, kind
        assert f"(../schemas/json/{_schema_file(model)})" in section, kind


@pytest.mark.parametrize("kind", list(RECEIVED))
def test_every_received_example_satisfies_its_model_and_schema_file(kind: str) -> None:
    (example,) = blocks(f"json {kind}")
    RECEIVED[kind].model_validate_json(example)
    schema = json.loads(
        (ROOT / "schemas" / "json" / _schema_file(RECEIVED[kind])).read_text(encoding="utf-8")
    )
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    assert [error.message for error in validator.iter_errors(json.loads(example))] == []


@pytest.mark.parametrize("kind", list(CREDITOR_OUTPUT_TOPICS.values()))
def test_output_examples_are_records_of_the_golden_replay(kind: str) -> None:
    """Never an invented field or value: each example is one line of the golden replay's outputs."""
    (example,) = blocks(f"json {kind}")
    lines = (GOLDEN / f"{kind}.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert json.loads(example) in records, f"not a record of the golden replay: take one from {kind}.jsonl"


def test_feedback_example_is_what_the_pipeline_writes_for_the_outcome_named() -> None:
    (example,) = blocks("json creditor-feedback")
    debt = DebtRef(source="housing", creditor_id="27100002", debt_ref="HO-000233-0000055")
    outcome = OutcomeRecorded(
        event_id="outcome",
        household_key="2792EP-121",
        actor="member",
        occurred_at=datetime(2026, 4, 2, 10, tzinfo=UTC),
        case_id=case_id_of("2792EP-121", date(2026, 3, 1)),
        team_id="team",
        resultaat="Vervolghulp en/of verwijzing financieel",
        datum=date(2026, 4, 2),
        debts=(debt,),
    )
    assert creditor_feedback(outcome) == [CreditorFeedback.model_validate_json(example)]
    assert '"Vervolghulp en/of verwijzing financieel" of 2 April\n2026' in _section("What you receive")


def test_dead_letter_example_is_what_intake_makes_of_the_rejected_event() -> None:
    """The documented rejection, run through the real intake: BSN starred, size and hash of the masked value."""
    (rejected,) = blocks("json rejected")
    (example,) = blocks("json dead-letter")
    raw = rejected.strip().encode()
    origin = Origin(
        source="housing",
        topic="vs.inbound.housing",
        partition=3,
        offset=18211,
        key=b"HUUR-10077",
        received_at=datetime(2024, 3, 1, 8, 30, 2, tzinfo=UTC),
    )
    letter = accept(raw, origin=origin, stream_time=None, limits=IntakeLimits())
    assert letter == DeadLetter.model_validate_json(example)
    assert letter.value_utf8 is not None
    assert b"111222333" in raw
    assert "111222333" not in example
    assert '\\"bsn\\":\\"*********\\"' in example
    assert mask_text(letter.value_utf8) == letter.value_utf8
    carried = letter.value_utf8.encode()
    assert (letter.value_bytes, letter.value_sha256) == (len(carried), hashlib.sha256(carried).hexdigest())
    assert letter.value_bytes == len(raw)  # a BSN starred keeps its length


@pytest.mark.parametrize("field", list(DeadLetter.model_fields))
def test_every_dead_letter_field_is_documented(field: str) -> None:
    assert f"`{field}`" in _section("Rejections: the dead-letter envelope")


def test_the_dead_letter_section_does_not_claim_the_raw_bytes_are_kept() -> None:
    section = _section("Rejections: the dead-letter envelope")
    assert "exactly as received" not in section
    assert "kept whole" not in section
    assert "starred" in section
