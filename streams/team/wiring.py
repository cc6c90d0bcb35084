"""The team workflow wired into the app: members, case agents, HTML pages and JSON API."""

from __future__ import annotations

import faust

from connectors.team_access import TeamDirectory, default_team_directory, load_team_directory
from streams.team.api import register_api
from streams.team.auth import TeamAuth, session_key_from
from streams.team.case_agents import register_case_agents
from streams.team.pages import register_pages
from streams.worker.pipeline import Pipeline
from streams.worker.settings import Settings

__all__ = ["register", "team_directory"]


def team_directory(settings: Settings) -> TeamDirectory:
    """Members of the configured teams file, or of the shipped sample."""
    if settings.teams_file is None:
        return default_team_directory()
    return load_team_directory(settings.teams_file)


def register(app: faust.App, pipeline: Pipeline) -> None:
    """Attach the case agents and the team views."""
    # Sessions are signed with a key derived from the deployment's secret, so every
    # worker accepts the same cookie and no extra secret needs managing.
    auth = TeamAuth(team_directory(pipeline.settings), session_key_from(pipeline.pseudonym_key))
    register_case_agents(app, pipeline)
    register_pages(app, pipeline, auth)
    register_api(app, pipeline, auth)
