"""Reading an :class:`ProviderPivot` the way adapters need to send it.

A pivot's birth date is ``YYYY-MM-DD`` with ``00`` for the parts the caller did not give (API-key
mode) or that the civil status does not know (presumed birth dates); :func:`birth_parts` turns it
into ``(year, month | None, day | None)``. Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from broker.providers.base import ProviderPivot

COG_FRANCE = "99100"
_BIRTHDATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class BirthParts:
    year: int
    month: int | None
    day: int | None

    @property
    def complete(self) -> bool:
        return self.month is not None and self.day is not None


def birth_parts(pivot: ProviderPivot) -> BirthParts | None:
    """The known parts of the birth date, or None when it is not ``YYYY-MM-DD``-shaped or gives
    a day without a month."""
    match = _BIRTHDATE.fullmatch(pivot.birthdate or "")
    if not match:
        return None
    year, month, day = (int(part) for part in match.groups())
    if month > 12 or day > 31 or (month == 0 and day != 0):
        return None
    return BirthParts(year, month or None, day or None)


def given_names(pivot: ProviderPivot) -> list[str]:
    """Each given name once, in order; a pivot may carry them as one space-separated string."""
    return [name for entry in pivot.given_names for name in entry.split() if name]


def born_in_france(pivot: ProviderPivot) -> bool:
    return pivot.birthcountry == COG_FRANCE
