"""README "Configuration" names every setting the worker reads: an undocumented setting is one nobody sets right."""

from __future__ import annotations

import re
from pathlib import Path

from streams.worker.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def _configuration_section() -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"^## Configuration\n(.*?)^## ", text, re.S | re.M)
    assert found is not None, "README has no '## Configuration' section"
    return found.group(1)


def test_every_setting_is_in_the_configuration_table() -> None:
    section = _configuration_section()
    missing = [
        name for name in Settings.model_fields if f"`{name}`" not in section and f"`{name}.*`" not in section
    ]
    assert missing == []
