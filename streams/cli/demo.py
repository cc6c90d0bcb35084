"""`vroegsignaal demo`: embedded broker, a worker process, a synthetic feed, readable output.

The feed is a replay: it publishes a fixed history in event-time order, a
simulated day every `seconds_per_day`, and brings its own clock ticks (the
worker's wall clock is off), so pay-by dates pass within the demo's minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from connectors.kafka.admin import ensure_topics
from connectors.kafka.broker import EmbeddedBroker, die_with_parent, free_port
from connectors.kafka.security import PLAINTEXT
from schemas.internal_v1 import ClockTick
from signals.calendar import day_start
from streams.bootstrap import load_routing_table
from streams.cli.watch import describe_output
from streams.team.wiring import team_directory
from streams.worker.kafka_security import ENV_PREFIX
from streams.worker.outputs import OUTPUT_MESSAGE
from streams.worker.settings import Settings
from streams.worker.topics import TopicNames
from synthetic.demo_feed import days, history

TAIL_DAYS = 30  # keep ticking after the last event so every pay-by passes
# The sample teams' demo members (connectors/data/teams-sample.toml): PUBLIC tokens, demo only.
DEMO_LOGINS = ("demo-centrum", "demo-coordinator", "demo-oost", "demo-zuidoost", "demo-centraal")


async def run_demo(settings: Settings, *, duration_s: float | None, seconds_per_day: float) -> int:
    """Run until Ctrl-C, SIGTERM or the duration; leaves no process behind. Returns the exit code."""
    settings = settings.model_copy(update={"demo": True})  # the sample teams, whose tokens the README shows
    data_dir = (settings.data_dir / "demo").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "vroegsignaal.db").unlink(missing_ok=True)  # the broker starts empty, so does the read model
    names = TopicNames(settings.topic_prefix)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    broker = EmbeddedBroker(log_path=data_dir / "broker.log").start()
    worker: subprocess.Popen[bytes] | None = None
    try:
        print(f"embedded broker on {broker.url}; worker log in {data_dir / 'worker.log'}", flush=True)
        await ensure_topics(
            broker.bootstrap, names.everything, partitions=settings.partitions, security=PLAINTEXT
        )
        web_port = _web_port(settings.web_port)
        worker = _start_worker(settings, broker, data_dir, web_port)
        # Feeding only once the worker owns its partitions keeps the demo's
        # history in order through ingest (it is a replay, after all).
        if not await _wait_ready(web_port, worker, stop):
            return _worker_failed(worker, data_dir) if worker.poll() is not None else 0
        print("worker ready; feeding one simulated day every", seconds_per_day, "s", flush=True)
        print(login_help(settings, web_port), flush=True)
        tasks = [
            asyncio.create_task(_feed(broker.bootstrap, names, settings.partitions, seconds_per_day, stop)),
            asyncio.create_task(_print_outputs(broker.bootstrap, names, settings, stop)),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=duration_s)
        stop.set()
        await asyncio.gather(*tasks)
        return 0 if worker.poll() is None else _worker_failed(worker, data_dir)
    finally:
        if worker is not None:
            _stop_worker(worker, settings.shutdown_grace_s)
        broker.stop()
        print(f"demo stopped; read model kept in {data_dir / 'vroegsignaal.db'}", flush=True)


def _web_port(wanted: int) -> int:
    """`wanted` (web_port, default 6066) when it is free on loopback, else a free port, said in one line."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the worker's web server binds: a port left in TIME_WAIT by the last demo is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", wanted))
        except OSError:
            port = free_port()
            print(f"port {wanted} is in use; the team pages use port {port} instead", flush=True)
            return port
    return wanted


def demo_origin(web_port: int) -> str:
    """The demo's public origin; a form posted via any other address (`localhost`, say) is refused."""
    return f"http://127.0.0.1:{web_port}"


def login_help(settings: Settings, web_port: int) -> str:
    """Where to log in and with which demo logins (the sample teams' public tokens), one per team."""
    directory = team_directory(settings)
    lines = [f"team pages: {demo_origin(web_port)}/team/login  -- demo logins (toegangscode, team):"]
    for token in DEMO_LOGINS:
        member = directory.authenticate(token)
        if member is not None:  # a teams_file of one's own has other members
            role = " (coördinator: overzicht, toewijzen)" if member.role == "coordinator" else ""
            lines.append(f"  {token:<17} {directory.team_names[member.team_id]}{role}")
    return "\n".join(lines)


