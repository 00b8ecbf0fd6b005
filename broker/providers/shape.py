"""Checking that a provider's JSON has the documented shape before we map it.

A shape is written with plain Python values:

* ``str``, ``int``, ``float`` (any JSON number), ``bool``: a scalar of that JSON type (a boolean
  is never accepted as a number);
* ``{"key": shape, ...}``: an object with at least these keys (extra keys are tolerated, since
  providers add fields; ``Omittable(shape)`` marks a key that may be absent);
* ``[shape]``: an array whose items all have that shape;
* ``Nullable(shape)``, ``Pattern(regex)`` (a string matching it), ``OneOf(*values)``.

Problems name the path and what was expected, never the value found: payloads carry personal
data and problems end up in logs and error details. Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_PROBLEMS = 5


@dataclass(frozen=True)
class Nullable:
    inner: Any


@dataclass(frozen=True)
class Omittable:
    inner: Any


@dataclass(frozen=True)
class Pattern:
    regex: str

    def matches(self, value: object) -> bool:
        return isinstance(value, str) and re.fullmatch(self.regex, value) is not None


class OneOf:
    def __init__(self, *values: object) -> None:
        self.values = values

    def __repr__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


ISO_DATE = Pattern(r"\d{4}-\d{2}-\d{2}")

_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}


def problems(shape: Any, value: Any, path: str = "$") -> list[str]:
    """What does not match, as ``path: expected ...`` lines (at most ``MAX_PROBLEMS``)."""
    found: list[str] = []
    _check(shape, value, path, found)
    return found[:MAX_PROBLEMS]


def _check(shape: Any, value: Any, path: str, found: list[str]) -> None:
    if len(found) >= MAX_PROBLEMS:
        return
    if isinstance(shape, Nullable):
        if value is not None:
            _check(shape.inner, value, path, found)
    elif isinstance(shape, Omittable):
        _check(shape.inner, value, path, found)
    elif isinstance(shape, Pattern):
        if not shape.matches(value):
            found.append(f"{path}: expected a string matching {shape.regex}")
    elif isinstance(shape, OneOf):
        if not any(type(value) is type(v) and value == v for v in shape.values):
            found.append(f"{path}: expected {shape!r}")
    elif isinstance(shape, dict):
        _check_object(shape, value, path, found)
    elif isinstance(shape, list):
        if not isinstance(value, list):
            found.append(f"{path}: expected an array")
            return
        for index, item in enumerate(value):
            _check(shape[0], item, f"{path}[{index}]", found)
    elif shape in _SCALARS:
        if not _is_scalar(shape, value):
            found.append(f"{path}: expected {_SCALARS[shape]}")
    else:
        raise TypeError(f"not a shape: {shape!r}")


def _check_object(shape: dict, value: Any, path: str, found: list[str]) -> None:
    if not isinstance(value, dict):
        found.append(f"{path}: expected an object")
        return
    for key, inner in shape.items():
        if key not in value:
            if not isinstance(inner, Omittable):
                found.append(f"{path}.{key}: missing")
            continue
        _check(inner, value[key], f"{path}.{key}", found)


def _is_scalar(kind: type, value: Any) -> bool:
    if isinstance(value, bool):
        return kind is bool
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)
