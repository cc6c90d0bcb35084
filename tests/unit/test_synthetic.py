"""The synthetic history: deterministic, of the national shape, valid but for the planted noise."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from pydantic import ValidationError

from connectors.kafka.partitions import partition_of_household
from connectors.routing_files import default_routing, sample_addresses
from schemas.contract_v1 import CREDITOR_EVENT, SOURCES, CreditorEvent, bsn_is_valid
from schemas.internal_v1 import HOUSEHOLD_MESSAGE
from signals.intake import IntakeLimits
from signals.policy import Policy
from streams.replay.input import PlanOptions, plan, read_generated
from streams.worker.household import HouseholdProcessor
from streams.worker.topics import OUTPUT_TOPICS
from synthetic.generate import GenerateOptions, GenerateReport, generate
from synthetic.history import make_bsn
from synthetic.scenarios import SCENARIOS, Scenario, check_scenarios

SMALL = GenerateOptions(households=300, months=6, seed=11)
LATENESS_GRACE = timedelta(hours=48)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateReport]:
    out = tmp_path_factory.mktemp("small")
    return out, generate(SMALL, out, progress=None)


def test_the_same_seed_gives_byte_identical_files(small: tuple[Path, GenerateReport], tmp_path: Path) -> None:
    first, _ = small
    generate(SMALL, tmp_path, progress=None)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([*(f"{s}.jsonl" for s in SOURCES), "scenarios.jsonl", "manifest.json"])
    for name in names:
        assert (first / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_another_seed_gives_another_history(small: tuple[Path, GenerateReport], tmp_path: Path) -> None:
    first, _ = small
    generate(GenerateOptions(households=300, months=6, seed=12), tmp_path, progress=None)
    assert (first / "health.jsonl").read_bytes() != (tmp_path / "health.jsonl").read_bytes()


def test_the_shape_is_roughly_the_national_one(tmp_path: Path) -> None:
    shape = generate(GenerateOptions(households=3000, months=12, seed=3), tmp_path, progress=None).shape
    assert 250 <= shape["signals_per_100k_inhabitants_per_month"] <= 600
    shares = shape["source_shares"]
    assert 0.3 <= shares["health"] <= 0.55
    assert all(0.1 <= shares[s] <= 0.3 for s in ("housing", "energy", "water"))
    assert shares["cjib"] <= 0.05
    assert 0.04 <= shape["multiple_creditor_share"] <= 0.25
    assert 0.25 <= shape["again_within_6_months_share"] <= 0.55
    assert shape["paid_in_term_share"] > 0.5  # most arrears are paid within the reminder term


def test_a_few_events_per_household_per_month_at_most(small: tuple[Path, GenerateReport]) -> None:
    _, report = small
    assert sum(report.lines.values()) <= 3 * SMALL.households * SMALL.months


def test_every_line_is_a_valid_event_of_its_file_except_the_planted_invalid_ones(
    small: tuple[Path, GenerateReport],
) -> None:
    out, report = small
    invalid = 0
    for source in SOURCES:
        for line in (out / f"{source}.jsonl").read_bytes().splitlines():
            try:
                event = CREDITOR_EVENT.validate_json(line)
            except ValidationError:
                invalid += 1
                continue
            invalid += event.source != source
    planted = sum(n for kind, n in report.noise.items() if kind.startswith("invalid."))
    assert planted > 0
    assert invalid == planted


def test_late_lines_stay_within_the_lateness_grace(small: tuple[Path, GenerateReport]) -> None:
    out, report = small
    assert report.noise["late"] > 0
    assert report.noise["duplicate"] > 0
    for source in SOURCES:
        latest = None
        for line in (out / f"{source}.jsonl").read_bytes().splitlines():
            event = _event_or_none(line)
            if event is None:
                continue
            if latest is not None:
                assert event.occurred_at >= latest - LATENESS_GRACE, line
            latest = max(latest or event.occurred_at, event.occurred_at)


def _event_or_none(line: bytes) -> CreditorEvent | None:
    try:
        return CREDITOR_EVENT.validate_json(line)
    except ValidationError:
        return None


def test_bsns_pass_the_elfproef() -> None:
    import random

    rng = random.Random(5)
    assert all(bsn_is_valid(make_bsn(rng)) for _ in range(200))


def test_planted_households_live_at_sample_addresses_and_are_listed(
    small: tuple[Path, GenerateReport],
) -> None:
    out, report = small
    scenarios = [
        Scenario.model_validate_json(line) for line in (out / "scenarios.jsonl").read_bytes().splitlines()
    ]
    assert [s.name for s in scenarios] == [p.name for p in SCENARIOS]
    assert scenarios == report.scenarios
    routing, sample = default_routing(), {f"{pc}-{nr}" for pc, nr in sample_addresses()}
    assert {s.household_key for s in scenarios} <= sample
    assert not any(routing.route(s.household_key).fallback for s in scenarios)
    text = b"".join((out / f"{source}.jsonl").read_bytes() for source in SOURCES)
    for scenario in scenarios:
        postcode, number = scenario.household_key.split("-")
        assert f'"postcode":"{postcode}","house_number":{number},'.encode() in text, scenario.name


def test_a_short_history_plants_only_the_scenarios_it_can_show(tmp_path: Path) -> None:
    report = generate(GenerateOptions(households=10, months=1, seed=1), tmp_path, progress=None)
    assert 0 < len(report.scenarios) < len(SCENARIOS)
    assert "arrangement" not in {s.name for s in report.scenarios}


def test_planted_scenarios_give_their_expected_outcome_through_the_household_processor(
    small: tuple[Path, GenerateReport],
) -> None:
    """The worker-free check (same processor as the worker); the integration test runs a real worker."""
    out, report = small
    replay_plan = plan(read_generated(out), PlanOptions(limits=IntakeLimits(), partitions=4))
    routing, states = default_routing(), dict[str, bytes]()
    processor = HouseholdProcessor(
        states=states,
        policy=Policy.default(),
        route=routing.route,
        partition_of=lambda k: partition_of_household(k, 4),
    )
    outputs: dict[str, list[dict[str, object]]] = defaultdict(list)
    for partition in range(4):
        messages = [
            HOUSEHOLD_MESSAGE.validate_json(r.value) for r in replay_plan.internal if r.partition == partition
        ]
        result = processor.process(partition, messages, None)
        states.update(result.states)
        for output in result.outputs:
            outputs[OUTPUT_TOPICS[type(output)]].append(orjson.loads(output.model_dump_json()))
    assert check_scenarios(report.scenarios, outputs) == []
