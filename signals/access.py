"""Need to know: which team may read which household or case (AVG art. 5 lid 1 c; Wgs art. 3 lid 2).

A team sees a household only while the household has a case or a signal routed to that
team: from the first signal routed to it until the retention job purges the case (and its
signals) `retention_months` after the case closed. A household in the team's area that was
never signalled (most of them: they paid within the free reminder's term), or whose
signals went to another team, does not exist for the team. Every other lookup answers 404,
not 403, so the answer does not even reveal that the household or case exists; the read is
audited either way, with the answer given.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

__all__ = ["ReadAnswer", "case_read", "household_read"]

# 200: shown. 404: unknown, or not the team's to know (the two cannot be told apart).
ReadAnswer = Literal[200, 404]


def household_read(team_id: str, routed_to: Collection[str]) -> ReadAnswer:
    """May `team_id` read a household whose kept cases and signals are routed to `routed_to`?

    >>> household_read("centrum", {"centrum", "oost"})
    200
    >>> household_read("centrum", set())  # in the area, never signalled
    404
    >>> household_read("centrum", {"oost"})  # signalled, to another team
    404
    """
    return 200 if team_id in routed_to else 404


def case_read(team_id: str, case_team: str | None) -> ReadAnswer:
    """May `team_id` read a case routed to `case_team` (None: no such case)?

    >>> case_read("centrum", "centrum"), case_read("centrum", "oost"), case_read("centrum", None)
    (200, 404, 404)
    """
    return 200 if case_team is not None and case_team == team_id else 404
