"""Team members from the teams file, bearer tokens and signed session cookies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from connectors.routing_files import RoutingFileError, default_routing
from connectors.team_access import default_team_directory, load_team_directory, sha256_hex
from streams.worker.settings import SettingsError, load_settings

Writer = Callable[[str], Path]
TEAMS = """
fallback_team = "centrum"
[[teams]]
id = "centrum"
name = "Buurtteam Centrum"
wijken = ["WK036300"]
members = [
  {{ id = "m-1", name = "M. Een", token_sha256 = "{}" }},
  {{ name = "A. de Vries", email = "a.devries@example.org" }},
]
[[teams]]
id = "oost"
name = "Buurtteam Oost"
members = [{{ id = "m-2", token_sha256 = "{}" }}]
""".format(sha256_hex("token-one"), sha256_hex("token-two"))


@pytest.fixture
def write(tmp_path: Path) -> Writer:
    def _write(text: str) -> Path:
        path = tmp_path / "teams.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return _write


def test_members_with_a_token_hash_can_log_in_and_others_cannot(write: Writer) -> None:
    directory = load_team_directory(write(TEAMS))
    assert directory.authenticate("token-one").team_id == "centrum"  # type: ignore[union-attr]
    assert directory.authenticate("token-two").member_id == "m-2"  # type: ignore[union-attr]
    assert directory.authenticate("a.devries@example.org") is None
    assert directory.authenticate("") is None
    assert directory.team_names == {"centrum": "Buurtteam Centrum", "oost": "Buurtteam Oost"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('id = "m-2", ', ""), "needs an id"),
        (lambda t: t.replace(sha256_hex("token-two"), "abc"), "64 lowercase hex"),
        (lambda t: t.replace('id = "m-2"', 'id = "m-1"'), "member id 'm-1' is used twice"),
        (lambda t: t.replace(sha256_hex("token-two"), sha256_hex("token-one")), "token_sha256 .* used twice"),
        (lambda t: t.replace('name = "M. Een"', 'token = "plain"'), r"unknown keys \['token'\]"),
    ],
)
def test_a_bad_member_is_refused_naming_the_file(
    write: Writer, change: Callable[[str], str], message: str
) -> None:
    with pytest.raises(RoutingFileError, match=message) as caught:
        load_team_directory(write(change(TEAMS)))
    assert "teams.toml" in str(caught.value) or "used twice" in str(caught.value)


def test_the_sample_gives_every_team_a_demo_member_with_a_documented_token() -> None:
    directory = default_team_directory()
    tokens = {
        "demo-centrum": "buurtteam-centrum",
        "demo-coordinator": "buurtteam-centrum",
        "demo-oost": "buurtteam-oost",
        "demo-zuidoost": "buurtteam-zuidoost",
        "demo-centraal": "schuldhulp-centraal",
    }
    assert {t: directory.authenticate(t).team_id for t in tokens} == tokens  # type: ignore[union-attr]
    assert set(directory.team_names) == set(default_routing().teams)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert all(f"`{t}`" in readme for t in tokens)
    assert directory.authenticate("demo-coordinator").role == "coordinator"  # type: ignore[union-attr]
    assert directory.authenticate("demo-centrum").role == "medewerker"  # type: ignore[union-attr]


def test_retention_must_cover_the_consecutive_look_back() -> None:
    assert load_settings().retention_months == 12
    assert load_settings(retention_months=6).retention_months == 6
    with pytest.raises(SettingsError, match="retention_months"):
        load_settings(retention_months=5)
    with pytest.raises(SettingsError, match="look-back"):
        load_settings(retention_months=6, rules={"consecutive_lookback_days": 365})
