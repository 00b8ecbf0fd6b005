"""The birthplace of the identity mode from its name: ``nomCommuneNaissance`` with
``codeCogInseeDepartementNaissance`` and the birth date give the commune's COG code, as API
Particulier v3 transcodes it.

The name is looked up as the commune bore it on the date of birth (communes merge and change
names), within the whole span of possible days when the day or the month is unknown. No code,
or several, is the caller's to fix, and the answer says why: the name belonged to another
period (the commune was then called otherwise, or had been merged away), or several communes of
the department bore it (give ``codeCogInseeCommuneNaissance`` then).

Standard library only.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from broker.catalogue import cog

DEPARTMENT = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2[AB]|97[1-8]|98[4-9])$")


@dataclass(frozen=True)
class Transcoded:
    code: str | None  # the commune's COG code, None when the name does not give exactly one
    problem: str = ""  # why not, in French, for the 422 detail


def birth_span(year: int, month: int | None, day: int | None) -> tuple[date, date]:
    """Every day the person may have been born on, given what of the date is known."""
    if month is None:
        return date(year, 1, 1), date(year, 12, 31)
    if day is None:
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    return date(year, month, day), date(year, month, day)


def transcode(name: str, department: str, first: date, last: date) -> Transcoded:
    department = department.upper()
    codes = cog.communes_named_between(name, department, first, last)
    if len(codes) == 1:
        return Transcoded(codes[0])
    when = first.isoformat() if first == last else f"entre le {first} et le {last}"
    if codes:
        listed = ", ".join(f"{code} ({cog.commune_name(code, last)})" for code in codes)
        return Transcoded(
            None,
            f"Plusieurs communes du département {department} portaient ce nom à la date de "
            f"naissance ({when}) : {listed}. Donnez codeCogInseeCommuneNaissance.",
        )
    other_times = cog.communes_named(name, department)
    if not other_times:
        return Transcoded(
            None,
            f"Aucune commune du département {department} n'a porté ce nom dans le code "
            "officiel géographique de l'Insee.",
        )
    reasons = "; ".join(elsewhere(code, first, last) for code in other_times)
    return Transcoded(
        None,
        f"À la date de naissance ({when}), aucune commune du département {department} ne "
        f"portait ce nom ({reasons}) : donnez le nom de la commune à la date de naissance, "
        "ou codeCogInseeCommuneNaissance.",
    )


def elsewhere(code: str, first: date, last: date) -> str:
    """What the commune ``code`` was during the birth span, in French."""
    periods = cog.table().communes[code]
    ended = max((end for _, end, _ in periods if end is not None), default=None)
    if all(end is not None and end <= first for _, end, _ in periods) and ended is not None:
        return f"la commune {code} n'existait plus : fusionnée ou supprimée le {ended}"
    started = [start for start, _, _ in periods if start is not None]
    if started and len(started) == len(periods) and min(started) > last:
        return f"la commune {code} n'a été créée que le {min(started)}"
    return f"la commune {code} s'appelait alors {cog.commune_name(code, last)}"
