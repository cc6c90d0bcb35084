"""infra/kubernetes: the Kustomize overlays render, validate, and deploy what the worker needs.

Every check reads what `kubectl kustomize infra/kubernetes/overlays/<overlay>` renders, i.e.
what `kubectl apply -k` would send to the cluster (tests/integration/kustomize.py).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from streams.bootstrap import load_routing_table
from streams.cli.main import build
from streams.team.wiring import team_directory
from streams.worker.settings import Settings, load_settings
from tests.integration.kustomize import KUBERNETES, OVERLAYS, ROOT, one, render
from tests.integration.team_client import DEMO_TOKENS

pytestmark = pytest.mark.integration

INFRA = ROOT / "infra"
WEB_PORT = Settings.model_fields["web_port"].default
OPS_PORT = 6067  # /metrics and /households on a listener of their own
# Kubernetes 1.30 (CronJob timeZone is GA since 1.27; the oldest minor the pinned
# kubernetes-validate bundles that is still maintained) and the newest it knows.
OLDEST_K8S = "1.30"
# The Prometheus Operator's CRDs: kubernetes-validate has no schema for them (checked below by hand).
CRD_GROUPS = {"monitoring.coreos.com"}
PROMTOOL = shutil.which("promtool")
# What the worker refuses to start without outside demo mode (streams/bootstrap.py, streams/team/wiring.py).
REQUIRED_OUTSIDE_DEMO = (
    "session_key",
    "public_origin",
    "routing_map",
    "teams_file",
    "read_token",
    "database_url",
)


@pytest.fixture(scope="module")
def yaml() -> ModuleType:
    return pytest.importorskip("yaml", reason="PyYAML is not installed: it belongs in the test extra")


def _pod(deployment: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return pod


def _env(objects: list[dict[str, Any]], container: dict[str, Any], secrets: dict[str, str]) -> dict[str, str]:
    """The container's environment as the kubelet builds it: envFrom ConfigMaps, then env (which wins)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        assert set(source) == {"configMapRef"}, "secrets are read key by key (secretKeyRef), never envFrom"
        env.update(one(objects, "ConfigMap", source["configMapRef"]["name"])["data"])
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            assert ref["name"] == "vroegsignaal-secrets", var["name"]
            assert not ref.get("optional"), f"{var['name']}: a missing secret must stop the pod"
            env[var["name"]] = secrets[ref["key"]]
    return env


