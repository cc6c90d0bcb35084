"""The `vroegsignaal` command line: Faust's own commands (worker, ...) plus the project's."""

from streams.cli.main import main

__all__ = ["main"]
