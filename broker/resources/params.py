"""Query parameters of the data API: the identity pivot, identifiers, product parameters and the
``recipient``, checked the way API Particulier v3 names them. Every problem is reported at once,
each with the parameter at fault; unknown parameters are refused rather than ignored, so that a
typo never turns into a silent "not found".

Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from broker.catalogue.products import (
    FRANCE_CONNECT,
    IDENTIFIER_PARAMETER,
    IDENTITE,
    IDENTITY_PARAMETERS,
    REQUIRED_IDENTITY,
    Param,
    Product,
)
from broker.catalogue.siret import valid_siret
from broker.providers.base import ProviderPivot
from broker.resources.birthplace import read_birthplace
from broker.resources.query_reader import QueryReader

# ASCII only: "\d" would also accept other scripts' digits, which int() then chokes on.
NAME = re.compile(r"^[^\W\d_]+(?:[ '\-][^\W\d_]+)*$")
INE = re.compile(r"^[0-9A-Z]{10}[A-Z]$")
FRANCE_TRAVAIL_ID = re.compile(r"^[0-9A-Z]{7,11}$")
UAI = re.compile(r"^([0-9]{7})([A-Z])$")
UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
RECIPIENT = "recipient"


@dataclass
class ParsedQuery:
    pivot: ProviderPivot | None = None
    identifier: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    recipient: str | None = None


class ParameterProblems(Exception):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{p}: {d}" for p, d in problems))
        self.problems = problems


def valid_uai(value: str) -> bool:
    match = UAI.match(value)
    return match is not None and UAI_LETTERS[int(match.group(1)) % 23] == match.group(2)


def _name(reader: QueryReader, name: str, required: bool) -> str | None:
    value = reader.one(name, required)
    if value is not None and (len(value) > 100 or not NAME.match(value)):
        reader.fail(name, "Attendu : des lettres, espaces, tirets ou apostrophes (100 au plus).")
        return None
    return value


def _pivot(
    reader: QueryReader, today: date, takes: frozenset[str], needs: frozenset[str]
) -> ProviderPivot | None:
    """``takes``: the identity parameters this product's identity mode takes; ``needs``: those
    it requires."""
    family_name = _name(reader, "nomNaissance", required=True)
    usage_name = _name(reader, "nomUsage", required=False) if "nomUsage" in takes else None
    given = reader.values("prenoms[]")
    if not given:
        reader.fail("prenoms[]", "Au moins un prénom est obligatoire (prenoms[]=…).")
    elif any(len(g) > 100 or not NAME.match(g) for g in given) or len(given) > 10:
        reader.fail(
            "prenoms[]",
            "Attendu : jusqu'à 10 prénoms, faits de lettres, espaces, tirets ou apostrophes.",
        )
    gender: str | None = ""
    if "sexeEtatCivil" in takes:
        gender = reader.one("sexeEtatCivil", required="sexeEtatCivil" in needs)
        if gender is not None and gender not in ("M", "F"):
            reader.fail("sexeEtatCivil", "Attendu : M ou F.")
        elif gender is None and "sexeEtatCivil" not in needs:
            gender = ""
    birthdate = _birthdate(reader, today, needs)
    country, commune = read_birthplace(reader, takes, birthdate)
    # A required value is None only when its problem was recorded.
    if reader.problems or family_name is None or gender is None or country is None:
        return None
    return ProviderPivot(
        family_name=family_name,
        given_names=tuple(given),
        gender=gender,
        birthdate=birthdate,
        birthcountry=country,
        birthplace=commune or "",
        usage_name=usage_name or "",
    )


def _birthdate(reader: QueryReader, today: date, needs: frozenset[str]) -> str:
    year = reader.integer("anneeDateNaissance", 1900, today.year, required=True)
    month = reader.integer("moisDateNaissance", 1, 12, "moisDateNaissance" in needs)
    day = reader.integer("jourDateNaissance", 1, 31, "jourDateNaissance" in needs)
    if day is not None and month is None and not reader.values("moisDateNaissance"):
        reader.fail("jourDateNaissance", "Le jour de naissance demande aussi le mois.")
    if year is not None and month is not None and day is not None:
        try:
            if date(year, month, day) > today:
                reader.fail("jourDateNaissance", "La date de naissance est dans le futur.")
        except ValueError:
            reader.fail("jourDateNaissance", "Cette date n'existe pas.")
    return f"{year or 0:04d}-{month or 0:02d}-{day or 0:02d}"


def _product_param(reader: QueryReader, param: Param, today: date) -> str | None:
    if param.kind == "year":
        value = reader.integer(param.name, 2000, today.year + 1, param.required)
        return None if value is None else str(value)
    if param.kind == "month":
        value = reader.integer(param.name, 1, 12, param.required)
        return None if value is None else str(value)
    if param.kind == "pattern" and param.name.endswith("[]"):
        return _pattern_list(reader, param)
    raw = reader.one(param.name, param.required)
    if raw is None:
        return None
    if param.kind == "pattern":
        if len(raw) > 100 or not re.fullmatch(param.pattern, raw.upper()):
            reader.fail(param.name, param.hint or "Ce paramètre n'a pas le format attendu.")
            return None
        return raw.upper()
    if param.kind == "uai" and not valid_uai(raw.upper()):
        reader.fail(param.name, "Attendu : un code UAI (7 chiffres et une lettre de contrôle).")
        return None
    if param.kind == "school_year":
        match = re.fullmatch(r"([0-9]{4})(?:-([0-9]{4}))?", raw)
        if not match or (match.group(2) and int(match.group(2)) != int(match.group(1)) + 1):
            reader.fail(param.name, "Attendu : une année scolaire, AAAA ou AAAA-AAAA.")
            return None
        start = int(match.group(1))
        return f"{start}-{start + 1}"
    return raw.upper() if param.kind == "uai" else raw


def _pattern_list(reader: QueryReader, param: Param) -> str | None:
    """A list parameter (``name[]=…&name[]=…``): every value checked, kept comma-joined."""
    values = [value.upper() for value in reader.values(param.name)]
    if not values:
        if param.required:
            reader.fail(param.name, "Ce paramètre est obligatoire.")
        return None
    if len(values) > 50 or any(
        len(value) > 100 or not re.fullmatch(param.pattern, value) for value in values
    ):
        reader.fail(param.name, param.hint or "Ce paramètre n'a pas le format attendu.")
        return None
    return ",".join(values)


def parse_query(
    query: Mapping[str, Sequence[str]],
    product: Product,
    mode: str,
    *,
    api_key: bool,
    today: date | None = None,
) -> ParsedQuery:
    """Raises :class:`ParameterProblems` listing every invalid, missing or unknown parameter."""
    today = today or date.today()
    reader = QueryReader(query)
    parsed = ParsedQuery()
    allowed = {RECIPIENT, *(p.name for p in product.params)}
    if mode == IDENTITE:
        takes = frozenset(product.identity_params or IDENTITY_PARAMETERS)
        # Every identity parameter is accepted: a client sends one identity to every product;
        # those this product does not take are neither checked nor passed on.
        allowed.update(IDENTITY_PARAMETERS)
        needs = frozenset(product.identity_required or REQUIRED_IDENTITY) & takes
        parsed.pivot = _pivot(reader, today, takes, needs)
    elif mode in IDENTIFIER_PARAMETER:
        name = IDENTIFIER_PARAMETER[mode]
        allowed.add(name)
        raw = reader.one(name, required=True)
        pattern = (
            re.compile(product.identifier_pattern)
            if product.identifier_pattern
            else INE
            if name == "ine"
            else FRANCE_TRAVAIL_ID
        )
        if raw is not None and not pattern.fullmatch(raw.upper()):
            reader.fail(name, "Cet identifiant n'a pas le format attendu.")
        elif raw is not None:
            parsed.identifier = raw.upper()
    for param in product.params:
        value = _product_param(reader, param, today)
        if value is not None:
            parsed.params[param.name] = value
    if "mois" in parsed.params and "annee" not in parsed.params:
        reader.fail("mois", "Le mois demande aussi l'année (annee).")
    recipient = reader.one(RECIPIENT, required=api_key or mode != FRANCE_CONNECT)
    if recipient is not None and not valid_siret(recipient):
        reader.fail(
            RECIPIENT,
            "Attendu : le SIRET (14 chiffres, clé de Luhn valide) de "
            "l'organisme public destinataire des données.",
        )
    parsed.recipient = recipient
    for name in query:
        if name not in allowed:
            reader.fail(name, "Paramètre inconnu pour ce produit et ce mode d'appel.")
    if reader.problems:
        raise ParameterProblems(reader.problems)
    return parsed
