"""Replays on a real broker and worker: golden outputs, planted outcomes, determinism, archives.

The golden outputs under tests/golden/replay/ are regenerated with `make golden` (see the
Makefile) after a deliberate change of the rules or the generator; review the diff.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from connectors.kafka.admin import ensure_topics
from connectors.kafka.archive import archive_topics
from connectors.kafka.broker import EmbeddedBroker
from schemas.contract_v1 import SOURCES
from signals.intake import IntakeLimits
from streams.replay.input import InternalRecord, PlanOptions, plan, read_generated
from streams.replay.output import FILES, compare, read_outputs
from streams.replay.run import ReplayOptions, ReplaySummary, publish, publish_dead_letters, replay
from streams.replay.worker import ReplayError, ReplayGroup
from streams.worker.settings import Settings, load_settings
from streams.worker.topics import TopicNames
from synthetic.generate import GenerateOptions, GenerateReport, generate
from synthetic.scenarios import check_scenarios

pytestmark = pytest.mark.integration

GOLDEN_DIR = Path(__file__).parents[1] / "golden" / "replay"
# Keep in step with the `golden` target of the Makefile.
GOLDEN_INPUT = GenerateOptions(households=600, months=4, seed=7)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateReport]:
    out = tmp_path_factory.mktemp("history")
    return out, generate(GOLDEN_INPUT, out, progress=None)


def _replay(
    settings: Settings, broker: EmbeddedBroker, source: Path, out: Path, **kw: object
) -> ReplaySummary:
    options = ReplayOptions(source_dir=source, out=out, **kw)  # type: ignore[arg-type]
    return asyncio.run(replay(settings, options, broker_url=broker.url))


@pytest.fixture(scope="module")
def twice(
    settings: Settings,
    broker: EmbeddedBroker,
    history: tuple[Path, GenerateReport],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, ReplaySummary]:
    """The golden history replayed on one worker, then on two (each with the sink in a process of its own)."""
    source, _ = history
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    summary = _replay(settings, broker, source, first, workers=1)
    _replay(settings, broker, source, second, workers=2)
    return first, second, summary


def test_the_golden_history_replays_to_the_checked_in_outputs(
    twice: tuple[Path, Path, ReplaySummary],
) -> None:
    first, _, summary = twice
    assert summary.plan.dead_letters, "the golden input should carry noise"
    assert summary.plan.duplicates, "the golden input should carry noise"
    diff = compare(GOLDEN_DIR, first)
    assert diff == [], (
        "outputs differ from tests/golden/replay (run `make golden` if intended):\n" + "\n".join(diff)
    )


def test_every_planted_scenario_gets_its_expected_outcome(
    twice: tuple[Path, Path, ReplaySummary], history: tuple[Path, GenerateReport]
) -> None:
    first, _, summary = twice
    _, report = history
    assert len(report.scenarios) == 12
    assert check_scenarios(report.scenarios, read_outputs(first)) == []
    assert summary.scenario_failures == []


def test_replaying_the_same_input_twice_on_one_and_on_two_workers_gives_byte_identical_files(
    twice: tuple[Path, Path, ReplaySummary],
) -> None:
    """Two workers split the partitions: same files, so a replay's outputs do not depend on --workers."""
    first, second, _ = twice
    for stem in FILES:
        assert (first / f"{stem}.jsonl").read_bytes() == (second / f"{stem}.jsonl").read_bytes(), stem


def test_an_in_process_replay_writes_the_same_files_as_the_workers(
    settings: Settings,
    history: tuple[Path, GenerateReport],
    twice: tuple[Path, Path, ReplaySummary],
    tmp_path: Path,
) -> None:
    """--in-process folds each partition in a process of a pool, without broker or sink: the same files."""
    source, _ = history
    options = ReplayOptions(source_dir=source, out=tmp_path, in_process=True, workers=2)
    summary = asyncio.run(replay(settings, options))
    first, _, _ = twice
    for stem in FILES:
        assert (tmp_path / f"{stem}.jsonl").read_bytes() == (first / f"{stem}.jsonl").read_bytes(), stem
    assert summary.in_process
    assert "2 process(es) in-process" in summary.lines()[1]


