"""The requests' messages as French msgids (French is the source language): the portal
translates them when it shows them, with their ``%(name)s`` parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


def N_(message: str) -> str:  # noqa: N802 - gettext's marker name, as the extractor knows it
    """Marks a message for the catalog; the page translates it when it shows it."""
    return message


@dataclass(frozen=True)
class Problem:
    """A message to show: a French msgid and the values of its placeholders."""

    message: str
    params: Mapping[str, str | int] = field(default_factory=dict)


def problem(message: str, **params: str | int) -> Problem:
    return Problem(message, params)
