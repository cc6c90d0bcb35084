"""What the msgspec lever of issue 17 would save: the household state as msgspec Structs instead of pydantic.

The household stage decodes each household's stored state, copies it per fact it folds in,
and encodes it again, once per household per batch. This measures those three steps on the
states `processor_bench` leaves behind, with the pydantic models the fold uses and with
msgspec Structs of exactly the same shape (made from the pydantic models' fields here, so
they cannot drift; the bench checks both give the same JSON bytes), and prints them beside
the stage's time per event. It measures a lever; it does not use it.

Run: python -m tests.bench.codec_lever  (needs msgspec: pip install msgspec)
"""

from __future__ import annotations

import gc
import time
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from pydantic import AwareDatetime, BaseModel

from signals.overview import HouseholdState
from signals.state import copy_with
from streams.worker.state_codec import decode_state, encode_state, inflate
from tests.bench import processor_bench

_STRUCTS: dict[type[BaseModel], type[msgspec.Struct]] = {}


def struct_of(model: type[BaseModel]) -> type[msgspec.Struct]:
    """A frozen msgspec Struct with the model's fields, types and defaults (nested models too)."""
    if model not in _STRUCTS:
        fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
        for name, field in model.model_fields.items():
            kind = _mirror(field.annotation)
            if field.is_required():
                fields.append((name, kind))
            else:
                fields.append((name, kind, field.get_default(call_default_factory=True)))
        _STRUCTS[model] = msgspec.defstruct(
            model.__name__, fields, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False
        )
    return _STRUCTS[model]


def _mirror(annotation: Any) -> Any:
    if annotation is AwareDatetime:
        return Annotated[datetime, msgspec.Meta(tz=True)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return struct_of(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is tuple:
        return tuple[_mirror(args[0]), ...]  # type: ignore[misc]
    if origin in (typing.Union, types.UnionType):
        mirrored = [_mirror(a) for a in args]
        union = mirrored[0]
        for other in mirrored[1:]:
            union = union | other
        return union
    if annotation in (str, int, bool, date, type(None)) or origin is typing.Literal:
        return annotation
    raise TypeError(f"no mirror for {annotation!r}")


def stored_states() -> list[bytes]:
    """The stored bytes of every household state `processor_bench`'s input leaves in the table."""
    states: dict[str, bytes] = {}
    processor_bench.measure(states)
    return list(states.values())


def per_state_us(texts: list[bytes], step: Callable[[bytes], object], repeat: int = 5) -> float:
    """Best of `repeat` runs, microseconds per state, without the cyclic collector (as the fold runs)."""
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            for text in texts:
                step(text)
            best = min(best, time.perf_counter() - started)
    finally:
        gc.enable()
    return best / len(texts) * 1e6


def measure() -> dict[str, float]:
    raws = stored_states()
    texts = [inflate(raw) for raw in raws]
    decoder = msgspec.json.Decoder(struct_of(HouseholdState))
    encoder = msgspec.json.Encoder()
    models = {id(raw): decode_state(raw) for raw in raws}
    structs = {id(text): decoder.decode(text) for text in texts}
    for raw, text in zip(raws, texts, strict=True):  # the same state either way: the same JSON, byte for byte
        assert encoder.encode(structs[id(text)]) == models[id(raw)].model_dump_json().encode() == text
    model_of: Callable[[bytes], HouseholdState] = lambda raw: models[id(raw)]  # noqa: E731
    struct_of_text: Callable[[bytes], Any] = lambda text: structs[id(text)]  # noqa: E731
    inflate_us = per_state_us(raws, inflate)
    encode_pydantic_us = per_state_us(raws, lambda raw: model_of(raw).model_dump_json())
    figures = {
        "states": len(raws),
        "mean_json_bytes": sum(map(len, texts)) / len(texts),
        "inflate_us": inflate_us,
        "decode_pydantic_us": per_state_us(raws, decode_state) - inflate_us,
        "decode_msgspec_us": per_state_us(texts, decoder.decode),
        "encode_pydantic_us": encode_pydantic_us,
        "deflate_us": per_state_us(raws, lambda raw: encode_state(model_of(raw))) - encode_pydantic_us,
        "encode_msgspec_us": per_state_us(texts, lambda text: encoder.encode(struct_of_text(text))),
        "copy_pydantic_us": per_state_us(raws, lambda raw: copy_with(model_of(raw), signals_raised=1)),
        "copy_msgspec_us": per_state_us(
            texts, lambda text: msgspec.structs.replace(struct_of_text(text), signals_raised=1)
        ),
    }
    # What the lever changes (zlib stays either way): decode, encode and one copy per state.
    for kind in ("pydantic", "msgspec"):
        figures[f"{kind}_total_us"] = sum(
            figures[f"{step}_{kind}_us"] for step in ("decode", "encode", "copy")
        )
    return figures


def main() -> None:
    figures = measure()
    for name, value in figures.items():
        print(f"{name + ':':22} {value:10.1f}")


if __name__ == "__main__":
    main()
