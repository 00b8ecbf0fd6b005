"""How the simulators recognise a person from what a caller sent: the identity pivot rules.

Real providers match on the civil-status identity (birth name, given names, birth date, sex,
and birth place or country when given). The simulators apply one documented rule set
(``docs/simulators.md``, "Matching rules"):

* names are compared normalised: accents removed, upper case, hyphens, apostrophes, dots and
  underscores read as spaces, runs of spaces collapsed; the *birth* name must match (the usage
  name is never used to match);
* given names: what was sent must be the citizen's first given name, or the first two, ... or all
  of them, in order (so an API-key caller may give only the first one; "Anne-Laure" is one name:
  "Anne" alone does not match it, "Anne Laure" does);
* birth date: the year must match; the month and the day are compared when sent; a part that is
  unknown in the civil status ("presumed" ``00``) never matches a sent value;
* sex must match when the provider receives it; birth country and birth commune (COG codes) must
  match when sent;
* more than one candidate is no match (the simulators never guess between two people).

Scenario citizens (``broker.demo.scenarios``) are matched by the same rules, before anyone else.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from broker.demo.citizens import CITIZENS, DemoCitizen
from broker.demo.scenarios import SCENARIO_CITIZENS

POPULATION: tuple[DemoCitizen, ...] = SCENARIO_CITIZENS + CITIZENS
_SEPARATORS = re.compile(r"[-‐‑‒–—'’`´._]+")


@dataclass(frozen=True)
class IdentityQuery:
    """What a caller sent, already parsed from the provider's wire format."""

    family_name: str
    given_names: tuple[str, ...]
    year: int
    month: int | None = None
    day: int | None = None
    gender: str | None = None  # "F" | "M"; None when the provider does not receive it
    birthcountry: str | None = None
    birthplace: str | None = None


def normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_SEPARATORS.sub(" ", stripped).upper().split())


def given_names_match(sent: Iterable[str], known: str) -> bool:
    sent_tokens = normalise(" ".join(sent)).split()
    if not sent_tokens:
        return False
    prefix: list[str] = []
    for name in known.split():
        prefix += normalise(name).split()
        if prefix == sent_tokens:
            return True
        if len(prefix) >= len(sent_tokens):
            return False
    return False


def birthdate_matches(query: IdentityQuery, birthdate: str) -> bool:
    year, month, day = (int(part) for part in birthdate.split("-"))
    if query.year != year:
        return False
    if query.month is not None and query.month != month:
        return False
    return query.day is None or query.day == day


def gender_code(citizen_gender: str) -> str:
    return "F" if citizen_gender == "female" else "M"


def matches(query: IdentityQuery, citizen: DemoCitizen) -> bool:
    return (
        normalise(query.family_name) == normalise(citizen.family_name)
        and given_names_match(query.given_names, citizen.given_name)
        and birthdate_matches(query, citizen.birthdate)
        and (query.gender is None or query.gender == gender_code(citizen.gender))
        and (not query.birthcountry or query.birthcountry == citizen.birthcountry)
        and (not query.birthplace or query.birthplace.upper() == citizen.birthplace)
    )


def find(
    query: IdentityQuery, population: Sequence[DemoCitizen] = POPULATION
) -> DemoCitizen | None:
    """The one citizen matching the query, or None (nobody, or more than one)."""
    found = [citizen for citizen in population if matches(query, citizen)]
    return found[0] if len(found) == 1 else None
