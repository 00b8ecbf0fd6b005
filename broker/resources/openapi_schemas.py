"""JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of the data API's answers, built from the
scope registry rather than written per product.

A product's ``data`` object is the tree of the field paths its scopes unlock (``[]`` marks a
list): what masking can let out, and nothing else. So every object built from the paths is
closed (``additionalProperties: false``), except a path the registry releases whole (``pac``),
whose content is the provider's. No property is required, since a caller sees only what its
scopes unlock, and every value may be null (providers leave facts out).

The registry names fields, not types: leaf types follow API Particulier v3's naming
conventions (``est_*`` booleans, ``date_*`` dates, ``montant_*`` amounts...), with the few
exceptions spelt out by path. Standard library only.
"""

from __future__ import annotations

import re
from typing import Any

from broker.catalogue.products import Product
from broker.catalogue.scopes import fields_for
from broker.resources.errors import PROVIDER_CODES, SIADE_NAMES

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
REQUEST_ID_PATTERN = r"^[A-Za-z0-9._-]{8,64}$"  # broker.core.request_context.INCOMING_ID
SIRET_PATTERN = r"^\d{14}$"

# Leaves whose type the naming conventions below would get wrong.
_TYPE_BY_PATH: dict[str, dict[str, Any]] = {
    "echelon_bourse.echelon": {
        "type": ["string", "null"],
        "description": "« 0bis » ou « 1 » à « 7 ».",
    },
    "echelon_bourse": {"type": ["integer", "null"]},
    "inscription.categorie.code": {"type": ["integer", "null"]},
    "statut_service_national": {  # the DSNJ's
        "type": ["string", "null"],
        "enum": ["en_regle", "pas_en_regle", "indetermine", "non_concerne", None],
        "description": "indetermine : situation pas encore connue ; non_concerne : hors des "
        "obligations du service national. indetermine: not known yet; non_concerne: outside "
        "the national-service obligations.",
    },
    "status": {  # the AEEH's
        "type": ["string", "null"],
        "enum": ["allocataire", "ouvrant_droit", "non_beneficiaire", None],
        "description": "allocataire : le parent qui la perçoit ; ouvrant_droit : l'enfant. "
        "allocataire: the parent paid; ouvrant_droit: the child.",
    },
}
# ... and those whose type depends on the provider (the same path, another provider's type).
_TYPE_BY_PROVIDER_PATH: dict[tuple[str, str], dict[str, Any]] = {
    ("cnous", "identite.prenoms"): {"type": ["array", "null"], "items": {"type": "string"}},
    ("sdh", "informations_statut.categorie.valeur"): {"type": ["string", "null"]},
    ("sdh", "informations_statuts_precedents.categorie.valeur"): {"type": ["string", "null"]},
    ("sdh", "informations_statuts_precedents.fiche"): {"type": ["integer", "null"]},
}
_BOOLEAN_PREFIXES = ("est_", "avec_")
_BOOLEANS = {
    "echelon_bourse_regionale_provisoire",
    "pariso",
    "contrat_trouve",
    "a_ete_sportif_de_haut_niveau",
    "sportif_de_haut_niveau",
}
_DATE_PREFIXES = ("date_", "dateNais")
_INTEGERS = {
    "valeur",
    "annee",
    "mois",
    "annee_calcul",
    "mois_calcul",
    "duree",
    "rfr",
    "nbPac",
    "nombre_enfants_a_charge",
    "nombre_enfants_beneficiaire_aeeh",
    "annee_date_naissance",
    "mois_date_naissance",
    "jour_date_naissance",
}
_NUMBER_PREFIXES = ("montant_",)
_NUMBERS = {"nbPart", "masse_charge_maximale", "cylindree", "taux_co2"}


def _nullable(kind: str) -> list[str]:
    return [kind, "null"]


def leaf_schema(path: str, provider: str = "") -> dict[str, Any]:
    """The schema of one released field, from its path (``allocataires[].date_naissance``) and
    the provider answering it."""
    plain = path.replace("[]", "")
    if (provider, plain) in _TYPE_BY_PROVIDER_PATH:
        return dict(_TYPE_BY_PROVIDER_PATH[provider, plain])
    if plain in _TYPE_BY_PATH:
        return dict(_TYPE_BY_PATH[plain])
    name = plain.rsplit(".", 1)[-1]
    if name.startswith(_BOOLEAN_PREFIXES) or name in _BOOLEANS:
        return {"type": _nullable("boolean")}
    if name.startswith(_DATE_PREFIXES):
        return {
            "type": _nullable("string"),
            "pattern": DATE_PATTERN,
            "description": "AAAA-MM-JJ ; 00 pour une partie inconnue (date présumée).",
        }
    if name in _INTEGERS:
        return {"type": _nullable("integer")}
    if name.startswith(_NUMBER_PREFIXES) or name in _NUMBERS:
        return {"type": _nullable("number")}
    return {"type": _nullable("string")}