def _settings(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    """The Settings a process builds from exactly this environment."""
    for name in [n for n in os.environ if n.startswith("VROEGSIGNAAL_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        # The environment source ignores unknown names: a typo would pass silently.
        assert name.removeprefix("VROEGSIGNAAL_").lower().split("__")[0] in Settings.model_fields, name
        monkeypatch.setenv(name, value)
    return load_settings()


def _example_secret(yaml: ModuleType) -> dict[str, str]:
    path = KUBERNETES / "examples" / "secret.example.yaml"
    data: dict[str, str] = yaml.safe_load(path.read_text(encoding="utf-8"))["stringData"]
    return data


# --- every overlay ---------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_and_kubernetes_validate_accepts_every_built_in_object(overlay: str) -> None:
    kubernetes_validate = pytest.importorskip(
        "kubernetes_validate", reason="kubernetes-validate is not installed: it belongs in the test extra"
    )
    objects = render(overlay)
    crds = []
    for obj in objects:
        assert "namespace" not in obj["metadata"], obj["metadata"]["name"]  # the operator chooses it
        if obj["apiVersion"].split("/")[0] in CRD_GROUPS:
            crds.append(obj)
            continue
        for version in (OLDEST_K8S, kubernetes_validate.latest_version()):
            kubernetes_validate.validate(obj, version, strict=True)  # raises on any unknown or wrong field
    # No schema for these: the fields the Prometheus Operator needs, by hand.
    assert sorted(o["kind"] for o in crds) == ["PodMonitor", "PrometheusRule"]
    monitor = one(objects, "PodMonitor", "vroegsignaal")["spec"]
    assert monitor["podMetricsEndpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "15s"}]
    assert one(objects, "PrometheusRule", "vroegsignaal")["spec"]["groups"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_overlay_sets_the_image_and_base_names_a_placeholder_only(overlay: str, yaml: ModuleType) -> None:
    images = {
        c["image"]
        for o in render(overlay)
        if o["kind"] in {"Deployment", "CronJob"}
        for c in (
            _pod(o) if o["kind"] == "Deployment" else o["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        )["containers"]
    }
    assert len(images) == 1  # worker, sink and retention job run one build
    (image,) = images
    assert image.rsplit(":", 1)[1]  # a tag the overlay chose
    if overlay == "production":
        assert image.startswith("registry.example.org/vroegsignaal:")
    for path in (KUBERNETES / "base").glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            text = json.dumps(doc)
            assert '"image": "vroegsignaal"' in text or '"image"' not in text, path.name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_routes_ingest_and_team_paths_and_never_metrics_or_the_ops_port(overlay: str) -> None:
    objects = render(overlay)
    ingresses = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Ingress"}
    paths: dict[str, set[str]] = {}
    for name, ingress in ingresses.items():
        assert ingress["spec"]["tls"], name
        for rule in ingress["spec"]["rules"]:
            assert rule["host"] in ingress["spec"]["tls"][0]["hosts"]
            for path in rule["http"]["paths"]:
                paths.setdefault(name, set()).add(path["path"])
                assert path["pathType"] == "Prefix"
                backend = path["backend"]["service"]
                service = one(objects, "Service", backend["name"])
                # The backend Service has the web port alone: the ops port is not reachable through it.
                assert [p["name"] for p in service["spec"]["ports"]] == ["web"]
                assert service["spec"]["ports"][0]["port"] == WEB_PORT
                assert backend["port"] == {"name": "web"}
    # Creditors and teams apart, so each can get its own controller annotations.
    assert paths == {
        "vroegsignaal-ingest": {"/v1/ingest", "/openapi.json", "/ingest"},  # /ingest: 308 for one release
        "vroegsignaal-team": {"/team", "/zaken", "/v1/teams", "/v1/cases", "/v1/households", "/api"},
    }
    every_path = set().union(*paths.values())
    # No rule matches an operator's path (Prefix matches whole path elements; "/" would match all).
    for operator_only in ("/metrics", "/households/1234AB-1", "/healthz", "/readyz"):
        assert not any(
            operator_only.startswith(p.rstrip("/") + "/") or operator_only == p for p in every_path
        )
    # The ops port's Service exists for port-forward and is no Ingress backend.
    ops = one(objects, "Service", "vroegsignaal-ops")["spec"]["ports"]
    assert ops == [{"name": "metrics", "port": OPS_PORT, "targetPort": "metrics", "protocol": "TCP"}]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workers_probe_health_and_readiness_on_the_ops_port_and_run_non_root(overlay: str) -> None:
    objects = render(overlay)
    pod = _pod(one(objects, "Deployment", "vroegsignaal-worker"))
    container = pod["containers"][0]
    assert container["command"] == ["vroegsignaal", "worker"]
    assert container["ports"] == [
        {"name": "web", "containerPort": WEB_PORT, "protocol": "TCP"},
        {"name": "metrics", "containerPort": OPS_PORT, "protocol": "TCP"},
    ]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert set(container["resources"]) == {"requests", "limits"}
    defaults = Settings.model_fields
    # A stopped worker commits its offsets and flushes its tables before the kubelet kills it.
    assert pod["terminationGracePeriodSeconds"] > (
        defaults["shutdown_grace_s"].default + defaults["commit_interval_s"].default
    )
    data_dir = one(objects, "ConfigMap", "vroegsignaal-config")["data"]["VROEGSIGNAAL_DATA_DIR"]
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    for deployment in deployments:
        pod = _pod(deployment)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        for container in pod["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            empty_dirs = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
            assert data_dir in {m["mountPath"] for m in container["volumeMounts"] if m["name"] in empty_dirs}
    # A drain takes one pod of each Deployment at a time; every Deployment has its budget.
    budgets = [o for o in objects if o["kind"] == "PodDisruptionBudget"]
    for deployment in deployments:
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert [b["spec"]["maxUnavailable"] for b in covering] == [1], deployment["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_prometheus_reaches_the_ops_port_and_the_pod_monitor_scrapes_every_pod(overlay: str) -> None:
    objects = render(overlay)
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    monitor = one(objects, "PodMonitor", "vroegsignaal")["spec"]
    selected = {e["key"]: set(e["values"]) for e in monitor["selector"]["matchExpressions"]}
    for deployment in (o for o in objects if o["kind"] == "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        mine = [
            p["spec"] for p in policies if p["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
        ]
        assert len(mine) == 1, deployment["metadata"]["name"]
        ops_rules = [r for r in mine[0]["ingress"] if {"port": "metrics", "protocol": "TCP"} in r["ports"]]
        assert ops_rules
        assert all(rule.get("from") for rule in ops_rules)  # the ops port is never open to everyone
        ports = {p["name"] for c in _pod(deployment)["containers"] for p in c["ports"]}
        assert "metrics" in ports
        assert all(labels[key] in values for key, values in selected.items())
        # The alert rules select job="vroegsignaal": the job is the pod's name label.
        assert labels[monitor["jobLabel"]] == "vroegsignaal"


# --- production --------------------------------------------------------------------------------


def test_production_sets_every_setting_the_worker_needs_outside_demo_mode(
    yaml: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = render("production")
    worker = one(objects, "Deployment", "vroegsignaal-worker")
    assert worker["spec"]["replicas"] == 2
    env = _env(objects, _pod(worker)["containers"][0], _example_secret(yaml))
    settings = _settings(monkeypatch, env)
    assert not settings.demo
    for name in REQUIRED_OUTSIDE_DEMO:
        assert getattr(settings, name) is not None, name
    assert settings.store == "rocksdb://"
    assert not settings.sink_in_worker  # the sink Deployment writes the read model
    assert (settings.web_bind, settings.web_port) == ("0.0.0.0", WEB_PORT)
    assert (settings.ops_bind, settings.ops_port) == ("0.0.0.0", OPS_PORT)
    # The secrets come from the Secret the operator creates, never from a committed ConfigMap.
    config = one(objects, "ConfigMap", "vroegsignaal-config")["data"]
    assert not {"VROEGSIGNAAL_SESSION_KEY", "VROEGSIGNAAL_READ_TOKEN", "VROEGSIGNAAL_DATABASE_URL"} & set(
        config
    )
    assert not [o for o in objects if o["kind"] == "Secret"]
    assert all("VROEGSIGNAAL_DEMO" not in json.dumps(o) for o in objects)


def test_production_mounts_the_teams_secret_and_the_routing_map_the_settings_name(
    yaml: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    objects = render("production")
    pod = _pod(one(objects, "Deployment", "vroegsignaal-worker"))
    settings = _settings(monkeypatch, _env(objects, pod["containers"][0], _example_secret(yaml)))
    assert settings.teams_file is not None
    assert settings.routing_map is not None
    assert settings.teams_file.parent == settings.routing_map.parent
    mounts = {m["mountPath"]: m for m in pod["containers"][0]["volumeMounts"]}
    mount = mounts[str(settings.teams_file.parent)]
    assert mount["readOnly"] is True
    sources = next(v for v in pod["volumes"] if v["name"] == mount["name"])["projected"]["sources"]
    by_file = {item["path"]: source for source in sources for item in next(iter(source.values()))["items"]}
    # The teams (members' token hashes) from a Secret, the CBS map from the generated ConfigMap.
    assert by_file[settings.teams_file.name]["secret"]["name"] == "vroegsignaal-teams"
    routing = one(objects, "ConfigMap", "vroegsignaal-routing")
    assert by_file[settings.routing_map.name]["configMap"]["name"] == routing["metadata"]["name"]
    teams_example = yaml.safe_load((KUBERNETES / "examples" / "teams-secret.example.yaml").read_text("utf-8"))
    assert teams_example["metadata"]["name"] == "vroegsignaal-teams"
    (tmp_path / settings.teams_file.name).write_text(teams_example["stringData"]["teams.toml"], "utf-8")
    (tmp_path / settings.routing_map.name).write_text(routing["data"][settings.routing_map.name], "utf-8")
    local = settings.model_copy(
        update={
            "teams_file": tmp_path / settings.teams_file.name,
            "routing_map": tmp_path / settings.routing_map.name,
        }
    )
    assert load_routing_table(local).teams  # the placeholders are a valid teams file and map
    # ... with no member: the sample's demo tokens are public, so they must not sign in here.
    assert all(team_directory(local).authenticate(token) is None for token in DEMO_TOKENS)


def test_production_sink_runs_apart_with_the_database_and_its_metrics_on_its_port(
    yaml: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = render("production")
    pod = _pod(one(objects, "Deployment", "vroegsignaal-sink"))
    container = pod["containers"][0]
    assert container["command"] == ["vroegsignaal", "sink"]
    settings = _settings(monkeypatch, _env(objects, container, _example_secret(yaml)))
    assert settings.database_url is not None
    assert settings.database_url.startswith("postgresql+asyncpg://")
    # `vroegsignaal sink` serves its metrics on web_bind:web_port: that is the port named metrics.
    assert settings.web_bind == "0.0.0.0"
    assert container["ports"] == [{"name": "metrics", "containerPort": settings.web_port, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}
    # `vroegsignaal sink`, like every command, starts on the configured teams and map: the worker's mount.
    assert settings.teams_file is not None
    worker = _pod(one(objects, "Deployment", "vroegsignaal-worker"))
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volume = mounts[str(settings.teams_file.parent)]
    assert next(v for v in pod["volumes"] if v["name"] == volume) in worker["volumes"]
    # Its pods are behind no Service: no team page or ingest request can reach it.
    for service in (o for o in objects if o["kind"] == "Service"):
        assert service["spec"]["selector"]["app.kubernetes.io/component"] == "worker"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_command_starts_on_its_rendered_configuration(
    overlay: str, yaml: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Worker, sink and retention job build their app as `vroegsignaal <command>` would in the pod.

    The Secret values are plausible ones (a 64-character session key), the mounted teams file and
    map are the examples' content at a local path; no broker or database is needed to build.
    """
    objects = render(overlay)
    secrets = {name: "0" * 64 for name in _example_secret(yaml)}
    secrets["VROEGSIGNAAL_DATABASE_URL"] = _example_secret(yaml)["VROEGSIGNAAL_DATABASE_URL"]
    teams = yaml.safe_load((KUBERNETES / "examples" / "teams-secret.example.yaml").read_text("utf-8"))
    mounted = {
        "teams.toml": teams["stringData"]["teams.toml"],
        "buurten.csv": one(objects, "ConfigMap", "vroegsignaal-routing")["data"]["buurten.csv"],
    }
    pods = [_pod(o) for o in objects if o["kind"] == "Deployment"]
    pods += [o["spec"]["jobTemplate"]["spec"]["template"]["spec"] for o in objects if o["kind"] == "CronJob"]
    commands = []
    for pod in pods:
        container = pod["containers"][0]
        env = _env(objects, container, secrets)
        env["VROEGSIGNAAL_DATA_DIR"] = str(tmp_path)
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        for name in ("VROEGSIGNAAL_TEAMS_FILE", "VROEGSIGNAAL_ROUTING_MAP"):
            if name in env:
                path = Path(env[name])
                assert str(path.parent) in mounts, (container["name"], name)
                (tmp_path / path.name).write_text(mounted[path.name], encoding="utf-8")
                env[name] = str(tmp_path / path.name)
        program, command = container["command"]
        assert program == "vroegsignaal"
        build(_settings(monkeypatch, env), [command])  # raises SettingsError on a missing or bad setting
        commands.append(command)
    assert sorted(commands) == (["retention", "sink", "worker"] if overlay == "production" else ["worker"])


# --- demo --------------------------------------------------------------------------------------


def test_demo_runs_one_worker_in_demo_mode_without_secrets_or_a_separate_sink(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    objects = render("demo")
    worker = one(objects, "Deployment", "vroegsignaal-worker")
    assert worker["spec"]["replicas"] == 1
    assert [o["metadata"]["name"] for o in objects if o["kind"] in {"Deployment", "CronJob"}] == [
        "vroegsignaal-worker"
    ]
    container = _pod(worker)["containers"][0]
    assert "secretKeyRef" not in json.dumps(objects)  # nothing for the operator to create first
    settings = _settings(monkeypatch, _env(objects, container, {}))
    assert settings.demo
    assert settings.sink_in_worker
    assert settings.teams_file is None
    assert settings.routing_map is None
    assert settings.public_origin == "https://vroegsignaal-demo.example.org"
    # The built-in sample teams, whose demo logins are public: allowed in demo mode only.
    assert load_routing_table(settings).teams
    assert team_directory(settings).authenticate(DEMO_TOKENS["buurtteam-centrum"]) is not None
    assert "/etc/vroegsignaal" not in {m["mountPath"] for m in container["volumeMounts"]}


# --- monitoring --------------------------------------------------------------------------------


def _rule_builder() -> ModuleType:
    path = KUBERNETES / "build_prometheusrule.py"
    spec = importlib.util.spec_from_file_location("build_prometheusrule", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_prometheus_rule_holds_exactly_the_rules_of_alerts_yml(yaml: ModuleType, tmp_path: Path) -> None:
    alerts = yaml.safe_load((INFRA / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    checked_in = (KUBERNETES / "base" / "prometheusrule.yaml").read_text(encoding="utf-8")
    assert checked_in == _rule_builder().render(), "run python infra/kubernetes/build_prometheusrule.py"
    for overlay in OVERLAYS:
        rule = one(render(overlay), "PrometheusRule", "vroegsignaal")
        assert rule["apiVersion"] == "monitoring.coreos.com/v1"
        assert rule["spec"]["groups"] == alerts["groups"]
    if PROMTOOL is None:
        pytest.skip("promtool not found: install the Debian package `prometheus` (.ci/run does)")
    extracted = tmp_path / "prometheusrule-groups.yml"
    extracted.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}), encoding="utf-8")
    result = subprocess.run(
        [PROMTOOL, "check", "rules", str(extracted)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_dashboard_is_a_config_map_the_grafana_sidecar_loads(overlay: str) -> None:
    objects = render(overlay)
    loaded = {
        name: text
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
        for name, text in o["data"].items()
    }
    files = {p.name: p.read_text(encoding="utf-8") for p in (INFRA / "grafana" / "dashboards").glob("*.json")}
    assert files
    assert loaded == files  # the JSON as build_dashboards.py wrote it, every dashboard once
