"""A real worker scraped by a real Prometheus: /metrics passes promtool, every dashboard panel has data."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from connectors.kafka.broker import EmbeddedBroker, free_port
from schemas.internal_v1 import ClockTick
from streams.cli.demo import TAIL_DAYS
from streams.worker.topics import TopicNames
from synthetic.demo_feed import days, history
from tests.integration.harness import PARTITIONS, Worker, collect, isolated_worker, running

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "infra" / "prometheus" / "alerts.yml"
PROMETHEUS_BIN = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
needs_prometheus = pytest.mark.skipif(
    PROMETHEUS_BIN is None or PROMTOOL is None,
    reason="prometheus/promtool not found: install the Debian package `prometheus` (.ci/run does)",
)
# Short enough that only this run's samples count, long enough for rate() to find two.
RANGE = "5m"
# Messages the ingest agent must dead-letter: not JSON, not an object, an incomplete event.
INVALID = (b"not json at all", b"[]", b'{"type": "debt.opened"}')


def _load_builder() -> ModuleType:
    # infra/ is no package; the generator is a plain script.
    path = ROOT / "infra" / "grafana" / "build_dashboards.py"
    spec = importlib.util.spec_from_file_location("build_dashboards", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


@dataclass
class Prometheus:
    """A Prometheus server on loopback with its own data directory."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def api(self, path: str, **params: str) -> Any:
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector", (expr, data)
        return list(data["result"])

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _prometheus_config(target: str) -> dict[str, Any]:
    # JSON is YAML: no PyYAML needed to write it.
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS)],
        "scrape_configs": [{"job_name": "vroegsignaal", "static_configs": [{"targets": [target]}]}],
    }


def _wait_for(
    what: str, check: Callable[[], bool], timeout_s: float, details: Callable[[], str], poll_s: float = 0.25
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass  # not listening yet
        time.sleep(poll_s)
    raise AssertionError(f"{what} within {timeout_s}s\n{details()}")


@pytest.fixture
def worker(broker: EmbeddedBroker, tmp_path: Path) -> Iterator[Worker]:
    with running(isolated_worker(broker, tmp_path, "prom"), topics_first=True) as w:
        yield w


@pytest.fixture
def prometheus(worker: Worker, tmp_path: Path) -> Iterator[Prometheus]:
    assert PROMETHEUS_BIN is not None
    config = tmp_path / "prometheus.yml"
    config.write_text(json.dumps(_prometheus_config(f"127.0.0.1:{worker.web_port}")))
    port = free_port()
    log = tmp_path / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                PROMETHEUS_BIN,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Prometheus(process, port, log)
    try:
        _wait_for("prometheus not ready", lambda: _ready(server), 30, server.log_tail)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _ready(server: Prometheus) -> bool:
    assert server.process.poll() is None, server.log_tail()
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/-/ready", timeout=2) as response:
        return bool(response.status == 200)


# --- the feed -----------------------------------------------------------------------------

Item = tuple[str, int | None, bytes]  # topic, partition (None: the producer picks), value


@dataclass(frozen=True)
class Day:
    """One simulated day: its events, then a tick into every clock partition."""

    end: datetime
    events: list[Item]
    ticks: list[Item]


def _days(names: TopicNames) -> list[Day]:
    """The demo history as streams/cli/demo.py feeds it, plus invalid messages and one duplicate on day one."""
    events = history()
    per_day = dict(days(events))
    first, last = min(per_day), max(per_day) + timedelta(days=TAIL_DAYS)
    out = []
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        today = per_day.get(day, []) + ([events[0]] if n == 0 else [])  # the same event id again
        end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=23, minutes=59)
        tick = ClockTick(at=end).model_dump_json().encode()
        out.append(
            Day(
                end=end,
                events=[(names.inbound(e.source), None, orjson.dumps(e.payload)) for e in today],
                ticks=[(names.clock, p, tick) for p in range(PARTITIONS)],
            )
        )
    out[0].events.extend((names.inbound("energy"), None, value) for value in INVALID)
    return out


