"""Adapters to the outside world: embedded broker, files, HTTP, SQL read model, sinks."""
