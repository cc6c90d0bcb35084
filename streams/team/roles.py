"""Roles in a team: a `medewerker` works cases; a `coordinator` also sees the team's dashboard and reassigns.

A member signed in through the municipality's provider gets the role its claims grant
(streams/team/oidc.py); a member with a token from the teams file the `role` of its entry
(`medewerker` when it has none).
"""

from __future__ import annotations

from typing import Literal, Protocol

__all__ = ["ROLES", "Role", "can_reassign", "can_see_dashboard", "stronger"]

Role = Literal["medewerker", "coordinator"]
ROLES: tuple[Role, ...] = ("medewerker", "coordinator")  # weakest first


class _HasRole(Protocol):
    @property
    def role(self) -> Role: ...


def stronger(current: Role | None, other: Role) -> Role:
    """The stronger of two roles (None: no role yet).

    >>> stronger(None, "medewerker"), stronger("coordinator", "medewerker")
    ('medewerker', 'coordinator')
    """
    if current is None:
        return other
    return max(current, other, key=ROLES.index)


def can_see_dashboard(who: _HasRole) -> bool:
    """Whether the member sees the team's dashboard (figures, DDAS report): coordinators only."""
    return who.role == "coordinator"


def can_reassign(who: _HasRole) -> bool:
    """Whether the member may assign a case to another member of the team: coordinators only.

    Taking a case oneself is open to every member (issue 19, work queue).
    """
    return who.role == "coordinator"
