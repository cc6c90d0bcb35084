"""The root of every error an adapter in `connectors/` raises on purpose."""

from __future__ import annotations

from typing import Literal

__all__ = ["ConnectorError", "Dependency", "Unavailable"]

Dependency = Literal["broker", "database"]


class ConnectorError(Exception):
    """An adapter could not do what it was asked (a file, the broker, the database, an archive)."""


class Unavailable(ConnectorError):
    """The broker or the database did not answer in time: the request may be retried later (HTTP 503)."""

    def __init__(self, dependency: Dependency, message: str) -> None:
        super().__init__(f"{dependency}: {message}")
        self.dependency: Dependency = dependency
        self.message = message