def _secret(data_dir: Path, name: str) -> str:
    """A secret generated once and kept in the demo's data directory (0600)."""
    path = data_dir / name
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _start_worker(
    settings: Settings, broker: EmbeddedBroker, data_dir: Path, web_port: int
) -> subprocess.Popen[bytes]:
    env = {
        # Not the configured TLS/SASL: the worker talks to the demo's plaintext embedded broker.
        **{k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)},
        "VROEGSIGNAAL_BROKER_URL": broker.url,
        "VROEGSIGNAAL_DATA_DIR": str(data_dir),
        "VROEGSIGNAAL_DATABASE_URL": f"sqlite:///{data_dir / 'vroegsignaal.db'}",
        # Demo mode: the sample teams and routing; the team pages at http://127.0.0.1:<web_port>.
        "VROEGSIGNAAL_DEMO": "true",
        "VROEGSIGNAAL_SESSION_KEY": _secret(data_dir, "session.key"),
        "VROEGSIGNAAL_WEB_PORT": str(web_port),
        "VROEGSIGNAAL_PUBLIC_ORIGIN": demo_origin(web_port),  # the address login_help() prints
        "VROEGSIGNAAL_APP_ID": "vroegsignaal-demo",
        "VROEGSIGNAAL_TOPIC_PREFIX": settings.topic_prefix,
        "VROEGSIGNAAL_PARTITIONS": str(settings.partitions),
        "VROEGSIGNAAL_CLOCK": "off",
        "VROEGSIGNAAL_SESSION_TIMEOUT_S": "6",
    }
    log = open(data_dir / "worker.log", "wb")  # noqa: SIM115 - owned by the child
    return subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "worker", "-l", "warn"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # we stop it ourselves, in order, after the feed
        preexec_fn=die_with_parent,
    )


async def _wait_ready(web_port: int, worker: subprocess.Popen[bytes], stop: asyncio.Event) -> bool:
    """Poll /readyz until 200; False when the worker died or the user stopped the demo."""
    url = f"http://127.0.0.1:{web_port}/readyz"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while not stop.is_set() and worker.poll() is None:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return True
            await _sleep_or_stop(stop, 0.2)
    return False


def _stop_worker(worker: subprocess.Popen[bytes], grace_s: float) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(grace_s)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(5)


def _worker_failed(worker: subprocess.Popen[bytes], data_dir: Path) -> int:
    print(f"worker exited with code {worker.returncode}; see {data_dir / 'worker.log'}", file=sys.stderr)
    return 1


async def _feed(
    bootstrap: str, names: TopicNames, partitions: int, seconds_per_day: float, stop: asyncio.Event
) -> None:
    # The demo's own embedded broker speaks plaintext on loopback, whatever kafka_security says.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, **PLAINTEXT.client_kwargs())
    await producer.start()
    try:
        per_day = dict(days(history()))
        first, last = min(per_day), max(per_day) + timedelta(days=TAIL_DAYS)
        day = first
        while day <= last:
            # Every simulated day ends with a tick, also days without events,
            # so stream time moves on and pay-by dates pass.
            for event in per_day.get(day, []):
                await producer.send(names.inbound(event.source), value=_json(event.payload))
            await _tick(producer, names, partitions, day)
            if await _sleep_or_stop(stop, seconds_per_day):
                return
            day += timedelta(days=1)
    finally:
        await producer.stop()


async def _tick(producer: AIOKafkaProducer, names: TopicNames, partitions: int, day: date) -> None:
    # Stream time reaches the end of the simulated (Amsterdam) day in every partition.
    at = day_start(day + timedelta(days=1)) - timedelta(minutes=1)
    value = ClockTick(at=at).model_dump_json().encode()
    for partition in range(partitions):
        await producer.send(names.clock, key=b"__clock__", value=value, partition=partition)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()


def _json(payload: dict[str, object]) -> bytes:
    import orjson

    return orjson.dumps(payload)


async def _print_outputs(bootstrap: str, names: TopicNames, settings: Settings, stop: asyncio.Event) -> None:
    routing = load_routing_table(settings)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
        **PLAINTEXT.client_kwargs(),
    )
    await consumer.start()
    try:
        wanted = [t for t in names.all_outputs if not t.endswith("household-overviews")]
        consumer.assign([TopicPartition(t, p) for t in wanted for p in range(settings.partitions)])
        await consumer.seek_to_beginning()
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200)
            records = sorted((r for rs in batches.values() for r in rs), key=lambda r: r.timestamp)
            for record in records:
                print(describe_output(OUTPUT_MESSAGE.validate_json(record.value), routing), flush=True)
    finally:
        await consumer.stop()
