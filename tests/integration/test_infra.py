"""infra/: Prometheus config and rules (promtool), compose, the image (Kubernetes: test_kustomize.py)."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from streams.worker.settings import Settings, load_settings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
PROMETHEUS = INFRA / "prometheus"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool not found: install the Debian package `prometheus` (.ci/run does)",
)
PORT = Settings.model_fields["web_port"].default
OPS_PORT = 6067  # /metrics and /households on a listener of their own (compose and Kubernetes)
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[?-][^}]*)?\}")


@pytest.fixture(scope="module")
def yaml() -> ModuleType:
    return pytest.importorskip("yaml", reason="PyYAML is not installed: it belongs in the test extra")


def _load(yaml: ModuleType, path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


def _interpolated(value: Any) -> str:
    """A compose value with every ${VAR...} replaced, as compose would with VAR set."""

    def plausible(m: re.Match[str]) -> str:
        return "https://test.example" if m.group(1).endswith("_ORIGIN") else f"test-{m.group(1).lower()}"

    return INTERPOLATION.sub(plausible, str(value))


def _settings_from_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, Any]) -> Settings:
    """The Settings a worker would build from exactly this environment."""
    for name in [n for n in os.environ if n.startswith("VROEGSIGNAAL_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("VROEGSIGNAAL_"):
            # The environment source ignores unknown names: a typo would pass silently.
            field = name.removeprefix("VROEGSIGNAAL_").lower().split("__")[0]
            assert field in Settings.model_fields, f"{name} is not a setting"
            monkeypatch.setenv(name, _interpolated(value))
    return load_settings()


# --- Prometheus ---------------------------------------------------------------------------


@needs_promtool
def test_promtool_accepts_the_prometheus_config_and_its_rule_file() -> None:
    result = _promtool("check", "config", PROMETHEUS / "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout


@needs_promtool
def test_promtool_accepts_the_alert_rules() -> None:
    result = _promtool("check", "rules", PROMETHEUS / "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_severity_summary_description_and_runbook(yaml: ModuleType) -> None:
    rules = [rule for group in _load(yaml, PROMETHEUS / "alerts.yml")["groups"] for rule in group["rules"]]
    assert len(rules) >= 8
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), rule["alert"]


def test_prometheus_scrapes_each_compose_worker_on_the_ops_port(yaml: ModuleType) -> None:
    config = _load(yaml, PROMETHEUS / "prometheus.yml")
    compose = _load(yaml, INFRA / "compose.yaml")
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "vroegsignaal")
    targets = {t for static in job["static_configs"] for t in static["targets"]}
    workers = {name for name in compose["services"] if name.startswith("worker-")}
    assert targets == {f"{name}:{OPS_PORT}" for name in workers}
    assert all(
        int(compose["services"][w]["environment"]["VROEGSIGNAAL_OPS_PORT"]) == OPS_PORT for w in workers
    )
    assert job["metrics_path"] == "/metrics"
    assert config["rule_files"] == ["alerts.yml"]


# Cases for `promtool test rules`: when each alert fires, and the look-alikes where it must not.
# Labels only: the test strips annotations from a copy of the rules, so wording can change freely.
W1, W2 = "worker-1:6066", "worker-2:6066"
RULE_CASES: dict[str, dict[str, Any]] = {
    "one_worker_down": {
        "interval": "1m",
        "input_series": [
            {"series": f'up{{job="vroegsignaal",instance="{W1}"}}', "values": "1 0x10"},
            {"series": f'up{{job="vroegsignaal",instance="{W2}"}}', "values": "1x11"},
        ],
        "alert_rule_test": [
            {"eval_time": "2m", "alertname": "VroegsignaalWorkerDown", "exp_alerts": []},
            {
                "eval_time": "5m",
                "alertname": "VroegsignaalWorkerDown",
                "exp_alerts": [
                    {"exp_labels": {"severity": "warning", "job": "vroegsignaal", "instance": W1}}
                ],
            },
            {"eval_time": "5m", "alertname": "VroegsignaalNoWorkers", "exp_alerts": []},
        ],
    },
    "all_workers_down": {
        "interval": "1m",
        "input_series": [
            {"series": f'up{{job="vroegsignaal",instance="{W1}"}}', "values": "0x10"},
            {"series": f'up{{job="vroegsignaal",instance="{W2}"}}', "values": "0x10"},
        ],
        "alert_rule_test": [
            {
                "eval_time": "5m",
                "alertname": "VroegsignaalNoWorkers",
                "exp_alerts": [{"exp_labels": {"severity": "critical"}}],
            },
        ],
    },
    "lag_growing_on_one_topic_only": {
        "interval": "1m",
        "input_series": [
            {
                "series": f'vroegsignaal_consumer_lag_messages{{topic="vs.events",partition="{p}",instance="{W1}"}}',
                "values": "0+100x40",
            }
            for p in (0, 1)
        ]
        + [
            {
                "series": f'vroegsignaal_consumer_lag_messages{{topic="vs.housing",partition="0",instance="{W2}"}}',
                "values": "5000x40",
            }
        ],
        "alert_rule_test": [
            {"eval_time": "10m", "alertname": "VroegsignaalConsumerLagGrowing", "exp_alerts": []},
            {
                "eval_time": "30m",
                "alertname": "VroegsignaalConsumerLagGrowing",
                "exp_alerts": [{"exp_labels": {"severity": "warning", "topic": "vs.events"}}],
            },
        ],
    },
    "dead_letters_above_5_percent_with_enough_volume": {
        "interval": "1m",
        "input_series": [
            {"series": 'vroegsignaal_events_consumed_total{source="housing"}', "values": "0+10x20"},
            {
                "series": 'vroegsignaal_events_dead_lettered_total{source="housing",reason="invalid"}',
                "values": "0+1x20",
            },
            {"series": 'vroegsignaal_events_consumed_total{source="energy"}', "values": "0+10x20"},
            {
                "series": 'vroegsignaal_events_dead_lettered_total{source="energy",reason="invalid"}',
                "values": "0x20",
            },
            # Every message bad, but only a handful: under the volume floor.
            {"series": 'vroegsignaal_events_consumed_total{source="water"}', "values": "0+1x20"},
            {
                "series": 'vroegsignaal_events_dead_lettered_total{source="water",reason="not_json"}',
                "values": "0+1x20",
            },
        ],
        "alert_rule_test": [
            {
                "eval_time": "20m",
                "alertname": "VroegsignaalDeadLetterRateHigh",
                "exp_alerts": [{"exp_labels": {"severity": "warning", "source": "housing"}}],
            },
        ],
    },
    "sources_silent_or_never_seen": {
        "interval": "10m",
        "input_series": [
            # housing delivers for 2 hours, then stops; energy keeps delivering.
            {
                "series": f'vroegsignaal_events_consumed_total{{source="housing",instance="{W1}"}}',
                "values": "0+1x12 12x200",
            },
            {
                "series": f'vroegsignaal_events_consumed_total{{source="energy",instance="{W2}"}}',
                "values": "0+1x212",
            },
        ],
        "alert_rule_test": [
            {"eval_time": "20h", "alertname": "VroegsignaalSourceSilent", "exp_alerts": []},
            {"eval_time": "20h", "alertname": "VroegsignaalSourceNeverSeen", "exp_alerts": []},
            {
                "eval_time": "32h",
                "alertname": "VroegsignaalSourceSilent",
                "exp_alerts": [{"exp_labels": {"severity": "warning", "source": "housing"}}],
            },
            {
                "eval_time": "32h",
                "alertname": "VroegsignaalSourceNeverSeen",
                "exp_alerts": [
                    {"exp_labels": {"severity": "warning", "source": source}}
                    for source in ("water", "health", "cjib")
                ],
            },
        ],
    },
    "stream_time_stalled_on_one_partition": {
        "interval": "1m",
        "input_series": [
            {
                "series": f'vroegsignaal_stream_time_seconds{{partition="0",instance="{W1}"}}',
                "values": "1000+60x40",
            },
            # worker-2 owned partition 0 before a rebalance and still exports its last value.
            {
                "series": f'vroegsignaal_stream_time_seconds{{partition="0",instance="{W2}"}}',
                "values": "900x40",
            },
            {
                "series": f'vroegsignaal_stream_time_seconds{{partition="1",instance="{W2}"}}',
                "values": "5000x40",
            },
        ],
        "alert_rule_test": [
            {
                "eval_time": "35m",
                "alertname": "VroegsignaalStreamTimeStalled",
                "exp_alerts": [{"exp_labels": {"severity": "critical", "partition": "1"}}],
            },
        ],
    },
    "sink_failing_on_one_worker": {
        "interval": "1m",
        "input_series": [
            {"series": f'vroegsignaal_sink_up{{instance="{W1}"}}', "values": "1 1 0x10"},
            {"series": f'vroegsignaal_sink_errors_total{{instance="{W1}"}}', "values": "0 0 1+1x10"},
            {"series": f'vroegsignaal_sink_up{{instance="{W2}"}}', "values": "1x12"},
            {"series": f'vroegsignaal_sink_errors_total{{instance="{W2}"}}', "values": "0x12"},
        ],
        "alert_rule_test": [
            {"eval_time": "4m", "alertname": "VroegsignaalSinkDown", "exp_alerts": []},
            {
                "eval_time": "9m",
                "alertname": "VroegsignaalSinkDown",
                "exp_alerts": [{"exp_labels": {"severity": "critical", "instance": W1}}],
            },
            {
                "eval_time": "9m",
                "alertname": "VroegsignaalSinkErrors",
                "exp_alerts": [{"exp_labels": {"severity": "warning", "instance": W1}}],
            },
        ],
    },
    "unrouted_signal": {
        "interval": "1m",
        "input_series": [
            {"series": f'vroegsignaal_signals_unrouted_total{{instance="{W1}"}}', "values": "0x10 1x20"},
        ],
        "alert_rule_test": [
            {"eval_time": "5m", "alertname": "VroegsignaalSignalsUnrouted", "exp_alerts": []},
            {
                "eval_time": "20m",
                "alertname": "VroegsignaalSignalsUnrouted",
                "exp_alerts": [{"exp_labels": {"severity": "info"}}],
            },
        ],
    },
    # Readiness and timeouts (issue 16): the broker gone, many 503s, a slow route.
    "broker_unreachable": {
        "interval": "1m",
        "input_series": [
            {
                "series": f'vroegsignaal_dependency_up{{dependency="broker",instance="{W1}"}}',
                "values": "1 0x10",
            },
            {
                "series": f'vroegsignaal_dependency_up{{dependency="database",instance="{W1}"}}',
                "values": "1x11",
            },
        ],
        "alert_rule_test": [
            {"eval_time": "2m", "alertname": "VroegsignaalBrokerUnreachable", "exp_alerts": []},
            {
                "eval_time": "5m",
                "alertname": "VroegsignaalBrokerUnreachable",
                "exp_alerts": [
                    {"exp_labels": {"severity": "critical", "dependency": "broker", "instance": W1}}
                ],
            },
        ],
    },
    "many_503s": {
        "interval": "1m",
        "input_series": [
            # W1: 5 refusals a minute from minute 5 on; W2: three during a restart, then none.
            {
                "series": f'vroegsignaal_http_unavailable_total{{dependency="database",instance="{W1}"}}',
                "values": "0x5 5+5x15",
            },
            {
                "series": f'vroegsignaal_http_unavailable_total{{dependency="broker",instance="{W2}"}}',
                "values": "0x5 3x15",
            },
        ],
        "alert_rule_test": [
            {"eval_time": "5m", "alertname": "VroegsignaalHttpUnavailable", "exp_alerts": []},
            {
                "eval_time": "15m",
                "alertname": "VroegsignaalHttpUnavailable",
                "exp_alerts": [
                    {"exp_labels": {"severity": "warning", "dependency": "database", "instance": W1}}
                ],
            },
        ],
    },
    "slow_route": {
        "interval": "1m",
        "input_series": [
            # The case page: 6 requests a minute, each between 2.5 and 5 s; /healthz: all under 5 ms.
            *(
                {
                    "series": f'vroegsignaal_http_request_duration_seconds_bucket{{route="/zaken/{{case_id}}",le="{le}"}}',
                    "values": values,
                }
                for le, values in (("1", "0x30"), ("2.5", "0x30"), ("5", "0+6x30"), ("+Inf", "0+6x30"))
            ),
            {
                "series": 'vroegsignaal_http_request_duration_seconds_count{route="/zaken/{case_id}"}',
                "values": "0+6x30",
            },
            *(
                {
                    "series": f'vroegsignaal_http_request_duration_seconds_bucket{{route="/healthz",le="{le}"}}',
                    "values": "0+60x30",
                }
                for le in ("0.005", "+Inf")
            ),
            {
                "series": 'vroegsignaal_http_request_duration_seconds_count{route="/healthz"}',
                "values": "0+60x30",
            },
        ],
        "alert_rule_test": [
            {"eval_time": "5m", "alertname": "VroegsignaalHttpSlow", "exp_alerts": []},
            {
                "eval_time": "20m",
                "alertname": "VroegsignaalHttpSlow",
                "exp_alerts": [{"exp_labels": {"severity": "warning", "route": "/zaken/{case_id}"}}],
            },
        ],
    },
}


@needs_promtool
@pytest.mark.parametrize("case", sorted(RULE_CASES))
def test_alert_rule_fires_only_when_expected(case: str, yaml: ModuleType, tmp_path: Path) -> None:
    rules = _load(yaml, PROMETHEUS / "alerts.yml")
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    spec = {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": [RULE_CASES[case]]}
    (tmp_path / "test.yml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    result = _promtool("test", "rules", tmp_path / "test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def _dashboard_builder() -> ModuleType:
    path = INFRA / "grafana" / "build_dashboards.py"
    spec = importlib.util.spec_from_file_location("build_dashboards_for_promtool", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


@needs_promtool
def test_every_dashboard_expression_is_valid_promql(yaml: ModuleType, tmp_path: Path) -> None:
    # promtool parses recording rules' expressions: the cheapest full PromQL parser at hand.
    expressions = list(_dashboard_builder().prometheus_expressions("1h"))
    rules = [{"record": f"dashboard:panel_{i}", "expr": expr} for i, (_, _, expr) in enumerate(expressions)]
    path = tmp_path / "dashboards.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}), encoding="utf-8")
    result = _promtool("check", "rules", path)
    assert result.returncode == 0, result.stdout + result.stderr


# --- compose ------------------------------------------------------------------------------


def test_compose_runs_three_kraft_brokers_postgres_two_workers_and_monitoring(yaml: ModuleType) -> None:
    services = _load(yaml, INFRA / "compose.yaml")["services"]
    assert set(services) == {
        *(f"kafka-{i}" for i in (1, 2, 3)),
        "postgres",
        "worker-1",
        "worker-2",
        "prometheus",
        "grafana",
    }
    voters = {services[f"kafka-{i}"]["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"] for i in (1, 2, 3)}
    assert voters == {"1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"}
    for i in (1, 2, 3):
        env = services[f"kafka-{i}"]["environment"]
        assert services[f"kafka-{i}"]["image"].startswith("apache/kafka:")
        assert env["KAFKA_NODE_ID"] == i
        assert "controller" in env["KAFKA_PROCESS_ROLES"]


@pytest.mark.parametrize("worker", ["worker-1", "worker-2"])
def test_compose_worker_environment_builds_valid_settings(
    worker: str, yaml: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = _load(yaml, INFRA / "compose.yaml")["services"][worker]
    settings = _settings_from_env(monkeypatch, service["environment"])
    assert settings.broker_url == "kafka://kafka-1:9092;kafka://kafka-2:9092;kafka://kafka-3:9092"
    assert settings.store == "rocksdb://"
    assert settings.replication_factor == 3
    assert settings.web_bind == "0.0.0.0"
    assert settings.session_key is not None
    assert settings.database_url is not None
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.shutdown_grace_s < int(service["stop_grace_period"].removesuffix("s"))
    # The secrets come from infra/.env, never a literal in the committed file.
    assert "${" in str(service["environment"]["VROEGSIGNAAL_SESSION_KEY"])
    # Not demo mode: the municipality's teams and map, mounted read-only from infra/.env's directory.
    assert not settings.demo
    assert settings.session_key is not None
    assert settings.public_origin is not None
    assert (settings.ops_port, settings.web_port) == (OPS_PORT, PORT)
    assert settings.teams_file is not None
    assert settings.routing_map is not None
    mounted = {_interpolated(v).split(":")[1]: v for v in service["volumes"]}
    assert str(settings.teams_file.parent) in mounted
    assert mounted[str(settings.routing_map.parent)].startswith("${VROEGSIGNAAL_ROUTING_DIR")
    assert mounted[str(settings.teams_file.parent)].endswith(":ro")


def test_compose_monitoring_mounts_the_files_in_infra(yaml: ModuleType) -> None:
    services = _load(yaml, INFRA / "compose.yaml")["services"]
    mounts = {
        volume.split(":")[1]: INFRA / volume.split(":")[0]
        for name in ("prometheus", "grafana")
        for volume in services[name]["volumes"]
        if volume.startswith("./")
    }
    assert (mounts["/etc/prometheus"] / "prometheus.yml").is_file()
    assert (mounts["/etc/prometheus"] / "alerts.yml").is_file()
    assert (mounts["/etc/grafana/provisioning"] / "datasources" / "prometheus.yml").is_file()
    provider = _load(yaml, mounts["/etc/grafana/provisioning"] / "dashboards" / "dashboards.yml")
    dashboards_path = provider["providers"][0]["options"]["path"]
    assert dashboards_path == "/var/lib/grafana/dashboards"
    assert (mounts[dashboards_path] / "operations.json").is_file()
    datasource = _load(yaml, mounts["/etc/grafana/provisioning"] / "datasources" / "prometheus.yml")
    assert datasource["datasources"][0]["uid"] == "prometheus"


def _compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30, check=False)
    return [docker, "compose"] if probe.returncode == 0 else None


def test_docker_compose_accepts_the_file() -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no `docker compose` client here (the compose plugin is missing); it needs no engine")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "POSTGRES_PASSWORD": "test",
        "VROEGSIGNAAL_PSEUDONYM_KEY": "test",
        "VROEGSIGNAAL_READ_TOKEN": "test",
        "VROEGSIGNAAL_SESSION_KEY": "test",
        "VROEGSIGNAAL_PUBLIC_ORIGIN": "https://vroegsignaal.example.org",
        "VROEGSIGNAAL_ROUTING_DIR": "/etc/vroegsignaal-routing",
        "GRAFANA_ADMIN_PASSWORD": "test",
    }
    result = subprocess.run(
        [*cli, "-f", str(INFRA / "compose.yaml"), "config", "-q"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# --- Kubernetes: tests/integration/test_kustomize.py renders and checks the overlays -------


# --- image --------------------------------------------------------------------------------


def test_dockerfile_builds_every_package_and_runs_the_worker_as_non_root() -> None:
    dockerfile = (INFRA / "Dockerfile").read_text(encoding="utf-8")
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    for package in (p.rstrip("*") for p in packages):
        assert f"COPY {package}/ {package}/" in dockerfile, f"the image misses package {package}"
    assert "FROM python:3.11-slim" in dockerfile
    assert 'pip install ".[rocksdb]"' in dockerfile
    assert re.search(r"^USER (?!root|0\b)\S+", dockerfile, re.MULTILINE)
    assert f"EXPOSE {PORT}" in dockerfile
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", dockerfile, re.MULTILINE)
    assert 'CMD ["vroegsignaal", "worker"]' in dockerfile
