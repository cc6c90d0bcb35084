"""The replay's processes: `vroegsignaal worker`s and a `vroegsignaal sink`, children that can touch nothing live.

They get the run's own app id (consumer group, changelog topics), topic prefix and SQLite
database, a data directory each, and no inherited VROEGSIGNAAL_* variable: every setting
they need is passed from the replay's settings, so the rules and routing are the operator's
while the live database URL, prefix and app id can never leak in.

`ReplayGroup` runs N workers without the read-model sink plus the sink in a process of its
own (the best layout of `make bench`), and is ready only when every worker is and both
consumer groups are stable with all their members: input published before that would be
processed by one worker, then moved to another by the rebalance and processed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, Protocol

import aiohttp
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from connectors.kafka.broker import die_with_parent, free_port
from connectors.kafka.security import PLAINTEXT, KafkaSecurity
from streams.errors import StreamsError
from streams.worker.settings import Settings

__all__ = ["ReplayError", "ReplayGroup", "ReplayWorker", "default_workers", "wait_committed"]

POLL_S = 0.2
# A replay has its whole input at once and no one waits for an effect: batches far larger than
# live latency allows. A household's state is decoded, folded and stored, and its overview sent,
# once per batch, so the 20k-household year took ~16 s instead of ~35 s on two workers and a
# third less CPU (2,000 events within 0.05 s, the live defaults). The outputs are the same.
REPLAY_BATCH_MAX_EVENTS = 20_000
REPLAY_BATCH_WITHIN_S = 2.0
Role = Literal["worker", "sink"]


class ReplayError(StreamsError, RuntimeError):
    """The replay could not complete: the worker died or did not catch up in time."""


def default_workers(partitions: int, cores: int | None = None) -> int:
    """One worker per core, at most one per partition (a worker without a partition never gets ready).

    >>> default_workers(4, 2), default_workers(4, 8), default_workers(4, 1)
    (2, 4, 1)
    """
    return max(1, min(partitions, cores if cores is not None else usable_cores()))


def usable_cores() -> int:
    """The cores this process may run on (a container's cpuset), else the machine's."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class ReplayWorker:
    """One process of a replay (a worker, or the sink with role="sink"); start(), wait_ready(), stop().

    Its data directory is `work_dir/<name>`, its log `work_dir/<name>.log`; the SQLite database
    `work_dir/replay.db` is shared by every process of the run.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        broker_url: str,
        app_id: str,
        prefix: str,
        work_dir: Path,
        name: str = "worker",
        role: Role = "worker",
        sink_in_worker: bool = True,
    ) -> None:
        self.settings, self.broker_url = settings, broker_url
        self.app_id, self.prefix, self.work_dir = app_id, prefix, work_dir
        self.name, self.role, self.sink_in_worker = name, role, sink_in_worker
        self.web_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.work_dir / f"{self.name}.log"

    @property
    def data_dir(self) -> Path:
        return self.work_dir / self.name

    def env(self) -> dict[str, str]:
        """The child's environment: nothing live inherited, everything isolating set explicitly."""
        s = self.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith("VROEGSIGNAAL_")}
        ours = {
            "BROKER_URL": self.broker_url,
            "TOPIC_PREFIX": self.prefix,
            "APP_ID": self.app_id,
            "DATA_DIR": str(self.data_dir),
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
            "BATCH_MAX_EVENTS": str(max(s.batch_max_events, REPLAY_BATCH_MAX_EVENTS)),
            "BATCH_WITHIN_S": str(max(s.batch_within_s, REPLAY_BATCH_WITHIN_S)),
            "FETCH_MAX_WAIT_MS": str(s.fetch_max_wait_ms),
            "MAX_MESSAGE_BYTES": str(s.max_message_bytes),
            "LOG_LEVEL": "warning",
            "SINK_IN_WORKER": "true" if self.sink_in_worker else "false",
            # Thrown away after the run and on loopback only: it may stand on the sample teams
            # when no routing is configured, with a session key and origin of its own.
            "DEMO": "true",
        }
        if s.routing_map is not None and s.teams_file is not None:
            ours |= {"ROUTING_MAP": str(s.routing_map.resolve()), "TEAMS_FILE": str(s.teams_file.resolve())}
        # TLS and SASL as configured (certificate paths made absolute); none for an embedded broker.
        return env | {f"VROEGSIGNAAL_{k}": v for k, v in ours.items()} | s.kafka_security.env()

    @property
    def command(self) -> list[str]:
        verb = ["sink"] if self.role == "sink" else ["worker", "-l", "warn"]
        return [sys.executable, "-m", "streams.cli", *verb]

    def start(self) -> ReplayWorker:
        """Start the process; its output goes to `<name>.log` in the work directory."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        self.process = subprocess.Popen(
            self.command,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the replay, which stops the worker in order
            preexec_fn=die_with_parent,  # a replay killed outright takes its processes with it
        )
        log.close()
        return self

    def check_alive(self) -> None:
        """Raise ReplayError with the log's path and tail when the process has exited."""
        if self.process is None or self.process.poll() is not None:
            code = self.process.returncode if self.process else None
            raise ReplayError(
                f"replay {self.name} exited with code {code}; log {self.log_path}, last lines:\n"
                f"{self.log_tail()}"
            )

    async def wait_ready(self, timeout_s: float) -> None:
        """Until /readyz answers 200 (partitions assigned, recovery done, read model up).

        The sink serves only /metrics (on every path): it is up once that answers.
        """
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while time.monotonic() < deadline:
                if await self.ready(session):
                    return
                await asyncio.sleep(POLL_S)
        raise ReplayError(f"replay {self.name} not ready within {timeout_s:.0f} s; see {self.log_path}")

    async def ready(self, session: aiohttp.ClientSession) -> bool:
        """One probe: True when the process answers 200 (ReplayError when it has exited)."""
        self.check_alive()
        path = "metrics" if self.role == "sink" else "readyz"
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with session.get(f"http://127.0.0.1:{self.web_port}/{path}") as response:
                return response.status == 200
        return False

    def terminate(self) -> None:
        """SIGTERM, without waiting (stop() or wait_stopped() reaps)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_stopped(self, grace_s: float) -> None:
        """Wait up to `grace_s` for the process to exit, then SIGKILL; always reaps it."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            process.wait(max(grace_s, 0.0))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def stop(self, grace_s: float = 30) -> None:
        """SIGTERM, then SIGKILL after the grace period; always reaps the process."""
        self.terminate()
        self.wait_stopped(grace_s)

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Alive(Protocol):
    def check_alive(self) -> None: ...


