"""INSEE's official geographic code (COG): the name of a commune code at a date, and of a country
code, from the dated extract ``data/cog.tsv.gz`` (its source, edition and licence are in
:func:`source`; ``ops/refresh_cog.py`` rebuilds it).

Communes merge, split and change names: the name of a birthplace is the one its code had on
the date of birth. The file is read once, on first use (about 40,000 codes), then every
look-up is a dictionary access.

Standard library only.
"""

from __future__ import annotations

import bisect
import gzip
import re
import unicodedata
from datetime import date
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

COMMUNE_CODE = re.compile(r"(?:\d{2}|2[AB])\d{3}")
COUNTRY_CODE = re.compile(r"99\d{3}")
FRANCE = "99100"


# A name of a code: (start, end, name), from ``start`` (None: since 1943 or before) until the
# day before ``end`` (None: still in force). Plain tuples: 40,000 of them are built at start.
Period = tuple[date | None, date | None, str]


def covers(period: Period, day: date) -> bool:
    start, end, _ = period
    return (start is None or start <= day) and (end is None or day < end)


class CogTable:
    """Commune periods by code, country names by code, and where the data comes from."""

    def __init__(
        self,
        communes: dict[str, tuple[Period, ...]],
        countries: dict[str, tuple[str, str]],
        about: dict[str, str],
    ) -> None:
        self.communes = communes
        self.countries = countries
        self.about = about
        self.by_name: dict[str, list[str]] | None = None  # built on first reverse look-up

    @classmethod
    def read(cls, path: Path | Any) -> CogTable:
        """Parse a data file as ``ops/refresh_cog.py`` writes it (``path``: a file or a
        package resource)."""
        periods: dict[str, list[Period]] = {}
        countries: dict[str, tuple[str, str]] = {}
        about: dict[str, str] = {}
        days: dict[str, date | None] = {"": None}  # a few thousand distinct dates, parsed once
        with path.open("rb") as raw:
            lines = gzip.decompress(raw.read()).decode("utf-8").split("\n")
        for line in lines:
            kind, _, rest = line.partition("\t")
            if kind == "C":
                code, start, end, name = rest.split("\t")
                if start not in days:
                    days[start] = date.fromisoformat(start)
                if end not in days:
                    days[end] = date.fromisoformat(end)
                periods.setdefault(code, []).append((days[start], days[end], name))
            elif kind == "P":
                code, french, english = rest.split("\t")
                countries[code] = (french, english)
            elif kind.startswith("@"):
                about[kind[1:]] = rest
        return cls({c: tuple(p) for c, p in periods.items()}, countries, about)

    def commune_name(self, code: str, on: date | None = None) -> str | None:
        """The name ``code`` had on ``on`` (today's when None). Before the first known name,
        the first; after a code ended (merged away), its last name. None: not a known code."""
        periods = self.communes.get(code.strip().upper())
        if not periods:
            return None
        if on is None:
            return periods[-1][2]
        starts = [start or date.min for start, _, _ in periods]
        index = bisect.bisect_right(starts, on) - 1
        return periods[max(index, 0)][2]

    def country_name(self, code: str, locale: str = "fr") -> str | None:
        names = self.countries.get(code.strip())
        if names is None:
            return None
        return names[1] if locale.lower().startswith("en") else names[0]

    def communes_named(self, name: str, department: str, on: date | None = None) -> list[str]:
        """Codes of the communes of ``department`` that bore ``name`` on ``on`` (any time when
        None), for the reverse look-up (name and department to code). Case, accents, hyphens
        and apostrophes do not count; several codes mean the name is ambiguous."""
        return self.communes_named_between(name, department, on, on)

    def communes_named_between(
        self, name: str, department: str, first: date | None, last: date | None
    ) -> list[str]:
        """Codes of the communes of ``department`` that bore ``name`` on some day from ``first``
        to ``last`` (both included; None: unbounded), e.g. a birth year whose day is unknown."""
        if self.by_name is None:
            index: dict[str, list[str]] = {}
            for code, periods in self.communes.items():
                for key in {folded(name) for _, _, name in periods}:
                    index.setdefault(key, []).append(code)
            self.by_name = index
        department = department.strip().upper()
        wanted = folded(name)
        return sorted(
            code
            for code in self.by_name.get(wanted, [])
            if department_of(code) == department
            and any(
                folded(period[2]) == wanted and overlaps(period, first, last)
                for period in self.communes[code]
            )
        )


def overlaps(period: Period, first: date | None, last: date | None) -> bool:
    """Whether ``period`` covers at least one day from ``first`` to ``last`` (included)."""
    start, end, _ = period
    return (start is None or last is None or start <= last) and (
        end is None or first is None or first < end
    )


def department_of(code: str) -> str:
    """The department a commune code belongs to: three characters overseas (971…, 975…)."""
    return code[:3] if code.startswith(("97", "98")) else code[:2]


def folded(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", ascii_name.lower()).strip()


@cache
def table() -> CogTable:
    """The shipped extract, read once."""
    return CogTable.read(files("broker.catalogue") / "data" / "cog.tsv.gz")


def commune_name(code: str, on: date | None = None) -> str | None:
    return table().commune_name(code, on)


def country_name(code: str, locale: str = "fr") -> str | None:
    return table().country_name(code, locale)


def communes_named(name: str, department: str, on: date | None = None) -> list[str]:
    return table().communes_named(name, department, on)


def communes_named_between(
    name: str, department: str, first: date | None, last: date | None
) -> list[str]:
    return table().communes_named_between(name, department, first, last)


def source() -> dict[str, str]:
    """Where the extract comes from: ``source``, ``edition``, ``built``, ``licence``,
    ``refresh``."""
    return dict(table().about)
