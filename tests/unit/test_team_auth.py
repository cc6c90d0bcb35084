"""Team sign-in: signed sessions with key rotation, logout on every worker, the origin check, login limits."""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from pathlib import Path

import pytest
from pydantic import SecretStr

from connectors.routing_files import RoutingFileError
from connectors.team_access import TeamMember, default_team_directory, load_team_directory, sha256_hex
from streams.bootstrap import load_routing_table
from streams.team.auth import SESSION_COOKIE, SESSION_TTL_S, SessionKeys, TeamAuth, origin_allowed
from streams.team.login_limits import LoginLimiter
from streams.team.oidc import Membership, OidcConfig, load_group_map, memberships
from streams.team.oidc_pages import oidc_config
from streams.team.oidc_ticket import LoginTicket, open_ticket, seal_ticket
from streams.team.roles import can_reassign, can_see_dashboard
from streams.team.wiring import public_origin, session_keys, team_directory
from streams.worker.settings import SettingsError, load_settings

KEY_A = b"a" * 32
KEY_B = b"b" * 32
ORIGIN = "https://team.example.nl"


class DictSessions:
    """The session store as a dict: what every worker sees (the read model in production)."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, datetime]] = {}

    async def start(self, session_id: str, *, member_id: str, team_id: str, expires_at: datetime) -> None:
        self.rows[session_id] = (member_id, expires_at)

    async def active(self, session_id: str, *, member_id: str, now: datetime) -> bool:
        row = self.rows.get(session_id)
        return row is not None and row[0] == member_id and row[1] > now

    async def end(self, session_id: str) -> None:
        self.rows.pop(session_id, None)


def auth(clock: list[float], keys: SessionKeys, sessions: DictSessions) -> TeamAuth:
    return TeamAuth(default_team_directory(), keys, sessions, public_origin=ORIGIN, clock=lambda: clock[0])


def oost() -> TeamMember:
    member = default_team_directory().authenticate("demo-oost")
    assert member is not None
    return member


async def test_a_session_is_valid_until_it_expires() -> None:
    now, sessions = [1_000_000.0], DictSessions()
    value = await auth(now, SessionKeys(KEY_A), sessions).issue(oost())
    who = await auth(now, SessionKeys(KEY_A), sessions).authenticate({}, {SESSION_COOKIE: value})
    assert who is not None
    assert (who.member_id, who.team_id, who.via) == ("oost-01", "buurtteam-oost", "session")
    now[0] += SESSION_TTL_S + 1
    assert await auth(now, SessionKeys(KEY_A), sessions).authenticate({}, {SESSION_COOKIE: value}) is None


async def test_logging_out_ends_the_session_on_every_worker() -> None:
    now, shared = [1_000_000.0], DictSessions()
    worker_1, worker_2 = auth(now, SessionKeys(KEY_A), shared), auth(now, SessionKeys(KEY_A), shared)
    value = await worker_1.issue(oost())
    assert await worker_2.verify(value) is not None
    await worker_1.end(value)
    assert await worker_1.verify(value) is None
    assert await worker_2.verify(value) is None  # the same signed cookie, replayed elsewhere


async def test_a_valid_signature_without_a_stored_session_is_refused() -> None:
    now = [1_000_000.0]
    value = await auth(now, SessionKeys(KEY_A), DictSessions()).issue(oost())
    assert await auth(now, SessionKeys(KEY_A), DictSessions()).verify(value) is None


async def test_rotation_signs_with_the_new_key_and_accepts_the_previous_until_it_is_dropped() -> None:
    now, sessions = [1_000_000.0], DictSessions()
    old_cookie = await auth(now, SessionKeys(KEY_A), sessions).issue(oost())
    rotating = auth(now, SessionKeys(KEY_B, previous=KEY_A), sessions)
    assert await rotating.verify(old_cookie) is not None
    new_cookie = await rotating.issue(oost())
    assert await auth(now, SessionKeys(KEY_B), sessions).verify(new_cookie) is not None
    assert await auth(now, SessionKeys(KEY_A), sessions).verify(new_cookie) is None  # signed with the new key
    assert await auth(now, SessionKeys(KEY_B), sessions).verify(old_cookie) is None  # previous key dropped


async def test_a_tampered_or_foreign_session_is_refused() -> None:
    now, sessions = [1_000_000.0], DictSessions()
    value = await auth(now, SessionKeys(KEY_A), sessions).issue(oost())
    body, signature = value.split(".")
    forged = body.replace(body[5], "A" if body[5] != "A" else "B") + "." + signature
    assert await auth(now, SessionKeys(KEY_A), sessions).verify(forged) is None
    assert await auth(now, SessionKeys(KEY_B), sessions).verify(value) is None
    assert await auth(now, SessionKeys(KEY_A), sessions).verify("not-a-session") is None


async def test_a_bearer_token_wins_and_a_wrong_one_is_not_a_member() -> None:
    a = auth([0.0], SessionKeys(KEY_A), DictSessions())
    who = await a.authenticate({"Authorization": "Bearer demo-centrum"}, {})
    assert who is not None
    assert who.via == "bearer"
    assert await a.authenticate({"Authorization": "Bearer nope"}, {}) is None
    assert await a.authenticate({"Authorization": "Basic demo-centrum"}, {}) is None


def test_a_short_session_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        SessionKeys(b"short")


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"Origin": ORIGIN}, True),
        ({"Origin": "https://TEAM.example.nl:443"}, True),
        ({"Referer": f"{ORIGIN}/zaken/c-1?melding=status"}, True),
        ({"Origin": "https://evil.example"}, False),
        ({"Origin": "http://team.example.nl"}, False),  # another scheme is another site
        ({"Origin": "https://team.example.nl.evil.example"}, False),
        ({"Origin": "null", "Referer": f"{ORIGIN}/zaken/c-1"}, False),  # Origin wins when sent
        ({"Host": "team.example.nl"}, False),  # neither Origin nor Referer
        (
            {"Host": "evil.example", "Origin": "https://evil.example"},
            False,
        ),  # the Host is the sender's choice
        ({}, False),
    ],
)
def test_a_cookie_post_must_come_from_the_public_origin(headers: dict[str, str], allowed: bool) -> None:
    assert origin_allowed(headers, ORIGIN) is allowed


def test_failed_logins_count_and_the_window_slides() -> None:
    now = [0.0]
    limiter = LoginLimiter(max_attempts=3, window_s=60, clock=lambda: now[0])
    for second in (0, 10, 20):
        now[0] = second
        assert limiter.retry_after_s("address:10.0.0.1") is None
        limiter.record("address:10.0.0.1")
    assert limiter.retry_after_s("address:10.0.0.1") == 40  # until the attempt at 0 s leaves the window
    assert limiter.retry_after_s("address:10.0.0.2") is None  # another address is not held up
    now[0] = 60.0
    assert limiter.retry_after_s("address:10.0.0.1") is None
    limiter.record("address:10.0.0.1")
    assert limiter.retry_after_s("address:10.0.0.1") == 10  # attempts at 10, 20 and 60 s


def test_a_member_is_limited_across_addresses() -> None:
    now = [0.0]
    limiter = LoginLimiter(max_attempts=2, window_s=300, clock=lambda: now[0])
    limiter.record("address:10.0.0.1", "member:oost-01")
    limiter.record("address:10.0.0.2", "member:oost-01")
    assert limiter.retry_after_s("address:10.0.0.3") is None
    assert limiter.retry_after_s("address:10.0.0.3", "member:oost-01") == 300


def test_outside_demo_the_sample_teams_routing_and_generated_secrets_are_refused() -> None:
    settings = load_settings()
    with pytest.raises(SettingsError, match="'routing_map' and 'teams_file'"):
        load_routing_table(settings)
    for build, name in (
        (team_directory, "teams_file"),
        (session_keys, "session_key"),
        (public_origin, "public_origin"),
    ):
        with pytest.raises(SettingsError, match=name):
            build(settings)


def test_outside_demo_a_teams_file_with_the_public_demo_tokens_is_refused(tmp_path: Path) -> None:
    # A copy of the shipped sample (or one member kept from it) signs in with a token the README shows.
    sample = Path(str(resources.files("connectors") / "data" / "teams-sample.toml")).read_text("utf-8")
    copied = tmp_path / "teams.toml"
    copied.write_text(sample, "utf-8")
    with pytest.raises(SettingsError, match=r"public demo tokens .*centrum-01.*VROEGSIGNAAL_DEMO=true"):
        team_directory(load_settings(teams_file=copied))
    in_demo = team_directory(load_settings(teams_file=copied, demo=True))
    assert in_demo.authenticate("demo-centrum") is not None
    own = tmp_path / "own.toml"
    own.write_text(sample.replace(sha256_hex("demo-oost"), sha256_hex("a-random-token-of-oost")), "utf-8")
    with pytest.raises(SettingsError) as refused:
        team_directory(load_settings(teams_file=own))
    # Only the members that kept a public token are named.
    assert "(centrum-01, centrum-02, zuidoost-01, centraal-01)" in str(refused.value)


def test_demo_mode_runs_on_the_sample_with_a_loopback_origin() -> None:
    settings = load_settings(demo=True, web_port=7001)
    assert load_routing_table(settings).teams
    assert team_directory(settings).authenticate("demo-centrum") is not None
    assert len(session_keys(settings).current) == 32
    assert public_origin(settings) == "http://127.0.0.1:7001"


def test_configured_session_keys_must_be_long_and_rotate_in_order() -> None:
    with pytest.raises(SettingsError, match="session_key"):
        session_keys(load_settings(session_key=SecretStr("too-short")))
    keys = session_keys(
        load_settings(session_key=SecretStr("n" * 64), session_key_previous=SecretStr("p" * 64))
    )
    assert (keys.current, keys.previous) == (b"n" * 64, b"p" * 64)


def signed_in_auth(clock: list[float], sessions: DictSessions, *, oidc_enabled: bool = True) -> TeamAuth:
    return TeamAuth(
        default_team_directory(),
        SessionKeys(KEY_A),
        sessions,
        public_origin=ORIGIN,
        clock=lambda: clock[0],
        oidc_enabled=oidc_enabled,
    )


async def test_a_member_signed_in_at_the_provider_keeps_name_team_and_role_until_expiry() -> None:
    now, sessions = [1_000_000.0], DictSessions()
    value = await signed_in_auth(now, sessions).issue_signed_in(
        member_id="x123", name="C. Coördinator", team_id="buurtteam-centrum", role="coordinator"
    )
    who = await signed_in_auth(now, sessions).verify(value)
    assert who is not None
    assert (who.member_id, who.name, who.team_id, who.role, who.provider) == (
        "x123",
        "C. Coördinator",
        "buurtteam-centrum",
        "coordinator",
        "oidc",
    )
    now[0] += SESSION_TTL_S + 1
    assert await signed_in_auth(now, sessions).verify(value) is None


async def test_a_provider_session_ends_when_oidc_is_switched_off_or_its_team_is_gone() -> None:
    now, sessions = [1_000_000.0], DictSessions()
    on = signed_in_auth(now, sessions)
    value = await on.issue_signed_in(member_id="x1", name="X", team_id="buurtteam-oost", role="medewerker")
    assert await signed_in_auth(now, sessions, oidc_enabled=False).verify(value) is None
    gone = await on.issue_signed_in(member_id="x1", name="X", team_id="opgeheven-team", role="medewerker")
    assert await on.verify(gone) is None


async def test_a_token_member_is_a_medewerker() -> None:
    now, sessions = [1_000_000.0], DictSessions()
    who = await auth(now, SessionKeys(KEY_A), sessions).verify(
        await auth(now, SessionKeys(KEY_A), sessions).issue(oost())
    )
    assert who is not None
    assert (who.role, who.provider) == ("medewerker", "token")
    assert not can_reassign(who)
    assert not can_see_dashboard(who)


def test_group_file_maps_groups_to_teams_with_the_strongest_role(tmp_path: Path) -> None:
    groups = tmp_path / "groups.toml"
    groups.write_text(
        '[[groups]]\ngroup = "GG-VS-Centrum"\nteam = "buurtteam-centrum"\nrole = "medewerker"\n'
        '[[groups]]\ngroup = "GG-VS-Coord"\nteam = "buurtteam-centrum"\nrole = "coordinator"\n'
        '[[groups]]\ngroup = "GG-VS-Coord"\nteam = "buurtteam-oost"\nrole = "coordinator"\n'
    )
    config = OidcConfig(
        issuer="https://idp.example.nl",
        client_id="c",
        client_secret="s",
        redirect_uri="r",
        post_logout_redirect_uri="p",
        group_map=load_group_map(groups),
    )
    known = {"buurtteam-centrum", "buurtteam-oost"}
    assert memberships({"groups": ["GG-VS-Centrum", "GG-VS-Coord", "other"]}, config, known) == (
        Membership("buurtteam-centrum", "coordinator"),
        Membership("buurtteam-oost", "coordinator"),
    )
    assert memberships({"groups": ["buurtteam-centrum"]}, config, known) == ()  # only what the file grants
    groups.write_text('[[groups]]\ngroup = "g"\nteam = "t"\nrole = "beheerder"\n')
    with pytest.raises(ValueError, match="role must be one of"):
        load_group_map(groups)


def test_a_login_ticket_is_signed_and_short_lived() -> None:
    ticket = LoginTicket(state="s", nonce="n", verifier="v" * 64, team="", expires_at=1_000)
    value = seal_ticket(ticket, KEY_A)
    assert open_ticket(value, (KEY_B, KEY_A), now=999) == ticket
    assert open_ticket(value, (KEY_B,), now=999) is None  # another deployment's key
    assert open_ticket(value, (KEY_A,), now=1_001) is None  # expired
    body, signature = value.split(".")
    assert open_ticket(body[:-2] + "xx." + signature, (KEY_A,), now=999) is None


def test_oidc_settings_need_a_client_and_https_outside_loopback() -> None:
    assert oidc_config(load_settings(demo=True), ORIGIN) is None  # off without an issuer
    with pytest.raises(SettingsError, match="oidc_client_id"):
        oidc_config(load_settings(oidc_issuer="https://idp.example.nl"), ORIGIN)
    secret = SecretStr("geheim")
    with pytest.raises(SettingsError, match="https"):
        oidc_config(
            load_settings(
                oidc_issuer="http://idp.example.nl", oidc_client_id="vs", oidc_client_secret=secret
            ),
            ORIGIN,
        )
    config = oidc_config(
        load_settings(
            oidc_issuer="https://idp.example.nl/gm0363", oidc_client_id="vs", oidc_client_secret=secret
        ),
        ORIGIN,
    )
    assert config is not None
    assert config.redirect_uri == "https://team.example.nl/team/oidc/callback"
    assert config.client_secret == "geheim"
    assert "geheim" not in repr(load_settings(oidc_client_secret=SecretStr("geheim")))


async def test_a_token_member_may_be_a_coordinator_by_the_teams_file(tmp_path: Path) -> None:
    teams = tmp_path / "teams.toml"
    member = '{{ id = "c-1", name = "C. Een", token_sha256 = "{}"{} }}'
    text = '[[teams]]\nid = "centrum"\nname = "Buurtteam Centrum"\nmembers = [{}, {}]\n'
    teams.write_text(
        text.format(
            member.format(sha256_hex("coord-token"), ', role = "coordinator"'),
            member.replace("c-1", "m-1").format(sha256_hex("plain-token"), ""),
        )
    )
    directory = load_team_directory(teams)
    a = TeamAuth(directory, SessionKeys(KEY_A), DictSessions(), public_origin=ORIGIN)
    coordinator = await a.authenticate({"Authorization": "Bearer coord-token"}, {})
    medewerker = await a.authenticate({"Authorization": "Bearer plain-token"}, {})
    assert coordinator is not None
    assert medewerker is not None
    assert (coordinator.role, medewerker.role) == ("coordinator", "medewerker")
    assert can_see_dashboard(coordinator)
    assert not can_see_dashboard(medewerker)
    teams.write_text(teams.read_text().replace('"coordinator"', '"beheerder"'))
    with pytest.raises(RoutingFileError, match="role must be one of"):
        load_team_directory(teams)
