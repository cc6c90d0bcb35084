"""Team sign-in sessions in the read model, so every worker sees a login and a logout at once.

A session is a row keyed by the SHA-256 of its random id (the cookie carries the id itself,
signed); logging out deletes the row, so the old cookie no longer works on any worker. Unlike
the other tables it is not derived from a topic: a replay starts without sessions and members
sign in again. Migration 0004 creates the table.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from connectors.readmodel.tables import Base, Key, UtcDateTime
from connectors.readmodel.writer import ReadModel

__all__ = ["SqlSessionStore", "TeamSession"]


class TeamSession(Base):
    """One signed-in member's session until it expires or the member logs out."""

    __tablename__ = "team_sessions"

    # SHA-256 hex of the session id: a copy of the database alone does not give a cookie.
    session_sha256: Mapped[str] = mapped_column(Key, primary_key=True)
    member_id: Mapped[str] = mapped_column(Key, index=True)
    team_id: Mapped[str] = mapped_column(Key)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SqlSessionStore:
    """The sessions table of an open read model: start, check and end sessions."""

    def __init__(self, read_model: ReadModel) -> None:
        self._read_model = read_model  # every call within read_timeout_s: a login or a page never hangs

    async def start(self, session_id: str, *, member_id: str, team_id: str, expires_at: datetime) -> None:
        """Record a new session; expired ones are removed on the way."""
        async with self._read_model.writing() as conn:
            await conn.execute(
                delete(TeamSession).where(TeamSession.expires_at < datetime.now(expires_at.tzinfo))
            )
            await conn.execute(
                insert(TeamSession).values(
                    session_sha256=_digest(session_id),
                    member_id=member_id,
                    team_id=team_id,
                    expires_at=expires_at,
                )
            )

    async def active(self, session_id: str, *, member_id: str, now: datetime) -> bool:
        """Whether the session exists for this member and has not expired."""
        query = select(TeamSession.member_id).where(
            TeamSession.session_sha256 == _digest(session_id), TeamSession.expires_at > now
        )
        async with self._read_model.reading() as conn:
            found = (await conn.execute(query)).scalar_one_or_none()
        return found == member_id

    async def end(self, session_id: str) -> None:
        """Forget the session: its cookie no longer works on any worker."""
        async with self._read_model.writing() as conn:
            await conn.execute(delete(TeamSession).where(TeamSession.session_sha256 == _digest(session_id)))
