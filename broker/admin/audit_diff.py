"""An audit entry's ``before`` and ``after`` as a field-by-field difference a person can read:
nested objects flattened to dotted names (``contacts.dpo.email``), only what changed, values
written out as short text."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from broker.admin.audit import canonical_json

MAX_VALUE_CHARS = 300  # a logo or a JWKS would drown the page: the rest is cut


class Change(StrEnum):
    ADDED = "added"  # only after: a field set, or a record created
    REMOVED = "removed"  # only before: a field cleared, or a record deleted
    CHANGED = "changed"


@dataclass(frozen=True)
class FieldChange:
    field: str
    change: Change
    before: str | None  # None: the field did not exist
    after: str | None


def flatten(value: dict[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, item in (value or {}).items():
        name = f"{prefix}{key}"
        if isinstance(item, dict) and item:
            flat.update(flatten(item, name + "."))
        else:
            flat[name] = item
    return flat


def shown(value: Any) -> str:
    if value is None or value == "":
        text = "—"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(
        isinstance(item, str | int | float) and not isinstance(item, bool) for item in value
    ):
        text = ", ".join(str(item) for item in value) if value else "[]"
    else:
        text = canonical_json(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def field_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[FieldChange]:
    """What differs between ``before`` and ``after``, field by field, in field order."""
    old, new = flatten(before), flatten(after)
    changes = []
    for name in sorted(old.keys() | new.keys()):
        if name not in old:
            changes.append(FieldChange(name, Change.ADDED, None, shown(new[name])))
        elif name not in new:
            changes.append(FieldChange(name, Change.REMOVED, shown(old[name]), None))
        elif old[name] != new[name]:
            changes.append(FieldChange(name, Change.CHANGED, shown(old[name]), shown(new[name])))
    return changes
