"""The command line as a new user meets it: help, settings errors, --config, broker, demo."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

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
    result = _run(["demo", "--duration", "30", "--pace", "0.2"], tmp_path, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    signals = [line for line in result.stdout.splitlines() if " SIGNAL " in line]
    assert any("multiple" in line and "1011AB-1 " in line for line in signals), result.stdout
    port = re.search(r"kafka://127\.0\.0\.1:(\d+)", result.stdout)
    assert port is not None
    assert not _processes_mentioning(f"127.0.0.1:{port.group(1)}"), "the demo left a process running"
    assert not _processes_mentioning(str(tmp_path / "data" / "demo"))


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
