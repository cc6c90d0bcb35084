"""infra/kubernetes/base/retention-cronjob.yaml: the daily retention job runs as the worker is configured.

Read from the rendered production overlay (tests/integration/kustomize.py): what the cluster gets.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.kustomize import one, render

pytestmark = pytest.mark.integration


def _job(objects: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = one(objects, "CronJob", "vroegsignaal-retention")["spec"]
    return spec


def test_the_retention_job_runs_daily_on_the_amsterdam_calendar_one_at_a_time() -> None:
    spec = _job(render("production"))
    minute, hour, *every_day = spec["schedule"].split()
    assert minute.isdigit()  # once a day, at a fixed time
    assert hour.isdigit()
    assert every_day == ["*", "*", "*"]
    assert spec["timeZone"] == "Europe/Amsterdam"
    assert spec["concurrencyPolicy"] == "Forbid"
    container = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["vroegsignaal", "retention"]


def test_the_retention_job_has_the_workers_configuration_secrets_and_mounts() -> None:
    objects = render("production")
    job = _job(objects)["jobTemplate"]["spec"]["template"]["spec"]
    worker = one(objects, "Deployment", "vroegsignaal-worker")["spec"]["template"]["spec"]
    job_container, worker_container = job["containers"][0], worker["containers"][0]
    assert job_container["image"] == worker_container["image"]
    assert job_container["envFrom"] == worker_container["envFrom"]
    assert job_container["env"] == worker_container["env"]  # the same secrets, key by key
    mounts = {(m["name"], m["mountPath"]) for m in job_container["volumeMounts"]}
    assert mounts == {(m["name"], m["mountPath"]) for m in worker_container["volumeMounts"]}
    not_empty = [v for v in worker["volumes"] if "emptyDir" not in v]  # the teams and the map
    assert not_empty
    assert all(v in job["volumes"] for v in not_empty)
    assert job["securityContext"] == worker["securityContext"]
    assert job_container["securityContext"] == worker_container["securityContext"]
