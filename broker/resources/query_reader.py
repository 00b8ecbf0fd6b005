"""Reading a data API query: each parameter once, trimmed, with every problem recorded against
its parameter (``broker.resources.params`` reports them all at once).

Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

BIRTH_DATE = ("anneeDateNaissance", "moisDateNaissance", "jourDateNaissance")


class QueryReader:
    def __init__(self, query: Mapping[str, Sequence[str]]) -> None:
        self.query = query
        self.problems: list[tuple[str, str]] = []

    def values(self, name: str) -> list[str]:
        return [v.strip() for v in self.query.get(name, ()) if v.strip()]

    def one(self, name: str, required: bool = False) -> str | None:
        values = self.values(name)
        if len(self.query.get(name, ())) > 1:
            self.problems.append((name, "Ce paramètre ne peut être donné qu'une fois."))
            return None
        if not values:
            if required:
                self.problems.append((name, "Ce paramètre est obligatoire."))
            return None
        return values[0]

    def integer(self, name: str, low: int, high: int, required: bool = False) -> int | None:
        raw = self.one(name, required)
        if raw is None:
            return None
        if (
            not (raw.isascii() and raw.isdigit())
            or len(raw) > len(str(high))
            or not low <= int(raw) <= high
        ):
            self.problems.append((name, f"Attendu : un entier entre {low} et {high}."))
            return None
        return int(raw)

    def fail(self, name: str, detail: str) -> None:
        self.problems.append((name, detail))
