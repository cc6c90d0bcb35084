"""The replay's worker: `vroegsignaal worker` as a child process that can touch nothing live.

It gets its own app id (consumer group, changelog topics), topic prefix, data directory and
SQLite database, and no inherited VROEGSIGNAAL_* variable: every setting it needs is passed
from the replay's settings, so the rules and routing are the operator's while the live
database URL, prefix and app id can never leak in.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import aiohttp
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from connectors.kafka.broker import free_port
from connectors.kafka.security import PLAINTEXT, KafkaSecurity
from streams.errors import StreamsError
from streams.worker.settings import Settings

__all__ = ["ReplayError", "ReplayWorker", "wait_committed"]

POLL_S = 0.2


class ReplayError(StreamsError, RuntimeError):
    """The replay could not complete: the worker died or did not catch up in time."""


class ReplayWorker:
    """One worker process for one replay; start(), wait_ready(), stop()."""

    def __init__(
        self, *, settings: Settings, broker_url: str, app_id: str, prefix: str, work_dir: Path
    ) -> None:
        self.settings, self.broker_url = settings, broker_url
        self.app_id, self.prefix, self.work_dir = app_id, prefix, work_dir
        self.web_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.work_dir / "worker.log"

    def env(self) -> dict[str, str]:
        """The child's environment: nothing live inherited, everything isolating set explicitly."""
        s = self.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith("VROEGSIGNAAL_")}
        ours = {
            "BROKER_URL": self.broker_url,
            "TOPIC_PREFIX": self.prefix,
            "APP_ID": self.app_id,
            "DATA_DIR": str(self.work_dir),
            "DATABASE_URL": f"sqlite:///{self.work_dir / 'replay.db'}",
            "WEB_BIND": "127.0.0.1",
            "WEB_PORT": str(self.web_port),
            "PARTITIONS": str(s.partitions),
            "REPLICATION_FACTOR": str(s.replication_factor),
            "STORE": "memory://",  # the run's state is thrown away with it
            "CLOCK": "off",  # the replay brings its own ticks
            "SESSION_TIMEOUT_S": "6",  # a group join takes half of it on the dev broker
            "HEARTBEAT_INTERVAL_S": "1",
            "COMMIT_INTERVAL_S": "0.5",  # the replay waits for commits to know it is done
            "RULES": s.rules.model_dump_json(),
            "BATCH_MAX_EVENTS": str(s.batch_max_events),
            "BATCH_WITHIN_S": str(s.batch_within_s),
            "FETCH_MAX_WAIT_MS": str(s.fetch_max_wait_ms),
            "MAX_MESSAGE_BYTES": str(s.max_message_bytes),
            "LOG_LEVEL": "warning",
            # Thrown away after the run and on loopback only: it may stand on the sample teams
            # when no routing is configured, with a session key and origin of its own.
            "DEMO": "true",
        }
        if s.routing_map is not None and s.teams_file is not None:
            ours |= {"ROUTING_MAP": str(s.routing_map.resolve()), "TEAMS_FILE": str(s.teams_file.resolve())}
        # TLS and SASL as configured (certificate paths made absolute); none for an embedded broker.
        return env | {f"VROEGSIGNAAL_{k}": v for k, v in ours.items()} | s.kafka_security.env()

    def start(self) -> ReplayWorker:
        """Start the worker; its output goes to worker.log in the work directory."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "worker", "-l", "warn"],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the replay, which stops the worker in order
        )
        log.close()
        return self

    def check_alive(self) -> None:
        """Raise ReplayError with the log's tail when the worker has exited."""
        if self.process is None or self.process.poll() is not None:
            code = self.process.returncode if self.process else None
            raise ReplayError(f"replay worker exited with code {code}; last log lines:\n{self.log_tail()}")

    async def wait_ready(self, timeout_s: float) -> None:
        """Until /readyz answers 200 (partitions assigned, recovery done, read model up)."""
        url = f"http://127.0.0.1:{self.web_port}/readyz"
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while time.monotonic() < deadline:
                self.check_alive()
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(url) as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(POLL_S)
        raise ReplayError(f"replay worker not ready within {timeout_s:.0f} s; see {self.log_path}")

    def stop(self, grace_s: float = 30) -> None:
        """SIGTERM, then SIGKILL after the grace period; always reaps the process."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


async def wait_committed(
    bootstrap: str,
    group: str,
    last: Mapping[TopicPartition, int],
    worker: ReplayWorker,
    timeout_s: float,
    *,
    security: KafkaSecurity = PLAINTEXT,
) -> None:
    """Until the group has committed past `last[tp]` on every partition (processed, not just read)."""
    if not last:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security.client_kwargs())
    await admin.start()
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            offsets = await admin.list_consumer_group_offsets(group, partitions=list(last))
            behind = {tp: n for tp, n in last.items() if tp not in offsets or offsets[tp].offset <= n}
            if not behind:
                return
            worker.check_alive()
            if time.monotonic() > deadline:
                raise ReplayError(f"group {group} did not commit past {behind} within {timeout_s:.0f} s")
            await asyncio.sleep(POLL_S)
    finally:
        await admin.close()
