"""The bench's anchor row: the same household fold inside a Quix Streams application.

What a user would build instead of the Faust worker, on the same embedded broker and the
same input, in the same `make bench` run (issue 17): intake (`signals.intake.accept`), a
re-key onto the household (Quix's `group_by`, a repartition topic, as the worker's
`events-by-household`), then `signals.household.handle_event` per event with the household's
state in a Quix State store (RocksDB with a changelog topic, as the worker's table), and the
effects out to a topic. Left out, as the issue says: clock ticks; also left out, so the anchor
is the cheaper side: the overview per household, the duplicate filter, dead letters, metrics
and the SQL sink. The partition's stream time is kept in memory only.

Quix Streams 3.28 pins pydantic < 2.14 and this project runs 2.14, so it lives in a virtualenv
of its own (`build/anchor-venv`, made on first use from `tests/bench/anchor-requirements.txt`)
and runs this module there with the repository on PYTHONPATH: signals/ and schemas/ are the
same source files as the worker's, only under that venv's pydantic.

Run by `tests/bench/run_bench.py`; alone:
    build/anchor-venv/bin/python -m tests.bench.quix_anchor --bootstrap HOST:PORT --topic T --events N
It consumes the topic from the start and prints one JSON line with its figures.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
ANCHOR_VENV = REPO / "build" / "anchor-venv"
REQUIREMENTS = Path(__file__).with_name("anchor-requirements.txt")


def ensure_venv() -> Path:
    """The anchor's python, its virtualenv made (once) with the ordinary `venv` and `pip`."""
    python = ANCHOR_VENV / "bin" / "python"
    stamp = ANCHOR_VENV / ".installed"
    if not stamp.exists() or stamp.read_text() != REQUIREMENTS.read_text():
        subprocess.run([sys.executable, "-m", "venv", str(ANCHOR_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
            check=True,
        )
        stamp.write_text(REQUIREMENTS.read_text())
    return python


def run_anchor(bootstrap: str, topic: str, events: int, timeout_s: float = 1800) -> dict[str, Any]:
    """Run the anchor in its own process (its venv); its figures as a dict."""
    python = ensure_venv()
    done = subprocess.run(
        [
            str(python),
            "-m",
            "tests.bench.quix_anchor",
            "--bootstrap",
            bootstrap,
            "--topic",
            topic,
            "--events",
            str(events),
        ],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"Quix anchor failed ({done.returncode}): {done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


class AnchorFold:
    """The three steps of the anchor application, with what they counted."""

    def __init__(self, qs: Any, events: int, stop: Any) -> None:
        from connectors.routing_files import default_routing
        from signals.intake import IntakeLimits
        from signals.policy import Policy

        self._qs, self._events, self._stop = qs, events, stop
        self.policy, self.routing, self.limits = Policy.default(), default_routing(), IntakeLimits()
        self.routes: dict[str, Any] = {}
        self.stream_times: dict[int, datetime] = {}
        self.seen = {"in": 0, "folded": 0, "effects": 0}
        self.started: tuple[float, float] | None = None  # perf_counter, process_time at the first record

    def intake(self, value: bytes, key: Any, timestamp: int, headers: Any) -> bytes | None:
        """signals.intake.accept, as the ingest stage; the accepted event as the worker forwards it."""
        from schemas.internal_v1 import AcceptedEvent
        from signals.intake import Origin, accept

        if self.started is None:
            self.started = (time.perf_counter(), time.process_time())
        self.seen["in"] += 1
        ctx = self._qs.message_context()
        origin = Origin(
            source=dict(headers or ())["source"].decode(),
            topic=ctx.topic,
            partition=ctx.partition,
            offset=ctx.offset,
            key=key,
            received_at=datetime.now(UTC),
        )
        result = accept(value, origin=origin, stream_time=None, limits=self.limits)
        return result.model_dump_json().encode() if isinstance(result, AcceptedEvent) else None

    @staticmethod
    def household_of(raw: bytes) -> str:
        import orjson

        return str(orjson.loads(raw)["household_key"])

    def fold(self, raw: bytes, state: Any) -> list[bytes]:
        """Decode as the household stage does, fold with handle_event, store the state's bytes."""
        from schemas.internal_v1 import HOUSEHOLD_MESSAGE, AcceptedEvent
        from signals.household import handle_event
        from streams.worker.state_codec import decode_state, encode_state

        message = HOUSEHOLD_MESSAGE.validate_json(raw)
        assert isinstance(message, AcceptedEvent)
        key = message.household_key
        route = self.routes.get(key)
        if route is None:
            route = self.routes[key] = self.routing.route(key)
        partition = self._qs.message_context().partition
        before = self.stream_times.get(partition)
        stored = state.get(b"s")
        outcome = handle_event(
            decode_state(stored) if stored is not None else None,
            message,
            policy=self.policy,
            route=route,
            stream_time=before,
        )
        at = message.event.occurred_at
        if before is None or at > before:
            self.stream_times[partition] = at
        if outcome.refused is None and not outcome.duplicate:
            state.set(b"s", encode_state(outcome.state))
        self.seen["folded"] += 1
        self.seen["effects"] += len(outcome.effects)
        if self.seen["folded"] >= self._events:
            self._stop()
        return [e.model_dump_json().encode() for e in outcome.effects]


def measure(bootstrap: str, topic: str, events: int) -> dict[str, Any]:
    """Consume `topic` from the start until `events` were folded; timed from the first record."""
    qs: Any = importlib.import_module("quixstreams")
    ck: Any = importlib.import_module("confluent_kafka")
    app = qs.Application(
        broker_address=bootstrap,
        consumer_group=f"bench-anchor-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        state_dir=tempfile.mkdtemp(prefix="vs-anchor-state-"),
        # The state's values are the worker's stored bytes (state_codec), kept as they are.
        rocksdb_options=qs.state.rocksdb.RocksDBOptions(dumps=_raw_dumps(qs), loads=bytes),
        loglevel="WARNING",
    )
    inbound = app.topic(topic, key_deserializer="bytes", value_deserializer="bytes")
    # Tansu's DescribeConfigs has no retention.ms, which Quix's group_by copies to its repartition
    # topic (KeyError otherwise): the embedded broker keeps everything, which is what -1 says.
    inbound.broker_config.extra_config.setdefault("retention.ms", "-1")
    effects = app.topic(f"{topic}-effects", key_serializer="str", value_serializer="bytes")
    steps = AnchorFold(qs, events, app.stop)
    sdf = app.dataframe(inbound).apply(steps.intake, metadata=True).filter(lambda v: v is not None)
    sdf = sdf.group_by(
        steps.household_of, name="household", value_deserializer="bytes", value_serializer="bytes"
    )
    sdf.apply(steps.fold, stateful=True, expand=True).to_topic(effects)
    app.run()  # returns after app.stop() once the last event is folded, its checkpoint committed
    assert steps.started is not None
    elapsed = time.perf_counter() - steps.started[0]
    return {
        "library": f"quixstreams {qs.__version__} (librdkafka {ck.libversion()[0]})",
        "events": steps.seen["in"],
        "folded": steps.seen["folded"],
        "effects": steps.seen["effects"],
        "seconds": round(elapsed, 2),
        "events_per_s": round(steps.seen["folded"] / elapsed, 1),
        "cpu_s": round(time.process_time() - steps.started[1], 2),
    }


def main() -> None:  # runs in the anchor venv: quixstreams is imported by name only there
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--events", type=int, required=True)
    args = parser.parse_args()
    print(json.dumps(measure(args.bootstrap, args.topic, args.events)))


def _raw_dumps(qs: Any) -> Any:
    """Quix's state serializer: bytes (the stored state) as they are, the rest (key prefixes) as JSON."""
    as_json = qs.utils.json.dumps

    def dumps(value: Any) -> bytes:
        return value if isinstance(value, bytes) else bytes(as_json(value))

    return dumps


if __name__ == "__main__":
    main()
