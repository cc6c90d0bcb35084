"""Export the public contracts as JSON Schema files, byte-for-byte reproducible.

Creditors validate their feeds against ``creditor-event.v1.json``; consumers of
the outputs read the others. The files are checked in under ``schemas/json/``
and a test regenerates them, so the published schemas never drift from the models.
Regenerate with ``vroegsignaal schemas export schemas/json`` (or ``python -m schemas.export schemas/json``).

Every file names itself with an `$id`, ``urn:vroegsignaal:schema:<file name without .json>`` (for
example ``urn:vroegsignaal:schema:creditor-event.v1``): a URN, so it is stable wherever the files are
published and never pretends to be an address that resolves. A new major version is a new file and a
new `$id`. Every file has a `description`: the model's docstring, or for a union of event types the
text below.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from schemas.cases_v1 import CASE_EVENT, CreditorFeedback
from schemas.contract_v1 import CREDITOR_EVENT
from schemas.deadletter_v1 import DeadLetter
from schemas.outputs_v1 import CostsPermitted, CostViolation, ReminderIssued, Signal, SignalResolved

__all__ = ["SCHEMA_FILES", "export_json_schemas", "render_schema", "schema_id"]

_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_ID_PREFIX = "urn:vroegsignaal:schema:"
Mode = Literal["validation", "serialization"]


class _EmittedSchema(GenerateJsonSchema):
    """Serialisation schemas list every field as required: pydantic always writes them all."""

    def field_is_required(self, field: Any, total: bool) -> bool:
        """Every field is present in what the pipeline emits, defaults included."""
        if self.mode == "serialization":
            return True
        return super().field_is_required(field, total)


# file name -> (what it describes, model, mode): inbound contracts validate, outbound serialise.
SCHEMA_FILES: dict[str, tuple[str, TypeAdapter[Any] | type[BaseModel], Mode]] = {
    "creditor-event.v1.json": ("CreditorEvent v1", CREDITOR_EVENT, "validation"),
    "dead-letter.v1.json": ("DeadLetter v1", DeadLetter, "serialization"),
    "signal.v1.json": ("Signal v1", Signal, "serialization"),
    "signal-resolved.v1.json": ("SignalResolved v1", SignalResolved, "serialization"),
    "reminder-issued.v1.json": ("ReminderIssued v1", ReminderIssued, "serialization"),
    "costs-permitted.v1.json": ("CostsPermitted v1", CostsPermitted, "serialization"),
    "cost-violation.v1.json": ("CostViolation v1", CostViolation, "serialization"),
    "case-event.v1.json": ("CaseEvent v1", CASE_EVENT, "serialization"),
    "creditor-feedback.v1.json": ("CreditorFeedback v1", CreditorFeedback, "serialization"),
}

# The unions have no docstring of their own: what each file describes, for a reader of the file.
_UNION_DESCRIPTIONS: dict[str, str] = {
    "creditor-event.v1.json": (
        "One event a creditor (signaalpartner) sends about one debt, contract v1 (docs/contract-v1.md): "
        "the member is chosen by `type`. Rules that depend on other fields (for example "
        "`monthly_amount_cents` is required for housing) are checked by the pipeline, not by this schema."
    ),
    "case-event.v1.json": (
        "What a neighbourhood team recorded on a case, or an audited read of a household's overview "
        "or case (topic `case-events`, keyed by household): the member is chosen by `type`."
    ),
}


def schema_id(name: str) -> str:
    """The `$id` of an exported schema file: a stable URN made of the file name.

    >>> schema_id("dead-letter.v1.json")
    'urn:vroegsignaal:schema:dead-letter.v1'
    """
    return _ID_PREFIX + name.removesuffix(".json")


def _description(name: str, target: TypeAdapter[Any] | type[BaseModel]) -> str:
    if name in _UNION_DESCRIPTIONS:
        return _UNION_DESCRIPTIONS[name]
    doc = inspect.getdoc(target) if isinstance(target, type) else None
    if not doc:
        raise ValueError(f"{name}: its model has no docstring to describe it")
    return doc


def render_schema(name: str) -> str:
    """The exact text of one exported schema file: sorted keys, indent 2, trailing newline.

    >>> render_schema("signal.v1.json").startswith('{\\n  "$defs"')
    True
    """
    title, target, mode = SCHEMA_FILES[name]
    if isinstance(target, TypeAdapter):
        schema = target.json_schema(mode=mode, schema_generator=_EmittedSchema)
    else:
        schema = target.model_json_schema(mode=mode, schema_generator=_EmittedSchema)
    schema = {"$schema": _DIALECT, "$id": schema_id(name), **schema, "title": title}
    schema["description"] = _description(name, target)
    return json.dumps(schema, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def export_json_schemas(directory: Path) -> list[Path]:
    """Write every public schema into `directory` and return the paths in a fixed order."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in SCHEMA_FILES:
        path = directory / name
        path.write_bytes(render_schema(name).encode("utf-8"))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m schemas.export DIRECTORY``: the same as ``vroegsignaal schemas export``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m schemas.export DIRECTORY", file=sys.stderr)
        return 2
    for path in export_json_schemas(Path(args[0])):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
