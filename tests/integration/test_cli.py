"""The command line as a new user meets it: help, settings errors, --config, broker, demo."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from connectors.kafka.broker import free_port

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-m", "streams.cli"]


def _run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VROEGSIGNAAL_")}
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )


def test_help_lists_worker_broker_and_demo(tmp_path: Path) -> None:
    result = _run(["--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    commands = set(re.findall(r"^  (\w[\w-]*) ", result.stdout, re.MULTILINE))
    assert {"worker", "broker", "demo", "overview", "rules", "schemas"} <= commands


def test_a_wrong_setting_stops_start_up_with_one_line_naming_it(tmp_path: Path) -> None:
    result = _run(["rules"], tmp_path, env={"VROEGSIGNAAL_PARTITIONS": "0"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "'partitions'" in result.stderr


@pytest.mark.parametrize(
    "args",
    [["retention", "--dry-run"], ["overview", "1011AB", "1"], ["audit"]],
    ids=["retention", "overview", "audit"],
)
def test_a_read_model_that_cannot_be_reached_ends_a_command_in_one_line(
    tmp_path: Path, args: list[str]
) -> None:
    # A CronJob's log or an operator's terminal gets the cause and the setting, not a traceback.
    closed = free_port()  # nothing listens there
    url = f"postgresql://vroegsignaal:secret@127.0.0.1:{closed}/vroegsignaal"
    result = _run(args, tmp_path, env={"VROEGSIGNAAL_DEMO": "true", "VROEGSIGNAAL_DATABASE_URL": url})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("vroegsignaal:")]
    assert "cannot reach the read model" in line
    assert "'database_url'" in line
    assert "secret" not in result.stderr  # the password is never printed


def test_the_worker_refuses_the_sample_teams_outside_demo_mode_and_says_what_to_configure(
    tmp_path: Path,
) -> None:
    result = _run(["worker"], tmp_path)  # as a new user would: no configuration at all
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "'routing_map' and 'teams_file'" in result.stderr
    assert "VROEGSIGNAAL_DEMO=true" in result.stderr
    # Given teams and routing, the next missing secret is named the same way.
    files = {
        "VROEGSIGNAAL_ROUTING_MAP": str(tmp_path / "map.csv"),
        "VROEGSIGNAAL_TEAMS_FILE": str(tmp_path / "t.toml"),
    }
    _sample_files(tmp_path)
    # The pseudonym key of an older version is no setting any more: left in the environment, it is ignored.
    result = _run(["worker"], tmp_path, env={"VROEGSIGNAAL_PSEUDONYM_KEY": "k" * 64, **files})
    assert result.returncode == 2, result.stderr
    assert "'session_key' is required outside demo mode" in result.stderr
    # With the secrets set, the copied sample still holds the demo logins the README prints: refused.
    secrets = {"VROEGSIGNAAL_SESSION_KEY": "s" * 64, "VROEGSIGNAAL_PUBLIC_ORIGIN": "https://team.example.nl"}
    result = _run(["worker"], tmp_path, env={**secrets, **files}, timeout=30)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "public demo tokens" in result.stderr
    assert "VROEGSIGNAAL_DEMO=true" in result.stderr


def _sample_files(directory: Path) -> None:
    """The shipped sample routing files, copied as an operator would start from them."""
    sample = resources.files("connectors") / "data"
    (directory / "map.csv").write_bytes((sample / "buurten-sample.csv").read_bytes())
    (directory / "t.toml").write_bytes((sample / "teams-sample.toml").read_bytes())


def test_rules_from_a_toml_config_file_are_what_rules_prints(tmp_path: Path) -> None:
    config = tmp_path / "gemeente.toml"
    config.write_text("[rules.health]\nmin_days_overdue = 75\n")
    result = _run(["--config", str(config), "rules"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^health\s+min_days_overdue\s+75 days\s+Wgs art\. 4a", result.stdout, re.MULTILINE), (
        result.stdout
    )
    # Every rule shows its legal basis, e.g. the 14-day letter's article and ruling.
    assert re.search(
        r"^housing\s+requires_contact_attempt\s+yes\s+Besluit gemeentelijke schuldhulpverlening art\. 2",
        result.stdout,
        re.MULTILINE,
    )
    assert "ECLI:NL:HR:2016:2704" in result.stdout


def test_a_wrong_rule_in_the_config_file_names_the_setting_and_range(tmp_path: Path) -> None:
    config = tmp_path / "gemeente.toml"
    config.write_text("[rules.health]\nmin_days_overdue = -3\n")
    result = _run(["--config", str(config), "rules"], tmp_path)
    assert result.returncode == 2
    assert "min_days_overdue" in result.stderr
    assert "greater than or equal" in result.stderr


def test_broker_command_prints_its_address_and_stops_on_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen([*CLI, "broker"], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert re.search(r"kafka://127\.0\.0\.1:\d+", line), line
        port = re.search(r":(\d+)", line.split("kafka://", 1)[1])
        assert port is not None
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
        assert not _processes_mentioning(f"127.0.0.1:{port.group(1)}")
    finally:
        if process.poll() is None:
            process.kill()


def test_demo_prints_a_multiple_signal_and_leaves_no_process_behind(tmp_path: Path) -> None:
    # VROEGSIGNAAL_WEB_PORT is honoured (a free one here; 6066 when unset).
    web_port = free_port()
    process = _demo(["--duration", "30", "--pace", "0.2"], tmp_path, {"VROEGSIGNAAL_WEB_PORT": str(web_port)})
    try:
        head = _read_logins(process)
        address, logins = _printed_logins(head)
        assert address == f"http://127.0.0.1:{web_port}/team/login", head
        # Every printed login works at the printed address, for the printed team, as a new user would use it.
        assert logins == {
            "demo-centrum": "Buurtteam Centrum",
            "demo-coordinator": "Buurtteam Centrum (coördinator: overzicht, toewijzen)",
            "demo-oost": "Buurtteam Oost",
            "demo-zuidoost": "Buurtteam Zuidoost",
            "demo-centraal": "Team Schuldhulp Centraal",
        }
        for token, team in logins.items():
            page = _log_in_and_open_the_cases(address, token)
            assert team.split(" (")[0] in page, token
            # Only the coordinator's menu has the team's overview.
            assert ("/overzicht" in page) == (token == "demo-coordinator"), token
        rest, errors = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    stdout = head + rest
    assert process.returncode == 0, stdout + errors
    signals = [line for line in stdout.splitlines() if " SIGNAL " in line]
    assert any("multiple" in line and "1011AB-1 " in line for line in signals), stdout
    port = re.search(r"kafka://127\.0\.0\.1:(\d+)", stdout)
    assert port is not None
    assert not _processes_mentioning(f"127.0.0.1:{port.group(1)}"), "the demo left a process running"
    assert not _processes_mentioning(str(tmp_path / "data" / "demo"))


def test_demo_moves_to_a_free_port_when_the_web_port_is_taken_and_says_so(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        process = _demo(["--duration", "1"], tmp_path, {"VROEGSIGNAAL_WEB_PORT": str(busy)})
        try:
            head = _read_logins(process)
            moved = [line for line in head.splitlines() if f"port {busy} is in use" in line]
            assert len(moved) == 1, head
            address, _ = _printed_logins(head)
            port = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/team/login", address)
            assert port is not None, address
            assert int(port.group(1)) != busy
            assert f"port {port.group(1)} instead" in moved[0]
            assert "Buurtteam Oost" in _log_in_and_open_the_cases(address, "demo-oost")
            _, errors = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, errors


def _demo(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VROEGSIGNAAL_")}
    return subprocess.Popen(
        [*CLI, "demo", *args],
        cwd=cwd,
        env={**clean, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_logins(process: subprocess.Popen[str], timeout_s: float = 90) -> str:
    """The demo's output up to and including its list of demo logins (printed once the worker is ready)."""
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("  demo-centraal "):
            return "".join(lines)
    raise AssertionError("the demo printed no logins:\n" + "".join(lines))


