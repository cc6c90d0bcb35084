"""Headless Chromium (Debian `chromium` + `chromium-driver`) driven by selenium, for the team pages,
and axe-core (npm `axe-core`, installed globally by .ci/run) injected into a page to check WCAG 2.1 AA."""

from __future__ import annotations

import functools
import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=nl-NL",  # date fields as a Dutch user sees them (dd-mm-jjjj)
)


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A fresh headless browser with its own profile, quit and removed afterwards."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra")
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip(
            "Debian packages chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
        )
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="vs-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "nl-NL,nl"})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP refusals show up there
    # The Debian driver, given explicitly, so selenium never tries to download one.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        driver.set_page_load_timeout(30)
        driver.set_script_timeout(30)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk; fails when the file is not a PNG."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def full_page_screenshot(driver: Any, path: Path) -> Path:
    """Screenshot of the whole page height at the current width."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.execute_script("return window.innerWidth")
    driver.set_window_size(max(width, 360), min(max(height + 140, 600), 6000))
    driver.save_screenshot(str(path))
    return path


# The WCAG 2.1 A and AA rules of axe-core (its tags); best practices are not part of the check.
WCAG21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")


@functools.cache
def axe_source() -> str:
    """axe.min.js of the globally installed npm `axe-core`; without it a skip, under CI a failure."""
    npm = shutil.which("npm")
    root = (
        subprocess.run([npm, "root", "-g"], capture_output=True, text=True, check=False).stdout.strip()
        if npm
        else ""
    )
    script = Path(root, "axe-core", "axe.min.js") if root else None
    if script is None or not script.exists():
        reason = "npm axe-core is not installed (npm install -g axe-core@4.11.1; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return script.read_text(encoding="utf-8")


def axe_violations(driver: Any, tags: tuple[str, ...] = WCAG21_AA) -> list[str]:
    """axe-core run on the page as it is now: one line per violation (rule, impact, first targets)."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(axe_source())  # through the driver: the page's CSP does not apply
    found = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
          .then(r => done(r.violations.map(v =>
              `${v.id} (${v.impact}): ${v.help} -> ` + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))))
          .catch(e => done(['axe failed: ' + e]));
        """,
        list(tags),
    )
    return [str(line) for line in found]


def csp_refusals(driver: Any) -> list[str]:
    """Console messages since the last call that say the Content-Security-Policy refused something."""
    return [
        str(entry.get("message"))
        for entry in driver.get_log("browser")
        if "Content Security Policy" in str(entry.get("message"))
    ]
