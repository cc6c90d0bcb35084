"""Render the Kustomize overlays in infra/kubernetes/overlays with `kubectl kustomize`.

kubectl is on the development machine and on CI's machine image; where it is missing the
tests skip, except under CI (`CI` set), where a missing kubectl fails them.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "infra" / "kubernetes"
OVERLAYS = ("production", "demo")


@functools.cache
def _rendered_text(overlay: str) -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl not found: CI's machine image must have it to render the overlays")
        pytest.skip("kubectl not found: it renders the Kustomize overlays (`kubectl kustomize`)")
    result = subprocess.run(
        [kubectl, "kustomize", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def render(overlay: str) -> list[dict[str, Any]]:
    """The objects `kubectl kustomize infra/kubernetes/overlays/<overlay>` renders, parsed afresh."""
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: it belongs in the test extra")
    return [doc for doc in yaml.safe_load_all(_rendered_text(overlay)) if doc]


def one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The rendered object of this kind named `name` (a generated ConfigMap: `name` plus its hash)."""
    found = [
        o
        for o in objects
        if o["kind"] == kind
        and (
            o["metadata"]["name"] == name
            or (kind == "ConfigMap" and o["metadata"]["name"].rsplit("-", 1)[0] == name)
        )
    ]
    assert len(found) == 1, f"{kind} {name}: {[o['metadata']['name'] for o in found]}"
    return found[0]
