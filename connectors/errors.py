"""The root of every error an adapter in `connectors/` raises on purpose."""

from __future__ import annotations

__all__ = ["ConnectorError"]


class ConnectorError(Exception):
    """An adapter could not do what it was asked (a file, the broker, the database, an archive)."""