def _feed(broker: EmbeddedBroker, worker: Worker, feed: list[Day], after: Day | None = None) -> None:
    """Publish the days in order; a day with events only once the worker's clock reached the day before.

    Faust reads topic partitions round-robin, so a sparse inbound partition runs
    ahead of the dense clock partition: without the wait, events land more than
    the future tolerance ahead of their partition's clock and are dead-lettered as
    future_dated. Days without events need no wait and go out together.
    """
    pending: list[Item] = []
    previous = after
    for day in feed:
        if day.events and previous is not None:
            _publish(broker, pending)
            pending = []
            _wait_for_stream_time(worker, previous.end)
        pending += [*day.events, *day.ticks]
        previous = day
    _publish(broker, pending)


def _publish(broker: EmbeddedBroker, items: list[Item]) -> None:
    if items:
        asyncio.run(_send(broker, items))


async def _send(broker: EmbeddedBroker, items: list[Item]) -> None:
    # harness.publish cannot pick the partition, and every clock partition needs its tick.
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=5)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, key=None if p is None else b"__clock__", value=value, partition=p)
            for topic, p, value in items
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def _wait_for_stream_time(worker: Worker, at: datetime) -> None:
    # Stream time comes from the ticks ingest forwards, so it reaching `at` on every
    # partition means every clock partition's tick up to `at` has been read too.
    def reached() -> bool:
        times = _stream_times(worker)
        return len(times) == PARTITIONS and min(times.values()) >= at.timestamp()

    _wait_for(f"stream time not at {at}", reached, 20, worker.log_tail, poll_s=0.02)


def _stream_times(worker: Worker) -> dict[str, float]:
    status, body = worker.get("/metrics")
    assert status == 200, body
    return {
        sample.labels["partition"]: sample.value
        for family in text_string_to_metric_families(body)
        if family.name == "vroegsignaal_stream_time_seconds"
        for sample in family.samples
    }


# --- the test -----------------------------------------------------------------------------


@needs_prometheus
def test_every_dashboard_panel_has_data_from_a_real_worker(
    broker: EmbeddedBroker, worker: Worker, prometheus: Prometheus
) -> None:
    feed = _days(worker.names)
    # Day one alone first, and the rest once Prometheus has scraped its series: a
    # series born and finished between two scrapes has a rate of 0 and histogram
    # quantiles of NaN, which Grafana shows as no data.
    _feed(broker, worker, feed[:1])
    _wait_for("day one not scraped", lambda: _latency_stages(prometheus) == 2, 20, prometheus.log_tail)
    _feed(broker, worker, feed[1:], after=feed[0])
    signals = asyncio.run(collect(broker, [f"{worker.prefix}signals"], lambda r: len(r) > 0, timeout_s=30))
    assert signals, f"no signal raised\n{worker.log_tail()}"

    expressions = list(_load_builder().prometheus_expressions(RANGE))
    empty: list[str] = []

    def all_panels_have_data() -> bool:
        empty[:] = [
            f"{board}: {title!r}: {expr}"
            for board, title, expr in expressions
            if not _has_data(prometheus.query(expr))
        ]
        return not empty

    # The lag gauge appears on the worker's first 10 s timer round and rates need a
    # second sample after the traffic: poll instead of guessing how long that takes.
    _wait_for("panels without data", all_panels_have_data, 30, lambda: "\n".join(empty))
    _assert_rules_evaluate(prometheus)
    # Last, so the body holds every series of the run, the lag gauge included.
    status, body = worker.get("/metrics")
    assert status == 200
    lint = subprocess.run(
        [str(PROMTOOL), "check", "metrics"],
        input=body,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def _latency_stages(prometheus: Prometheus) -> int:
    return len(prometheus.query("vroegsignaal_processing_latency_seconds_count"))


def _has_data(result: list[dict[str, Any]]) -> bool:
    # NaN (a quantile of no observations in the window) is a gap in Grafana, not data.
    return any(sample["value"][1] != "NaN" for sample in result)


def _assert_rules_evaluate(prometheus: Prometheus) -> None:
    """Every alert rule of infra/prometheus/alerts.yml evaluates against real series without error."""

    def rules() -> list[dict[str, Any]]:
        return [rule for group in prometheus.api("rules")["groups"] for rule in group["rules"]]

    _wait_for("rules not evaluated", lambda: all(r["health"] != "unknown" for r in rules()), 10, lambda: "")
    failing = {r["name"]: r.get("lastError") for r in rules() if r["health"] != "ok"}
    assert not failing, failing
