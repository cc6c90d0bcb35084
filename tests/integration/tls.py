"""A throwaway PKI (openssl CLI) and a TLS terminator (Debian stunnel4) in front of the embedded broker."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from connectors.kafka.broker import die_with_parent, free_port


class TlsUnavailable(RuntimeError):
    """stunnel4 or openssl is not installed (.ci/run installs both)."""


def stunnel_binary() -> str:
    found = shutil.which("stunnel4") or shutil.which("stunnel")
    if found is None:
        raise TlsUnavailable("stunnel4 is not installed (apt-get install stunnel4; .ci/run installs it)")
    if shutil.which("openssl") is None:
        raise TlsUnavailable("openssl is not installed (apt-get install openssl)")
    return found


@dataclass(frozen=True)
class Pki:
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all PEM."""

    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def server_cert(self) -> Path:
        return self.directory / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.directory / "server.key"

    @property
    def client_cert(self) -> Path:
        return self.directory / "client.pem"

    @property
    def client_key(self) -> Path:
        return self.directory / "client.key"

    @property
    def other_ca(self) -> Path:
        """A CA that signed nothing here: a client trusting only it must refuse the broker."""
        return self.directory / "other-ca.pem"


def make_pki(directory: Path, *, client_key_password: str | None = None) -> Pki:
    """Generate the CA, server and client certificates (EC P-256, valid one day) with openssl."""
    directory.mkdir(parents=True, exist_ok=True)
    pki = Pki(directory)
    _ca(directory, "ca", "vroegsignaal test CA")
    _ca(directory, "other-ca", "some other CA")
    leaf_certificate(
        directory,
        "server",
        "broker",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth",
    )
    leaf_certificate(
        directory, "client", "vroegsignaal-worker", "extendedKeyUsage=clientAuth", client_key_password
    )
    return pki


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _ca(directory: Path, name: str, subject: str) -> None:
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}.key", cwd=directory)
    _openssl(
        "req", "-x509", "-new", "-key", f"{name}.key", "-out", f"{name}.pem", "-days", "1",
        "-subj", f"/CN={subject}",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip


def leaf_certificate(
    directory: Path, name: str, subject: str, extensions: str, password: str | None = None
) -> None:
    """`<name>.pem` and `<name>.key`, signed by the CA in `directory`, with the given X.509v3 extensions."""
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}.key", cwd=directory)
    _openssl(
        "req", "-new", "-key", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={subject}", cwd=directory
    )
    (directory / f"{name}.ext").write_text(extensions + "\n")
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", f"{name}.pem", "-days", "1", "-extfile", f"{name}.ext",
        cwd=directory,
    )  # fmt: skip
    if password is not None:
        _openssl(
            "pkey", "-in", f"{name}.key", "-aes256", "-passout", f"pass:{password}", "-out", f"{name}.enc.key",
            cwd=directory,
        )  # fmt: skip
        (directory / f"{name}.enc.key").replace(directory / f"{name}.key")


class Stunnel:
    """stunnel4 accepting TLS on `port` and forwarding plaintext to `target_port` on loopback."""

    def __init__(
        self, pki: Pki, *, target_port: int, port: int | None = None, require_client_cert: bool = False
    ):
        self.pki, self.target_port = pki, target_port
        self.port = port or free_port()
        self.require_client_cert = require_client_cert
        self.log_path = pki.directory / f"stunnel-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def config(self) -> str:
        lines = [
            "foreground = yes",
            "pid =",
            f"output = {self.log_path}",
            "debug = 5",
            "[kafka]",
            f"accept = 127.0.0.1:{self.port}",
            f"connect = 127.0.0.1:{self.target_port}",
            f"cert = {self.pki.server_cert}",
            f"key = {self.pki.server_key}",
            "sslVersionMin = TLSv1.2",
        ]
        if self.require_client_cert:
            lines += [f"CAfile = {self.pki.ca}", "verifyChain = yes", "requireCert = yes"]
        return "\n".join(lines) + "\n"

    def start(self, timeout_s: float = 10.0) -> Stunnel:
        path = self.pki.directory / f"stunnel-{self.port}.conf"
        path.write_text(self.config())
        self._process = subprocess.Popen(
            [stunnel_binary(), str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"stunnel exited with {self._process.returncode}: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"stunnel did not listen on {self.port}: {self.log_tail()}")

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else "(no log)"

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def __enter__(self) -> Stunnel:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