class _Node:
    """One segment of the field tree: its children, and the scopes releasing it whole."""

    def __init__(self, path: str, provider: str) -> None:
        self.path = path
        self.provider = provider
        self.children: dict[str, _Node] = {}
        self.scopes: list[str] = []

    def add(self, parts: list[str], scope: str) -> None:
        if not parts:
            if scope not in self.scopes:
                self.scopes.append(scope)
            return
        head = parts[0]
        child_path = f"{self.path}.{head}" if self.path else head
        child = self.children.setdefault(head, _Node(child_path, self.provider))
        child.add(parts[1:], scope)

    def schema(self) -> dict[str, Any]:
        released_whole = bool(self.scopes)
        if self.children:
            schema: dict[str, Any] = {
                "type": _nullable("object"),
                "properties": {
                    name.removesuffix("[]"): child.item_schema(name)
                    for name, child in self.children.items()
                },
            }
            if not released_whole:
                schema["additionalProperties"] = False
        else:
            schema = leaf_schema(self.path, self.provider)
        if released_whole:
            scopes = ", ".join(f"`{s}`" for s in self.scopes)
            schema["description"] = (
                f"{schema['description']} " if "description" in schema else ""
            ) + f"Scope : {scopes}."
        return schema

    def item_schema(self, name: str) -> dict[str, Any]:
        """A child as it appears under ``name``: a list of items when the name ends in ``[]``."""
        inner = self.schema()
        if not name.endswith("[]"):
            return inner
        items = dict(inner)
        kinds = [t for t in inner["type"] if t != "null"]
        items["type"] = kinds[0] if len(kinds) == 1 else kinds
        description = items.pop("description", None)
        listed: dict[str, Any] = {"type": _nullable("array"), "items": items}
        if description:
            listed["description"] = description
        return listed


def data_schema(product: Product) -> dict[str, Any]:
    """The ``data`` object of ``product``: every field its scopes unlock."""
    root = _Node("", product.provider)
    for scope in product.scopes():
        for path in fields_for(scope, product.path):
            root.add(path.split("."), scope.name)
    schema = root.schema()
    schema["type"] = "object"  # the envelope's data is never null
    schema["description"] = (
        "Les champs que débloquent les scopes de l'appelant, et eux seuls. "
        "Fields unlocked by the caller's scopes, and only those."
    )
    return schema


def schema_name(product: Product, suffix: str) -> str:
    """``dss/quotient_familial`` -> ``DssQuotientFamilial`` + suffix (a component name)."""
    return "".join(part.capitalize() for part in re.split(r"[/_]", product.key)) + suffix


def success_schema(data_ref: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["data", "links", "meta"],
        "properties": {
            "data": {"$ref": data_ref},
            "links": {"type": "object"},
            "meta": {"type": "object"},
        },
        "additionalProperties": False,
    }


ERROR_ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "title", "detail", "source", "meta"],
    "properties": {
        "code": {
            "type": "string",
            "pattern": r"^\d{5}$",
            "description": "XXYYY : XX le fournisseur (00 la plateforme), YYY l'erreur. "
            "XX names the provider (00 the platform), YYY the error.",
        },
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "source": {
            "type": _nullable("object"),
            "required": ["parameter"],
            "properties": {"parameter": {"type": "string"}},
            "additionalProperties": False,
            "description": "Le paramètre en cause. The query parameter at fault.",
        },
        "meta": {
            "type": "object",
            "properties": {
                "provider": {  # siade's name of who answered ("CNAF & MSA", "RNCPS")
                    "type": "string",
                    "enum": sorted(SIADE_NAMES),
                },
                "retry_in": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Secondes avant de réessayer. Seconds to wait.",
                },
                "introspect": {  # errors.forbidden's, made absolute by the API
                    "type": "string",
                    "description": "Où lister vos droits (GET /v3/introspect). Where to list "
                    "your rights.",
                },
                "allowed_recipients": {  # recipients.recipient_refused's
                    "type": "array",
                    "items": {"type": "string", "pattern": SIRET_PATTERN},
                    "description": "Les SIRET destinataires de l'habilitation. The recipients "
                    "the habilitation allows.",
                },
            },
        },
    },
    "additionalProperties": False,
}

