"""Dataclass trees as JSON: written field by field, read back by their type hints, described as JSON Schema.

The run files' typed records (summary.json's sections) are plain frozen dataclasses. Writing keeps
every value as it is (an int stays an int, None becomes null) in field order; reading takes each field
from its key and leaves a field whose key is absent at its default, so a file written before a field
existed still reads (as None). Nothing is coerced or checked on the way in: the JSON Schema generated
from the same hints (:func:`json_schema`) is what checks a file, in the tests and for CI pipelines.

A field declared with ``omit_if_none()`` is left out of the JSON when it is None: a record with two
shapes (capacity measured, or the reason it was not) writes only its shape's keys.

A field declared with ``flatten()`` holds ``<name>: value`` pairs that sit beside the record's own
fields in JSON (summary.json's ``memory.<label>_bytes``, one per cache format): on reading, every key
no field claims goes into it.

msgspec and pydantic read dataclasses too, but both convert numbers on the way in (a float field turns
an int into a float) and neither can flatten a mapping into its parent; the files' exact shape, kept
through a read and a write, is the point here.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

T = TypeVar("T")

_FLATTEN = "runfiles.flatten"
_OMIT_IF_NONE = "runfiles.omit_if_none"


def omit_if_none() -> Any:
    """A field (default None) that JSON leaves out rather than writing null."""
    return dataclasses.field(default=None, metadata={_OMIT_IF_NONE: True})


def flatten() -> Any:
    """A ``dict[str, X]`` field whose pairs are written beside the record's other keys, not under a key."""
    return dataclasses.field(default_factory=dict, metadata={_FLATTEN: True})


def to_json(value: Any) -> Any:
    """``value`` as JSON values: dataclasses become objects in field order, tuples lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.metadata.get(_FLATTEN):
                out.update({key: to_json(v) for key, v in item.items()})
            elif item is None and f.metadata.get(_OMIT_IF_NONE):
                continue
            else:
                out[f.name] = to_json(item)
        return out
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    return value


def field_value(record: Any, key: str) -> Any:
    """``record``'s value under a JSON key: a field, a flattened pair or a dict entry; None if absent."""
    if isinstance(record, Mapping):
        return record.get(key)
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        for f in dataclasses.fields(record):
            if f.name == key and not f.metadata.get(_FLATTEN):
                return getattr(record, key)
            if f.metadata.get(_FLATTEN) and key in getattr(record, f.name):
                return getattr(record, f.name)[key]
    return None


def from_json(cls: type[T], data: Any) -> T:
    """A ``cls`` read from JSON values by its type hints; absent keys leave fields at their defaults."""
    return typing.cast(T, _read(cls, data))


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _read(kind: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        members = [arg for arg in get_args(kind) if arg is not type(None)]
        records = [arg for arg in members if dataclasses.is_dataclass(arg) or get_origin(arg) in (dict, list)]
        return _read(records[0], data) if records and isinstance(data, dict | list) else data
    if origin is dict:
        _, value_kind = get_args(kind)
        return {key: _read(value_kind, item) for key, item in data.items()}
    if origin in (list, tuple):
        (item_kind, *_) = get_args(kind)
        return [_read(item_kind, item) for item in data]
    if isinstance(kind, type) and dataclasses.is_dataclass(kind) and isinstance(data, Mapping):
        hints = _hints(kind)
        fields = dataclasses.fields(kind)
        values: dict[str, Any] = {}
        for f in fields:
            if f.metadata.get(_FLATTEN):
                claimed = {other.name for other in fields}
                _, value_kind = get_args(hints[f.name])
                values[f.name] = {k: _read(value_kind, v) for k, v in data.items() if k not in claimed}
            elif f.name in data:
                values[f.name] = _read(hints[f.name], data[f.name])
        return kind(**values)
    return data


def json_schema(cls: type, title: str, schema_id: str) -> dict[str, Any]:
    """A JSON Schema (2020-12) of ``cls``: each dataclass a definition; no key required, others allowed.

    Every field may be absent (files written before it existed) and every record may hold keys the
    types do not know (files written after them): the schema checks the types of what is there.
    """
    definitions: dict[str, Any] = {}
    root = _schema(cls, definitions)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "title": title,
        **root,
        "$defs": dict(sorted(definitions.items())),
    }


_SCALARS = {int: "integer", float: "number", str: "string", bool: "boolean", type(None): "null"}


def _schema(kind: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        return {"anyOf": [_schema(arg, definitions) for arg in get_args(kind)]}
    if origin is dict:
        _, value_kind = get_args(kind)
        return {"type": "object", "additionalProperties": _schema(value_kind, definitions)}
    if origin in (list, tuple):
        (item_kind, *_) = get_args(kind)
        return {"type": "array", "items": _schema(item_kind, definitions)}
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        name = kind.__name__
        if name not in definitions:
            definitions[name] = {}  # placed first: a record that refers to itself stops here
            hints = _hints(kind)
            properties: dict[str, Any] = {}
            extra: dict[str, Any] | bool = True
            for f in dataclasses.fields(kind):
                if f.metadata.get(_FLATTEN):
                    _, value_kind = get_args(hints[f.name])
                    extra = _schema(value_kind, definitions)
                else:
                    properties[f.name] = _schema(hints[f.name], definitions)
            definitions[name] = {
                "type": "object",
                "description": (kind.__doc__ or "").strip().splitlines()[0],
                "properties": properties,
                "additionalProperties": extra,
            }
        return {"$ref": f"#/$defs/{name}"}
    if kind is Any:
        return {}
    if kind in _SCALARS:
        return {"type": _SCALARS[kind]}
    raise TypeError(f"no JSON Schema for {kind!r}")
