"""The root of every error the stream application raises on purpose.

`CommandError` of the command line stays a `SystemExit` (it ends the process with a
code) and so cannot share this root; everything else derives from `StreamsError`.
"""

from __future__ import annotations

__all__ = ["StreamsError"]


class StreamsError(Exception):
    """The application cannot do what it was asked (settings, a request, a replay, a report)."""
