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
from broker.resources.query_reader import BIRTH_DATE, QueryReader

# ASCII only: "\d" would also accept other scripts' digits.
COG_COUNTRY = re.compile(r"^99[0-9]{3}$")
COG_COMMUNE = re.compile(r"^(0[1-9]|[13-9][0-9]|2[AB1-9])[0-9]{3}$")
FRANCE = "99100"
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


def read_birthplace(
    reader: QueryReader, takes: frozenset[str], birthdate: str
) -> tuple[str | None, str | None]:
    """The country and commune codes of birth. The commune comes either as its COG code or as
    its name with its department, transcoded at the date of birth. A product that takes no
    country code takes a commune for a birth in France and nothing for a birth abroad ("")."""
    if "codeCogInseePaysNaissance" in takes:
        country = reader.one("codeCogInseePaysNaissance", required=True)
        if country is not None and not COG_COUNTRY.match(country):
            reader.fail(
                "codeCogInseePaysNaissance", "Attendu : un code pays COG de l'Insee (99xxx)."
            )
            country = None
    else:
        country = ""
    commune = None
    if "codeCogInseeCommuneNaissance" in takes:
        commune = reader.one("codeCogInseeCommuneNaissance")
        if commune is not None and not COG_COMMUNE.match(commune):
            reader.fail(
                "codeCogInseeCommuneNaissance",
                "Attendu : un code commune COG de l'Insee (5 caractères, 2A/2B en Corse).",
            )
            return country, None
    named = None
    if "nomCommuneNaissance" in takes:
        if reader.values("nomCommuneNaissance") or reader.values(
            "codeCogInseeDepartementNaissance"
        ):
            named = named_commune(reader, birthdate, given_code=commune is not None)
            if named is None:
                return country, None  # its problem is recorded
        commune = commune or named
    if country == "" and commune:
        country = FRANCE
    if country == FRANCE and commune is None and "codeCogInseeCommuneNaissance" in takes:
        reader.fail(
            "codeCogInseeCommuneNaissance",
            "Obligatoire pour une personne née en France (codeCogInseePaysNaissance=99100), "
            "ou bien nomCommuneNaissance avec codeCogInseeDepartementNaissance.",
        )
    elif country not in (None, "", FRANCE) and commune is not None:
        parameter = "nomCommuneNaissance" if named else "codeCogInseeCommuneNaissance"
        reader.fail(parameter, "Ne doit pas être donné pour une personne née hors de France.")
    return country, commune


def named_commune(reader: QueryReader, birthdate: str, given_code: bool) -> str | None:
    """The code of ``nomCommuneNaissance`` in ``codeCogInseeDepartementNaissance`` at the date
    of birth; None when a problem was recorded."""
    name = reader.one("nomCommuneNaissance")
    department = reader.one("codeCogInseeDepartementNaissance")
    if given_code:
        reader.fail(
            "nomCommuneNaissance",
            "Donnez soit codeCogInseeCommuneNaissance, soit nomCommuneNaissance avec "
            "codeCogInseeDepartementNaissance, pas les deux.",
        )
        return None
    if name is None or len(name) > 100:
        reader.fail("nomCommuneNaissance", "Obligatoire avec codeCogInseeDepartementNaissance.")
        return None
    if department is None or not DEPARTMENT.match(department.upper()):
        reader.fail(
            "codeCogInseeDepartementNaissance",
            "Attendu avec nomCommuneNaissance : un code de département de l'Insee "
            "(01 à 95, 2A, 2B, 971 à 978).",
        )
        return None
    year, month, day = (int(part) for part in birthdate.split("-"))
    if year == 0 or any(parameter in BIRTH_DATE for parameter, _ in reader.problems):
        return None  # the date is needed and was refused: said once, on the date
    first, last = birth_span(year, month or None, day or None)
    found = transcode(name, department, first, last)
    if found.code is None:
        reader.fail("nomCommuneNaissance", found.problem)
        return None
    return found.code
