"""The neighbourhood team's workspace: sign-in, case agents, pages, JSON API and the CBS report."""

from streams.team.wiring import register, team_directory

__all__ = ["register", "team_directory"]