class ReplayGroup:
    """N workers without the sink and one `vroegsignaal sink`, sharing the run's app id, prefix and database."""

    def __init__(
        self,
        *,
        settings: Settings,
        broker_url: str,
        app_id: str,
        prefix: str,
        work_dir: Path,
        workers: int,
    ) -> None:

        def process(name: str, role: Role) -> ReplayWorker:
            return ReplayWorker(
                settings=settings,
                broker_url=broker_url,
                app_id=app_id,
                prefix=prefix,
                work_dir=work_dir,
                name=name,
                role=role,
                sink_in_worker=False,
            )

        self.workers = [process(f"worker-{n}", "worker") for n in range(workers)]
        self.sink = process("sink", "sink")
        self.app_id, self.sink_group = app_id, settings.model_copy(update={"app_id": app_id}).sink_group

    @property
    def processes(self) -> list[ReplayWorker]:
        return [*self.workers, self.sink]

    def start(self) -> ReplayGroup:
        for process in self.processes:
            process.start()
        return self

    def check_alive(self) -> None:
        """ReplayError naming the first process that exited, with its log."""
        for process in self.processes:
            process.check_alive()

    async def wait_ready(
        self, bootstrap: str, timeout_s: float, *, security: KafkaSecurity = PLAINTEXT
    ) -> None:
        """Until every process answers and both groups are stable with all members, twice in a row.

        /readyz of a worker is 200 once it has partitions and no rebalance is going on, but the
        first worker is ready alone before the second joins; the group's own state says when all
        have joined and the assignment is done.
        """
        deadline, stable = time.monotonic() + timeout_s, 0
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security.client_kwargs())
        await admin.start()
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
                while stable < 2:
                    if time.monotonic() > deadline:
                        raise ReplayError(
                            f"replay processes not ready within {timeout_s:.0f} s; see the logs in "
                            f"{self.sink.work_dir}"
                        )
                    answers = [await p.ready(session) for p in self.processes]
                    groups = await _group_members(admin, [self.app_id, self.sink_group])
                    wanted = {self.app_id: len(self.workers), self.sink_group: 1}
                    stable = stable + 1 if all(answers) and groups == wanted else 0
                    await asyncio.sleep(POLL_S)
        finally:
            await admin.close()

    def stop(self, grace_s: float = 30) -> None:
        """SIGTERM to all at once, then each reaped (SIGKILL after the grace period)."""
        for process in self.processes:
            process.terminate()
        deadline = time.monotonic() + grace_s
        for process in self.processes:
            process.wait_stopped(deadline - time.monotonic())


async def _group_members(admin: AIOKafkaAdminClient, groups: Sequence[str]) -> dict[str, int]:
    """Members per group, counting only groups in the Stable state (joined and assigned)."""
    members: dict[str, int] = {}
    # One group per request: Tansu answers a request for two with a response aiokafka cannot decode.
    responses = [r for group in groups for r in await admin.describe_consumer_groups([group])]
    for response in responses:
        for described in response.groups:
            error_code, group_id, state, *_, group_members = described[:6]
            if error_code == 0 and state == "Stable":
                members[group_id] = len(group_members)
    return members


async def wait_committed(
    bootstrap: str,
    group: str,
    last: Mapping[TopicPartition, int],
    worker: Alive,
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
