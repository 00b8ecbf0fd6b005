"""The query parameters of each product and mode, as OpenAPI 3.1 parameter objects.

They say what ``broker.resources.params`` enforces: which parameters each mode takes, which are
required, their patterns and bounds. Rules that span parameters (the commune is required for
people born in France and refused otherwise, the day needs the month, the SIRET's Luhn key)
cannot be written as a schema: their descriptions state them. Patterns are written for any
JSON Schema regex engine (no ``\\w`` or ``\\p{L}``): the name pattern covers the Latin letters,
a subset of the letters the server accepts. Standard library only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from broker.catalogue.products import (
    FRANCE_CONNECT,
    IDENTIFIER_PARAMETER,
    IDENTITE,
    IDENTITY_PARAMETERS,
    REQUIRED_IDENTITY,
    Param,
    Product,
)
from broker.resources.openapi_schemas import SIRET_PATTERN
from broker.resources.params import RECIPIENT

_LETTER = "[A-Za-zÀ-ÖØ-öø-ɏ]"
NAME_PATTERN = f"^{_LETTER}+(?:[ '-]{_LETTER}+)*$"
IDENTIFIER_PATTERNS = {"ine": r"^[0-9A-Za-z]{10}[A-Za-z]$", "identifiant": r"^[0-9A-Za-z]{7,11}$"}
_NAME_TEXT = (
    "Lettres, espaces, tirets ou apostrophes, 100 caractères au plus. "
    "Letters, spaces, hyphens or apostrophes, 100 characters at most."
)


def _query(
    name: str, schema: dict[str, Any], description: str, required: bool = False, **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
        **extra,
    }


def _name(name: str, what: str, required: bool) -> dict[str, Any]:
    schema = {"type": "string", "maxLength": 100, "pattern": NAME_PATTERN}
    return _query(name, schema, f"{what} {_NAME_TEXT}", required)


def identity_parameters(
    today: date, takes: tuple[str, ...] | None = None, needs: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    """The identity pivot of the ``identite`` mode, in ``IDENTITY_PARAMETERS`` order: those
    ``takes`` names (a product's ``identity_params``), all of them when None; required, those
    ``needs`` names (its ``identity_required``; ``REQUIRED_IDENTITY`` when empty or None, as
    params.py reads it)."""
    found = {
        "nomNaissance": _name("nomNaissance", "Nom de naissance (birth name).", True),
        "nomUsage": _name("nomUsage", "Nom d'usage (usual name), facultatif.", False),
        "prenoms[]": _query(
            "prenoms[]",
            {
                "type": "array",
                "minItems": 1,
                "maxItems": 10,
                "items": {"type": "string", "maxLength": 100, "pattern": NAME_PATTERN},
            },
            "Prénoms, un par valeur, dans l'ordre de l'état civil (1 à 10). Given names, one "
            f"per value, in civil-status order (1 to 10). {_NAME_TEXT}",
            True,
            style="form",
            explode=True,
        ),
        "anneeDateNaissance": _query(
            "anneeDateNaissance",
            {"type": "integer", "minimum": 1900, "maximum": today.year},
            "Année de naissance. Year of birth.",
            True,
        ),
        "moisDateNaissance": _query(
            "moisDateNaissance",
            {"type": "integer", "minimum": 1, "maximum": 12},
            "Mois de naissance. Month of birth.",
        ),
        "jourDateNaissance": _query(
            "jourDateNaissance",
            {"type": "integer", "minimum": 1, "maximum": 31},
            "Jour de naissance ; demande le mois, la date doit exister et être passée. Day of "
            "birth; needs the month, and the date must exist and be past.",
        ),
        "sexeEtatCivil": _query(
            "sexeEtatCivil",
            {"type": "string", "enum": ["F", "M"]},
            "Sexe à l'état civil. Sex in the civil status.",
            True,
        ),
        "codeCogInseePaysNaissance": _query(
            "codeCogInseePaysNaissance",
            {"type": "string", "pattern": r"^99\d{3}$"},
            "Pays de naissance, code COG de l'Insee (99100 : France). Country of birth, INSEE "
            "COG code (99100: France).",
            True,
        ),
        "codeCogInseeCommuneNaissance": _query(
            "codeCogInseeCommuneNaissance",
            {"type": "string", "pattern": r"^(0[1-9]|[13-9]\d|2[AB1-9])\d{3}$"},
            "Commune de naissance, code COG de l'Insee (2A/2B en Corse) : pour une personne née "
            "en France, ce code ou bien nomCommuneNaissance avec "
            "codeCogInseeDepartementNaissance ; refusé pour une naissance à l'étranger. Commune "
            "of birth, INSEE COG code (2A/2B in Corsica): for people born in France, this code "
            "or else nomCommuneNaissance with codeCogInseeDepartementNaissance; refused for a "
            "birth abroad.",
        ),
        "nomCommuneNaissance": _query(
            "nomCommuneNaissance",
            {"type": "string", "minLength": 1, "maxLength": 100},
            "Nom de la commune de naissance en France, au lieu de son code : avec "
            "codeCogInseeDepartementNaissance et l'année de naissance. Name of the commune of "
            "birth in France, instead of its code: with codeCogInseeDepartementNaissance and "
            "the year of birth.",
        ),
        "codeCogInseeDepartementNaissance": _query(
            "codeCogInseeDepartementNaissance",
            {"type": "string", "pattern": r"^(0[1-9]|[1-8]\d|9[0-5]|2[ABab]|97[1-6])$"},
            "Département de naissance, code COG de l'Insee, avec nomCommuneNaissance. "
            "Department of birth, INSEE COG code, with nomCommuneNaissance.",
        ),
    }
    wanted = IDENTITY_PARAMETERS if takes is None else takes
    required = frozenset(needs or REQUIRED_IDENTITY)
    return [
        {**found[name], "required": name in required}
        for name in IDENTITY_PARAMETERS
        if name in wanted
    ]


# What the ``identifiant`` mode names, per provider: each provider has its own identifier.
# (French, English), as in "par l'identifiant France Travail", "named by their ...".
PROVIDER_IDENTIFIERS = {
    "france_travail": (
        "l'identifiant France Travail du demandeur d'emploi",
        "the jobseeker's France Travail identifier",
    ),
    "sdh": (
        "le numéro du sportif au ministère des Sports",
        "the athlete's number at the Ministry of Sports",
    ),
}
INE_NAMES = ("l'identifiant national étudiant (INE)", "the national student identifier (INE)")


def identifier_names(product: Product, mode: str) -> tuple[str, str]:
    """What the identifier of ``product`` in ``mode`` is, in French and English. A provider
    missing from ``PROVIDER_IDENTIFIERS`` is a KeyError: never another provider's words."""
    return INE_NAMES if mode == "ine" else PROVIDER_IDENTIFIERS[product.provider]


def identifier_parameter(product: Product, mode: str) -> dict[str, Any]:
    """The identifier in ``mode``, in the product's own format when it has one
    (``Product.identifier_pattern``)."""
    name = IDENTIFIER_PARAMETER[mode]
    pattern = product.identifier_pattern
    french, english = identifier_names(product, mode)
    return _query(
        name,
        {"type": "string", "pattern": f"^(?:{pattern})$" if pattern else IDENTIFIER_PATTERNS[name]},
        f"{french[0].upper()}{french[1:]}. {english[0].upper()}{english[1:]}. Insensible à la "
        "casse. Case-insensitive.",
        True,
    )


def product_parameter(param: Param, today: date) -> dict[str, Any]:
    kinds: dict[str, tuple[dict[str, Any], str]] = {
        "year": ({"type": "integer", "minimum": 2000, "maximum": today.year + 1}, "Année (year)."),
        "month": (
            {"type": "integer", "minimum": 1, "maximum": 12},
            "Mois, avec l'année. Month, together with the year.",
        ),
        "uai": (
            {"type": "string", "pattern": r"^\d{7}[A-Za-z]$"},
            (
                "Code UAI de l'établissement : 7 chiffres et la lettre de contrôle. "
                "The school's UAI code: 7 digits and its check letter."
            ),
        ),
        "school_year": (
            {"type": "string", "pattern": r"^\d{4}(-\d{4})?$"},
            (
                "Année scolaire, AAAA ou AAAA-AAAA (années consécutives). "
                "School year, YYYY or YYYY-YYYY (consecutive years)."
            ),
        ),
    }
    if param.kind == "pattern":
        return _pattern_parameter(param)
    schema, description = kinds.get(param.kind, ({"type": "string"}, param.name))
    return _query(param.name, schema, description, param.required)


def _pattern_parameter(param: Param) -> dict[str, Any]:
    """A value checked against ``param.pattern`` (upper-cased); a ``name[]`` parameter is a
    list, given as the parameter repeated (or as one comma-separated value)."""
    schema: dict[str, Any] = {"type": "string", "pattern": f"^(?:{param.pattern})$"}
    if param.name.endswith("[]"):
        array = {"type": "array", "minItems": 1, "items": schema}
        return _query(param.name, array, param.hint, param.required, style="form", explode=True)
    return _query(param.name, schema, param.hint, param.required)


def recipient_parameter(mode: str) -> dict[str, Any]:
    optional = mode == FRANCE_CONNECT
    return _query(
        RECIPIENT,
        {"type": "string", "pattern": SIRET_PATTERN},
        "SIRET (14 chiffres, clé de Luhn) de l'organisme public destinataire des données"
        + (", facultatif avec le jeton d'un usager" if optional else "")
        + ". SIRET (14 digits, Luhn key) of the public body receiving the data"
        + (", optional with a citizen's token." if optional else "."),
        not optional,
    )


def parameters_for(product: Product, mode: str, today: date) -> list[dict[str, Any]]:
    """Every query parameter the data API accepts for this product and mode; any other one is
    refused (422), so that a typo never becomes a silent "not found"."""
    found: list[dict[str, Any]] = []
    if mode == IDENTITE:
        found.extend(identity_parameters(today, product.identity_params, product.identity_required))
    elif mode in IDENTIFIER_PARAMETER:
        found.append(identifier_parameter(product, mode))
    found.extend(product_parameter(param, today) for param in product.params)
    found.append(recipient_parameter(mode))
    return found
