"""Per-creditor topics: each creditor source reads its own topics only; teams' outputs stay shared."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from connectors.kafka.archive import ArchivedRecord
from connectors.kafka.partitions import partition_of_household
from connectors.routing_files import default_routing
from schemas.contract_v1 import SOURCES
from schemas.internal_v1 import HOUSEHOLD_MESSAGE
from schemas.outputs_v1 import CostsPermitted, CostViolation, ReminderIssued
from signals.intake import IntakeLimits
from signals.policy import Policy
from streams.replay.input import PlanOptions, plan, read_generated
from streams.replay.output import collect
from streams.worker.household import HouseholdProcessor, Output
from streams.worker.topics import OUTPUT_TOPICS, UNROUTED, TopicNames
from synthetic.generate import GenerateOptions, generate

NAMES = TopicNames("vs.")


def test_every_source_reads_five_topics_of_its_own_and_none_of_another() -> None:
    for source in SOURCES:
        own = NAMES.of_creditor(source)
        assert own == (
            f"vs.reminders.{source}",
            f"vs.costs-permitted.{source}",
            f"vs.cost-violations.{source}",
            f"vs.dead-letter.{source}",
            f"vs.creditor-feedback.{source}",
        )
        others = {t for s in SOURCES if s != source for t in NAMES.of_creditor(s)}
        assert not set(own) & others
        assert not set(own) & set(NAMES.shared_outputs)


def test_every_topic_is_created_once_and_the_shared_ones_are_gone() -> None:
    everything = NAMES.everything
    assert len(everything) == len(set(everything))
    assert {t for s in SOURCES for t in NAMES.of_creditor(s)} <= set(everything)
    assert NAMES.dead_letter_unrouted in everything
    # The topics every creditor shared before: nothing is written to them anymore.
    shared_before = {
        "vs.reminders",
        "vs.costs-permitted",
        "vs.cost-violations",
        "vs.dead-letter",
        "vs.creditor-feedback",
    }
    assert not shared_before & set(everything)
    assert set(NAMES.shared_outputs) == {"vs.signals", "vs.signal-resolutions", "vs.household-overviews"}


@pytest.mark.parametrize("source", [None, "clock", "internal", "gas", "", "housing.x"])
def test_a_dead_letter_of_no_creditor_goes_to_the_unrouted_topic(source: str | None) -> None:
    assert NAMES.dead_letter_for(source) == "vs.dead-letter.unrouted"


def test_the_unrouted_topic_is_no_creditors() -> None:
    assert UNROUTED not in SOURCES
    assert all(NAMES.dead_letter_unrouted not in NAMES.of_creditor(s) for s in SOURCES)
    assert NAMES.dead_letter_for("energy") == "vs.dead-letter.energy"


def test_there_is_no_feedback_topic_for_an_unknown_source() -> None:
    with pytest.raises(ValueError, match="gas"):
        NAMES.creditor_feedback_for("gas")
    with pytest.raises(ValueError, match="gas"):
        NAMES.of_creditor("gas")


def test_no_topic_name_of_one_creditor_starts_with_another_creditors() -> None:
    """So even a prefix ACL on a topic name grants no other source's topic (literal ones are shipped)."""
    topics = [t for s in SOURCES for t in NAMES.of_creditor(s)]
    for a in topics:
        for b in topics:
            assert a == b or not b.startswith(a), (a, b)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> list[Output]:
    """Every output of a small synthetic history, from the household processor the worker runs."""
    out = tmp_path_factory.mktemp("history")
    generate(GenerateOptions(households=150, months=6, seed=5), out, progress=None)
    replay_plan = plan(read_generated(out), PlanOptions(limits=IntakeLimits(), partitions=4))
    states: dict[str, bytes] = {}
    processor = HouseholdProcessor(
        states=states,
        policy=Policy.default(),
        route=default_routing().route,
        partition_of=lambda k: partition_of_household(k, 4),
    )
    found: list[Output] = []
    for partition in range(4):
        messages = [
            HOUSEHOLD_MESSAGE.validate_json(r.value) for r in replay_plan.internal if r.partition == partition
        ]
        result = processor.process(partition, messages, None)
        states.update(result.states)
        found += result.outputs
    return found


def test_no_effect_lands_on_another_sources_topic(outputs: list[Output]) -> None:
    per_creditor: Counter[tuple[str, str]] = Counter()
    for output in outputs:
        topic = NAMES.output(output)
        assert topic in NAMES.all_outputs  # the sink reads it
        assert NAMES.output_kind(topic) == OUTPUT_TOPICS[type(output)]
        if isinstance(output, ReminderIssued | CostsPermitted | CostViolation):
            source = output.debt.source
            assert topic in NAMES.of_creditor(source)
            assert all(topic not in NAMES.of_creditor(s) for s in SOURCES if s != source)
            per_creditor[OUTPUT_TOPICS[type(output)], source] += 1
        else:
            assert topic in NAMES.shared_outputs
    # The history exercised the routing: reminders of several sources, and the other creditor kinds.
    assert len({s for kind, s in per_creditor if kind == "reminders"}) >= 3, per_creditor
    assert {kind for kind, _ in per_creditor} == {"reminders", "costs-permitted", "cost-violations"}


def test_a_replay_files_the_outputs_of_every_sources_topic_by_kind(
    outputs: list[Output], tmp_path: Path
) -> None:
    """The golden files keep one file per kind: `reminders.jsonl` holds the reminders of every source."""
    names = TopicNames("replay-x.")
    records = [
        ArchivedRecord(names.output(o), 0, offset, None, None, o.model_dump_json().encode())
        for offset, o in enumerate(outputs)
    ]
    records.append(ArchivedRecord(names.dead_letter_for("water"), 0, 0, None, None, b"{}"))  # not an output
    counts = collect(records, names.prefix, []).counts()
    reminders = [o for o in outputs if isinstance(o, ReminderIssued)]
    assert counts["reminders"] == len({r.reminder_id for r in reminders}) > 0
    assert counts["dead-letters"] == 0
