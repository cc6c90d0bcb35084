"""SQL read model: households, debts, signals, reminders and cost-gate decisions for teams.

Built at start-up with `await ReadModel.open(url)`; the sink calls `write_with_retry`
for each batch and commits its offsets after it returns.
"""

# Imported for their tables: every use of the read model sees the whole schema (migrations 0002, 0004).
from connectors.readmodel import case_tables as case_tables
from connectors.readmodel import sessions as sessions
from connectors.readmodel.queries import count_rows, overview, signals_for
from connectors.readmodel.retry import BatchWriter, is_transient, write_with_retry
from connectors.readmodel.rows import Item
from connectors.readmodel.writer import ReadModel, ReadModelError, async_url, shown_url

__all__ = [
    "BatchWriter",
    "Item",
    "ReadModel",
    "ReadModelError",
    "async_url",
    "count_rows",
    "is_transient",
    "overview",
    "shown_url",
    "signals_for",
    "write_with_retry",
]