def _printed_logins(output: str) -> tuple[str, dict[str, str]]:
    """(the printed login address, {printed token: printed team name})."""
    address = re.search(r"^team pages: (\S+)", output, re.MULTILINE)
    assert address is not None, output
    logins = dict(re.findall(r"^  (demo-\S+)\s+(.+)$", output, re.MULTILINE))
    return address.group(1), logins


def _log_in_and_open_the_cases(address: str, token: str) -> str:
    """Post the login form as a browser on that page does; the page the answer leads to."""
    origin = address.removesuffix("/team/login")
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(
        address,
        data=urllib.parse.urlencode({"token": token}).encode(),
        headers={"Origin": origin, "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as raised:  # the redirect, not followed
        opener.open(request, timeout=15)
    answer = raised.value
    assert answer.code == 303, (answer.code, answer.read())
    location = answer.headers["Location"]
    cookie = SimpleCookie(answer.headers["Set-Cookie"])
    cases = urllib.request.Request(
        urllib.parse.urljoin(address, location),
        headers={"Cookie": "; ".join(f"{k}={m.value}" for k, m in cookie.items())},
    )
    with opener.open(cases, timeout=15) as page:
        assert page.status == 200
        return str(page.read().decode())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _processes_mentioning(text: str) -> list[int]:
    """Pids whose command line or environment mentions `text` (we are root in CI, so /proc is readable)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            blob = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if text.encode() in blob:
            found.append(int(entry.name))
    return found
