"""The team workflow wired into the app: members, sessions, case agents, HTML pages and JSON API."""

from __future__ import annotations

import secrets
from datetime import datetime

import faust

from connectors.readmodel.sessions import SqlSessionStore
from connectors.team_access import TeamDirectory, TeamMember, default_team_directory, load_team_directory
from streams.team import cases as cc
from streams.team.api import register_api
from streams.team.auth import SessionKeys, TeamAuth
from streams.team.case_agents import register_case_agents
from streams.team.dashboard import register_dashboard
from streams.team.login_limits import LoginLimiter
from streams.team.oidc import OidcClient
from streams.team.oidc_pages import oidc_config, register_oidc_pages
from streams.team.pages import register_pages
from streams.team.queue_pages import register_queue_pages
from streams.worker.pipeline import Pipeline
from streams.worker.settings import Settings, SettingsError

__all__ = ["public_origin", "register", "session_keys", "team_directory"]

_MIN_KEY_CHARS = 32


def team_directory(settings: Settings) -> TeamDirectory:
    """Members of the configured teams file; the shipped sample (public tokens) in demo mode only.

    Outside demo mode a teams file whose members kept a sample member's token is refused too.
    """
    if settings.teams_file is None:
        if not settings.demo:
            raise SettingsError(
                "setting 'teams_file' is required outside demo mode (VROEGSIGNAAL_TEAMS_FILE, with 'routing_map')"
            )
        return default_team_directory()
    directory = load_team_directory(settings.teams_file)
    public = [] if settings.demo else _with_public_tokens(directory)
    if public:
        raise SettingsError(
            f"teams file {settings.teams_file} gives members the public demo tokens of the sample teams "
            f"({', '.join(public)}): give each member a random token of its own (token_sha256), "
            "or set 'demo' (VROEGSIGNAAL_DEMO=true)"
        )
    return directory


def _members(directory: TeamDirectory) -> list[TeamMember]:
    return [m for team in directory.team_names for m in directory.members_of(team)]


def _with_public_tokens(directory: TeamDirectory) -> list[str]:
    """Members whose token is one of the sample's demo tokens (public in the README): a copied sample file."""
    public = {m.token_sha256 for m in _members(default_team_directory())}
    return [m.member_id for m in _members(directory) if m.token_sha256 in public]


def session_keys(settings: Settings) -> SessionKeys:
    """The session signing keys; in demo mode without one a key of this process (sessions end on restart)."""
    if settings.session_key is None:
        if not settings.demo:
            raise SettingsError(
                "setting 'session_key' is required outside demo mode (VROEGSIGNAAL_SESSION_KEY)"
            )
        return SessionKeys(secrets.token_bytes(32))
    keys = [settings.session_key, settings.session_key_previous]
    for name, key in zip(("session_key", "session_key_previous"), keys, strict=True):
        if key is not None and len(key.get_secret_value()) < _MIN_KEY_CHARS:
            raise SettingsError(
                f"setting {name!r} must be at least {_MIN_KEY_CHARS} characters (openssl rand -hex 32)"
            )
    previous = settings.session_key_previous
    return SessionKeys(
        settings.session_key.get_secret_value().encode(),
        previous.get_secret_value().encode() if previous is not None else None,
    )


def public_origin(settings: Settings) -> str:
    """Where the team pages are served: configured, or this worker on loopback in demo mode."""
    if settings.public_origin is not None:
        return settings.public_origin
    if not settings.demo:
        raise SettingsError(
            "setting 'public_origin' is required outside demo mode (VROEGSIGNAAL_PUBLIC_ORIGIN)"
        )
    return f"http://127.0.0.1:{settings.web_port}"


class ReadModelSessions:
    """The session store in the read model every worker shares; 503 while it is not open yet."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    def _store(self) -> SqlSessionStore:
        return SqlSessionStore(cc.read_model_of(self._pipeline))

    async def start(self, session_id: str, *, member_id: str, team_id: str, expires_at: datetime) -> None:
        """Record a new session."""
        await self._store().start(session_id, member_id=member_id, team_id=team_id, expires_at=expires_at)

    async def active(self, session_id: str, *, member_id: str, now: datetime) -> bool:
        """Whether the session is live."""
        return await self._store().active(session_id, member_id=member_id, now=now)

    async def end(self, session_id: str) -> None:
        """End the session on every worker."""
        await self._store().end(session_id)


def register(app: faust.App, pipeline: Pipeline) -> None:
    """Attach the case agents and the team views."""
    s = pipeline.settings
    oidc = oidc_config(s, public_origin(s))
    auth = TeamAuth(
        team_directory(s),
        session_keys(s),
        ReadModelSessions(pipeline),
        public_origin=public_origin(s),
        oidc_enabled=oidc is not None,
    )
    limiter = LoginLimiter(max_attempts=s.login_max_attempts, window_s=s.login_window_s)
    if oidc is not None:
        register_oidc_pages(app, auth, OidcClient(oidc), limiter)
    register_case_agents(app, pipeline)
    register_pages(app, pipeline, auth, limiter)
    register_api(app, pipeline, auth)
    register_dashboard(app, pipeline, auth)
    register_queue_pages(app, pipeline, auth)
