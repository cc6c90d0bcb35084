"""The Faust app: agents, tables, stream time, web views and CLI commands."""
