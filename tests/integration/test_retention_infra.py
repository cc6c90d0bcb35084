"""infra/kubernetes/retention-cronjob.yaml: the daily retention job runs as the worker is configured."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.integration

KUBERNETES = Path(__file__).resolve().parents[2] / "infra" / "kubernetes"


@pytest.fixture(scope="module")
def yaml() -> ModuleType:
    return pytest.importorskip("yaml", reason="PyYAML is not installed: it belongs in the test extra")


def _pod(yaml: ModuleType, name: str, *path: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((KUBERNETES / name).read_text(encoding="utf-8"))
    for key in path:
        doc = doc[key]
    return doc


def test_the_retention_job_runs_daily_on_the_amsterdam_calendar_one_at_a_time(yaml: ModuleType) -> None:
    spec = _pod(yaml, "retention-cronjob.yaml", "spec")
    minute, hour, *every_day = spec["schedule"].split()
    assert minute.isdigit()  # once a day, at a fixed time
    assert hour.isdigit()
    assert every_day == ["*", "*", "*"]
    assert spec["timeZone"] == "Europe/Amsterdam"
    assert spec["concurrencyPolicy"] == "Forbid"
    container = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["vroegsignaal", "retention"]


def test_the_retention_job_has_the_workers_configuration_secrets_and_mounts(yaml: ModuleType) -> None:
    job = _pod(yaml, "retention-cronjob.yaml", "spec", "jobTemplate", "spec", "template", "spec")
    worker = _pod(yaml, "deployment.yaml", "spec", "template", "spec")
    job_container, worker_container = job["containers"][0], worker["containers"][0]
    assert job_container["image"] == worker_container["image"]
    assert job_container["envFrom"] == worker_container["envFrom"]
    mounts = {(m["name"], m["mountPath"]) for m in job_container["volumeMounts"]}
    assert mounts == {(m["name"], m["mountPath"]) for m in worker_container["volumeMounts"]}
    not_empty = [v for v in worker["volumes"] if "emptyDir" not in v]  # config maps and secrets
    assert all(v in job["volumes"] for v in not_empty)
    assert job["securityContext"] == worker["securityContext"]
    assert job_container["securityContext"] == worker_container["securityContext"]