ERRORS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {"$ref": "#/components/schemas/ErrorItem"},
        }
    },
    "additionalProperties": False,
}

PING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"const": "ok"}},
    "additionalProperties": False,
}

PROVIDER_PING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "provider"],
    "properties": {
        "status": {"const": "ok"},
        "provider": {"type": "string", "enum": sorted(PROVIDER_CODES)},
    },
    "additionalProperties": False,
}


def _closed(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object with exactly these properties, all present but ``optional``."""
    return {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "properties": properties,
        "additionalProperties": False,
    }


_STRING = {"type": "string"}
_STRINGS = {"type": "array", "items": _STRING}
_TIMESTAMP = {"type": ["integer", "null"], "description": "Horodatage Unix. Unix time."}

# ``GET /v3/introspect``: ``broker.resources.rights.describe``'s answer.
INTROSPECT_SCHEMA: dict[str, Any] = _closed(
    {
        "_id": {
            **_STRING,
            "description": "La clé d'API, ou le jti du jeton. The key's id or the token's jti.",
        },
        "name": {**_STRING, "description": "Le nom de la clé, ou du client du jeton."},
        "scopes": {**_STRINGS, "description": "Les scopes de données du jeton ou de la clé."},
        "credential": _closed(
            {
                "type": {"type": "string", "enum": ["api_key", "access_token"]},
                "expires_at": {
                    **_TIMESTAMP,
                    "description": "Fin du jeton ; null pour une clé (son habilitation "
                    "expire). The token's expiry; null for a key.",
                },
                "client_id": {"type": ["string", "null"]},
                "dpop_bound": {"type": "boolean"},
                "consent_expires_at": {
                    **_TIMESTAMP,
                    "description": "Fin du consentement de l'usager. When the citizen's "
                    "consent ends.",
                },
            },
            optional=("client_id", "dpop_bound", "consent_expires_at"),  # tokens only
        ),
        "service": _closed({"id": _STRING, "name": _STRING}),
        "habilitation": _closed(
            {
                "id": _STRING,
                "status": {"type": "string", "enum": ["active", "expired", "revoked"]},
                "purpose": _STRING,
                "legal_basis": _STRING,
                "legal_basis_url": {"type": ["string", "null"]},
                "expires_at": _TIMESTAMP,
            }
        ),
        "rate_limit": _closed(
            {
                "limit": {"type": "integer", "minimum": 1},
                "window_seconds": {"type": "integer", "minimum": 1},
                "platform_default": {"type": "boolean"},
            }
        ),
        "allowed_recipients": {
            "type": "array",
            "items": {"type": "string", "pattern": SIRET_PATTERN},
            "description": "Les SIRET à qui les données peuvent être transmises (recipient) ; "
            "vide : à personne. The recipients allowed; empty: none.",
        },
        "recipient_required": {"type": "boolean"},
        "providers": {
            "type": "array",
            "items": _closed(
                {
                    "key": {"type": "string", "enum": sorted(PROVIDER_CODES)},
                    "name": _STRING,
                    "scopes": {
                        "type": "array",
                        "items": _closed({"name": _STRING, "label": _STRING}),
                    },
                }
            ),
        },
        "products": {
            "type": "array",
            "description": "Les produits que le jeton ou la clé peut appeler maintenant, et "
            "leurs routes. The products callable now, and their routes.",
            "items": _closed(
                {
                    "key": _STRING,
                    "title": _STRING,
                    "provider": {"type": "string", "enum": sorted(PROVIDER_CODES)},
                    "scopes": _STRINGS,
                    "routes": _STRINGS,
                }
            ),
        },
    }
)

# ``GET /.well-known/oauth-protected-resource``: RFC 9728 §2, as
# ``broker.resources.resource_metadata.protected_resource_metadata`` fills it.
RESOURCE_METADATA_SCHEMA: dict[str, Any] = _closed(
    {
        "resource": {**_STRING, "description": "L'identifiant de l'API, audience des jetons."},
        "authorization_servers": {**_STRINGS, "minItems": 1},
        "scopes_supported": _STRINGS,
        "bearer_methods_supported": {"type": "array", "items": {"const": "header"}},
        "dpop_signing_alg_values_supported": _STRINGS,
        "dpop_bound_access_tokens_required": {"type": "boolean"},
        "resource_name": _STRING,
        "resource_documentation": _STRING,
    }
)