def test_the_replay_command_in_process_matches_the_golden_files(
    history: tuple[Path, GenerateReport], tmp_path: Path
) -> None:
    """`vroegsignaal replay --in-process --expect`: no broker (none given, none started), exit 0, identical."""
    source, _ = history
    command = ["replay", "--from", str(source), "--out", str(tmp_path / "out"), "--in-process"]
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", *command, "--workers", "2", "--expect", str(GOLDEN_DIR)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 process(es) in-process, no broker or sink" in done.stdout
    assert f"outputs identical to {GOLDEN_DIR}" in done.stdout


def test_replaying_an_archived_internal_topic_reproduces_its_outputs(
    settings: Settings,
    broker: EmbeddedBroker,
    history: tuple[Path, GenerateReport],
    twice: tuple[Path, Path, ReplaySummary],
    tmp_path: Path,
    unique: str,
) -> None:
    """A 'live run' here is the planned internal topic published under a prefix, then archived."""
    source, _ = history
    names = TopicNames(f"live{unique}.")
    replay_plan = plan(read_generated(source), _plan_options(settings))
    asyncio.run(_publish_internal(broker, names, replay_plan.internal, replay_plan.dead_letters))
    asyncio.run(archive_topics(broker.bootstrap, names.everything, tmp_path / "archive", progress=None))
    out = tmp_path / "out"
    _replay(settings, broker, tmp_path / "archive", out, start_at="internal")
    first, _, _ = twice
    assert compare(first, out) == []


def test_replaying_archived_inbound_topics_gives_the_same_effects(
    settings: Settings,
    broker: EmbeddedBroker,
    history: tuple[Path, GenerateReport],
    twice: tuple[Path, Path, ReplaySummary],
    tmp_path: Path,
    unique: str,
) -> None:
    """Inbound records go through the same ingest logic; only dead letters' origins differ (topic, not file)."""
    source, _ = history
    names = TopicNames(f"in{unique}.")
    asyncio.run(_publish_inbound(broker, names, source))
    asyncio.run(archive_topics(broker.bootstrap, names.all_inbound, tmp_path / "archive", progress=None))
    out = tmp_path / "out"
    summary = _replay(settings, broker, tmp_path / "archive", out)
    first, _, golden_summary = twice
    assert compare(first, out, stems=[s for s in FILES if s != "dead-letters"]) == []
    assert len(summary.plan.dead_letters) == len(golden_summary.plan.dead_letters)


async def test_a_replay_process_that_dies_fails_the_run_naming_its_log_and_leaves_no_process(
    settings: Settings, broker: EmbeddedBroker, tmp_path: Path, unique: str
) -> None:
    group = ReplayGroup(
        settings=settings,
        broker_url=broker.url,
        app_id=f"replay-{unique}",
        prefix=f"replay-{unique}.",
        work_dir=tmp_path,
        workers=2,
    ).start()
    pids = [p.process.pid for p in group.processes if p.process is not None]
    try:
        assert group.sink.process is not None
        group.sink.process.kill()
        with pytest.raises(
            ReplayError, match=f"replay sink exited with code -9; log {tmp_path / 'sink.log'}"
        ):
            await group.wait_ready(broker.bootstrap, timeout_s=60)
    finally:
        group.stop(grace_s=10)
    assert len(pids) == 3
    for pid in pids:  # stopped and reaped: no such process any more
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def _plan_options(settings: Settings) -> PlanOptions:
    return PlanOptions(limits=IntakeLimits(), partitions=settings.partitions)


async def _publish_internal(
    broker: EmbeddedBroker, names: TopicNames, internal: list[InternalRecord], dead: list[bytes]
) -> None:
    await ensure_topics(broker.bootstrap, names.everything, partitions=4)
    await publish(broker.bootstrap, names.events_by_household, internal)
    await publish_dead_letters(broker.bootstrap, names, dead)


async def _publish_inbound(broker: EmbeddedBroker, names: TopicNames, source: Path) -> None:
    await ensure_topics(broker.bootstrap, names.everything, partitions=4)
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=5)
    await producer.start()
    try:
        for name in SOURCES:
            lines = [line for line in (source / f"{name}.jsonl").read_bytes().splitlines() if line.strip()]
            await asyncio.gather(*[await producer.send(names.inbound(name), value=line) for line in lines])
    finally:
        await producer.stop()
