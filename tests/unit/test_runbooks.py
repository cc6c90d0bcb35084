"""Every alert links its runbook: a section of docs/runbooks.md saying symptom, impact, checks and fix."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "infra" / "prometheus" / "alerts.yml"
RUNBOOKS = ROOT / "docs" / "runbooks.md"
PARTS = ("**Symptom.**", "**Impact.**", "**First checks.**", "**Fix.**")


def _alerts() -> list[dict[str, Any]]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: it belongs in the test extra")
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    rules = [rule for group in groups for rule in group["rules"] if "alert" in rule]
    assert rules, "no alerting rules found"
    return rules


def _slug(heading: str) -> str:
    """The anchor GitHub (and most Markdown renderers) give a heading."""
    text = unicodedata.normalize("NFKC", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _sections() -> dict[str, str]:
    """Anchor -> the section's text, for every `## ` heading."""
    sections: dict[str, str] = {}
    anchor = None
    for line in RUNBOOKS.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            anchor = _slug(line[3:])
            sections[anchor] = ""
        elif anchor is not None:
            sections[anchor] += line + "\n"
    return sections


def test_every_alert_has_a_runbook_url_whose_anchor_is_a_section_of_docs_runbooks() -> None:
    sections = _sections()
    for rule in _alerts():
        url = rule.get("annotations", {}).get("runbook_url")
        assert url, f"{rule['alert']} has no runbook_url"
        parts = urlsplit(url)
        assert parts.scheme == "https", url
        assert parts.path.endswith("/docs/runbooks.md"), url
        assert parts.fragment in sections, (
            f"{rule['alert']}: no section #{parts.fragment} in docs/runbooks.md"
        )
        assert parts.fragment == _slug(rule["alert"]), f"{rule['alert']} links another alert's runbook"


def test_every_alert_links_the_same_runbooks_document() -> None:
    bases = {rule["annotations"]["runbook_url"].split("#", 1)[0] for rule in _alerts()}
    assert len(bases) == 1, bases


def test_every_runbook_section_says_symptom_impact_first_checks_and_fix() -> None:
    sections = _sections()
    for rule in _alerts():
        text = sections.get(_slug(rule["alert"]), "")
        missing = [part for part in PARTS if part not in text]
        assert not missing, f"runbook of {rule['alert']} lacks {missing}"


def test_links_between_runbooks_point_at_existing_sections() -> None:
    sections = _sections()
    links = re.findall(r"\]\(#([^)]+)\)", RUNBOOKS.read_text(encoding="utf-8"))
    assert links
    assert [link for link in links if link not in sections] == []


def test_no_runbook_is_left_without_its_alert() -> None:
    alerts = {_slug(rule["alert"]) for rule in _alerts()}
    assert set(_sections()) == alerts
