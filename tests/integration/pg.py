"""A throwaway PostgreSQL cluster from the Debian `postgresql` binaries, for integration tests.

`.ci/run` installs the package; as root the server runs as the `postgres` system user,
because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/*/bin (or $PG_BIN_DIR) that has initdb and pg_ctl."""
    candidates = [os.environ["PG_BIN_DIR"]] if os.environ.get("PG_BIN_DIR") else []
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(versions, key=lambda p: int(Path(p).parent.name), reverse=True)
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; "
        "`.ci/run` installs them (apt-get install -y postgresql)"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One cluster in a temporary directory: `init` once, then `start`/`stop` as often as needed."""

    def __init__(self, *, bin_dir: Path | None = None, port: int | None = None) -> None:
        self.bin_dir = bin_dir or find_bin_dir()
        self.port = port or free_port()
        # Not pytest's tmp_path: that lives under a root-only directory the postgres user cannot enter.
        self.base = Path(tempfile.mkdtemp(prefix="vroegsignaal-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self._as_postgres = os.geteuid() == 0

    def url(self, database: str = "postgres") -> str:
        """The asyncpg URL of a database on this server (trust auth, user postgres)."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str, check: bool = True) -> int:
        """Run a server tool, as the postgres user when we are root (pg_ctl refuses root)."""
        argv = [str(self.bin_dir / tool), *args]
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()} (log: {self.log})")
        return done.returncode

    def init(self) -> PostgresServer:
        """Create the cluster (trust auth, no fsync: a test cluster is thrown away)."""
        if self._as_postgres:
            shutil.chown(self.base, user="postgres", group="postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        return self

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base} -c fsync=off"
        self._run(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log), "-o", options
        )

    def stop(self) -> None:
        """Stop the server, disconnecting every client at once."""
        self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data))

    def is_running(self) -> bool:
        """Whether the server's postmaster is up."""
        return self._run("pg_ctl", "status", "-D", str(self.data), check=False) == 0

    def create_database(self, name: str) -> str:
        """Create a database and return its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing any connection left to it."""
        self._run("dropdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "--force", name)

    def destroy(self) -> None:
        """Stop the server if it runs and remove its directory."""
        if self.is_running():
            self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
