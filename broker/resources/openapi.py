"""The data API's OpenAPI 3.1 document, generated from the catalogue.

Paths come from ``PRODUCTS`` (one per product and mode), response schemas from the scope
registry (``openapi_schemas``), parameters from what ``params.py`` enforces
(``openapi_params``), error bodies from ``errors.py`` itself and examples from the caller (the
data API's composition root gives the demo citizens', ``broker.demo.openapi_examples``).
Nothing here is written per product, so the document cannot
drift from the code: a product or a scope added to the catalogue appears in it as it is.

Standard library and broker modules only (no Litestar): ``openapi_document`` returns a plain
dict, for any route or tool to serve as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from broker.catalogue.products import FRANCE_CONNECT, PRODUCTS, Product
from broker.catalogue.scopes import REGISTRY
from broker.providers import base
from broker.resources import errors
from broker.resources.openapi_params import parameters_for
from broker.resources.openapi_schemas import (
    ERROR_ITEM_SCHEMA,
    ERRORS_SCHEMA,
    PING_SCHEMA,
    PROVIDER_PING_SCHEMA,
    REQUEST_ID_PATTERN,
    data_schema,
    schema_name,
    success_schema,
)
from broker.resources.params import RECIPIENT

JSON = "application/json"
MISSING = "Ce paramètre est obligatoire."  # params.py's words for a missing parameter
PLATFORM_TAG = "plateforme"
MODES_TEXT = {  # (French summary suffix, English description)
    FRANCE_CONNECT: (
        "avec le jeton de l'usager",
        (
            "France Connect mode: the citizen is the one signed in; their access token is the "
            "credential and carries the identity."
        ),
    ),
    "identite": (
        "par l'identité pivot",
        "Identity mode: the citizen's identity pivot is given in the query.",
    ),
    "ine": ("par l'INE", "INE mode: the citizen is named by their national student identifier."),
    "identifiant": (
        "par l'identifiant France Travail",
        "Identifier mode: the jobseeker is named by their France Travail identifier.",
    ),
}
CREDENTIAL_TEXT = {  # keyed by "is France Connect mode"
    True: "Credential: the citizen's access token; an API key is refused (403).",
    False: "Credential: an API key (Authorization: Bearer bpk_… or X-Api-Key); a citizen's "
    "token is refused (403).",
}
CITIZEN_TOKEN = "citizenAccessToken"
API_KEY_SECURITY: list[dict[str, list[str]]] = [{"apiKeyBearer": []}, {"apiKeyHeader": []}]


class Example(Protocol):
    """A worked example of one product: a citizen asked about and what the API answers."""

    @property
    def login(self) -> str: ...

    @property
    def mode(self) -> str: ...

    @property
    def data(self) -> dict[str, Any]: ...

    def query(self, mode: str) -> dict[str, Any]:
        """The query parameters a client sends about this citizen in ``mode``."""


# A product key -> its worked example, if there is one.
Examples = Callable[[str], Example | None]
SECURITY_SCHEMES = {
    CITIZEN_TOKEN: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "Jeton d'accès d'un usager, délivré par le courtier après sa connexion "
        "FranceConnect et son consentement (mode france_connect). A citizen's "
        "access token from the broker, after sign-in and consent.",
    },
    "apiKeyBearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "bpk_…",
        "description": "Clé d'API d'une habilitation : « Authorization: Bearer bpk_… ». An API "
        "key bound to a habilitation, as a bearer credential.",
    },
    "apiKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Api-Key",
        "description": "La même clé d'API dans « X-Api-Key: bpk_… ». The same API key in the "
        "X-Api-Key header.",
    },
}


def _header(description: str, schema: dict[str, Any], required: bool) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": schema}


def _headers(rate_limited: bool | None, retry_after: bool | None = None) -> dict[str, Any]:
    """Response headers; ``None`` leaves a header out, ``False`` makes it optional."""
    headers = {
        "X-Request-ID": _header(
            "Identifiant de la requête, à citer au support. The request id, for support.",
            {"type": "string", "pattern": REQUEST_ID_PATTERN},
            True,
        )
    }
    if rate_limited is not None:
        for name, minimum, text in (
            ("RateLimit-Limit", 1, "Requêtes permises par seconde."),
            ("RateLimit-Remaining", 0, "Requêtes restantes."),
            ("RateLimit-Reset", 1, "Secondes avant la fenêtre suivante."),
        ):
            headers[name] = _header(text, {"type": "integer", "minimum": minimum}, rate_limited)
    if retry_after is not None:
        headers["Retry-After"] = _header(
            "Secondes avant de réessayer. Seconds to wait.",
            {"type": "integer", "minimum": 0},
            retry_after,
        )
    return headers


def _error_response(
    description: str, bodies: dict[str, errors.ApiError], headers: dict[str, Any]
) -> dict[str, Any]:
    examples = {name: {"value": error.body()} for name, error in bodies.items()}
    return {
        "description": description,
        "headers": headers,
        "content": {
            JSON: {"schema": {"$ref": "#/components/schemas/Errors"}, "examples": examples}
        },
    }


def _platform_responses() -> dict[str, Any]:
    return {
        "Unauthorized": _error_response(
            "Jeton ou clé d'API absent, invalide, expiré ou révoqué. Missing or invalid "
            "credential.",
            {"missing": errors.unauthorized("Aucun jeton ni clé d'API.")},
            _headers(None),
        ),
        "Forbidden": _error_response(
            "Le jeton ou la clé ne couvre pas ce produit ou ce mode. The credential does not "
            "cover this product or mode.",
            {
                "scope": errors.forbidden(
                    "Ce jeton ou cette clé ne porte aucun des scopes de ce produit."
                )
            },
            _headers(None),
        ),
        "RateLimited": _error_response(
            "Trop de requêtes pour ce jeton ou cette clé. Rate limit reached.",
            {"rate_limited": errors.rate_limited(1)},
            _headers(True, retry_after=True),
        ),
    }


def _provider_responses(provider: str) -> dict[str, Any]:
    """The errors whose code names ``provider``, built by ``errors.py`` itself."""
    outcome = errors.from_outcome
    return {
        f"NotFound.{provider}": _error_response(
            "Aucun dossier ne correspond. No record matches.",
            {"not_found": outcome(provider, base.NotFound("aucun dossier"))},
            _headers(False),
        ),
        f"InvalidParameters.{provider}": _error_response(
            "Paramètres invalides, manquants ou inconnus (tous signalés). Invalid, missing or "
            "unknown parameters (all reported).",
            {
                "missing": errors.invalid_parameters([(RECIPIENT, MISSING)]),
                "refused_by_provider": outcome(
                    provider, base.InvalidInput("refusé", "nomNaissance")
                ),
            },
            _headers(True),
        ),
        f"BadGateway.{provider}": _error_response(
            "Réponse inexploitable du fournisseur. Unusable answer from the provider.",
            {"provider_error": outcome(provider, base.UnexpectedPayload("shape"))},
            _headers(False),
        ),
        f"Unavailable.{provider}": _error_response(
            "Fournisseur indisponible ou en maintenance (Retry-After), ou journal "
            "indisponible. Provider unavailable or in maintenance, or journal unavailable.",
            {
                "maintenance": outcome(provider, base.Maintenance(retry_in=600)),
                "unavailable": outcome(provider, base.Unavailable("down")),
                "journal": errors.journal_unavailable(),
            },
            _headers(False, retry_after=False),
        ),
        f"GatewayTimeout.{provider}": _error_response(
            "Le fournisseur n'a pas répondu à temps. The provider timed out.",
            {"timeout": outcome(provider, base.Timeout("slow"))},
            _headers(False),
        ),
    }


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _provider_error_refs(provider: str, statuses: tuple[str, ...]) -> dict[str, Any]:
    names = {
        "404": "NotFound",
        "422": "InvalidParameters",
        "502": "BadGateway",
        "503": "Unavailable",
        "504": "GatewayTimeout",
    }
    return {status: _ref("responses", f"{names[status]}.{provider}") for status in statuses}


def _scopes_text(product: Product) -> str:
    lines = [f"- `{s.name}` : {s.label_fr} ({s.label_en})" for s in product.scopes()]
    return "Scopes (au moins un ; at least one):\n\n" + "\n".join(lines)


def _request_headers() -> list[dict[str, Any]]:
    return [
        {
            "name": "X-Request-ID",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "pattern": REQUEST_ID_PATTERN},
            "description": "Identifiant de corrélation repris dans la réponse. A correlation id, "
            "echoed in the response.",
        },
        {
            "name": "Cache-Control",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "example": "no-cache",
            "description": "« no-cache » contourne le cache des réponses du fournisseur, s'il est "
            "activé pour ce produit. 'no-cache' bypasses the provider answer cache.",
        },
    ]


def product_operation(
    product: Product, mode: str, today: date, examples: Examples | None = None
) -> dict[str, Any]:
    fr_mode, en_mode = MODES_TEXT[mode]
    example = examples(product.key) if examples else None
    parameters = parameters_for(product, mode, today)
    if example is not None:
        values = example.query(mode)
        for parameter in parameters:
            if parameter["name"] in values:
                parameter["example"] = values[parameter["name"]]
    success: dict[str, Any] = {"schema": _ref("schemas", schema_name(product, "Response"))}
    if example is not None:
        success["examples"] = {"demo": _ref("examples", schema_name(product, "Example"))}
    headers = _headers(True)
    headers["X-Response-Cached"] = _header(
        "Présent si le cache est activé pour ce produit. Whether the answer came from the "
        "cache (only when caching is enabled for the product).",
        {"type": "string", "enum": ["true", "false"]},
        False,
    )
    return {
        "operationId": f"{product.key.replace('/', '_')}_{mode}",
        "summary": f"{product.title_fr} ({fr_mode})",
        "description": f"{product.title_en}. {en_mode} {CREDENTIAL_TEXT[mode == FRANCE_CONNECT]}"
        f"\n\n{_scopes_text(product)}",
        "tags": [product.provider],
        "x-scopes": sorted(product.scope_names()),
        "security": [{CITIZEN_TOKEN: []}] if mode == FRANCE_CONNECT else API_KEY_SECURITY,
        "parameters": parameters + _request_headers(),
        "responses": {
            "200": {
                "description": "Les données, masquées selon les scopes. The data, masked by scope.",
                "headers": headers,
                "content": {JSON: success},
            },
            "401": _ref("responses", "Unauthorized"),
            "403": _ref("responses", "Forbidden"),
            "429": _ref("responses", "RateLimited"),
            **_provider_error_refs(product.provider, ("404", "422", "502", "503", "504")),
        },
    }


def _ping_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/v3/ping": {
            "get": {
                "operationId": "ping",
                "summary": "État de l'API de données",
                "description": "Whether the data API itself answers.",
                "tags": [PLATFORM_TAG],
                "security": [],
                "responses": {
                    "200": {
                        "description": "L'API répond. The API answers.",
                        "headers": _headers(None),
                        "content": {JSON: {"schema": _ref("schemas", "Ping")}},
                    }
                },
            }
        }
    }
    for provider in REGISTRY.providers():
        paths[f"/v3/{provider.key}/ping"] = {
            "get": {
                "operationId": f"ping_{provider.key}",
                "summary": f"État du fournisseur : {provider.short_name}",
                "description": f"Whether {provider.name_en} answers.",
                "tags": [provider.key],
                "security": [],
                "responses": {
                    "200": {
                        "description": "Le fournisseur répond. The provider answers.",
                        "headers": _headers(None),
                        "content": {JSON: {"schema": _ref("schemas", "ProviderPing")}},
                    },
                    **_provider_error_refs(provider.key, ("502", "503", "504")),
                },
            }
        }
    return paths


def _components(examples: Examples | None) -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "ErrorItem": ERROR_ITEM_SCHEMA,
        "Errors": ERRORS_SCHEMA,
        "Ping": PING_SCHEMA,
        "ProviderPing": PROVIDER_PING_SCHEMA,
    }
    worked: dict[str, Any] = {}
    for product in PRODUCTS:
        data_name = schema_name(product, "Data")
        schemas[data_name] = data_schema(product)
        schemas[schema_name(product, "Response")] = success_schema(
            f"#/components/schemas/{data_name}"
        )
        example = examples(product.key) if examples else None
        if example is not None:
            worked[schema_name(product, "Example")] = {
                "summary": f"Citoyen de démonstration « {example.login} », mode {example.mode}",
                "value": {"data": example.data, "links": {}, "meta": {}},
            }
    responses = _platform_responses()
    for provider in REGISTRY.providers():
        responses.update(_provider_responses(provider.key))
    return {
        "schemas": schemas,
        "responses": responses,
        "examples": worked,
        "securitySchemes": SECURITY_SCHEMES,
    }


def _tags() -> list[dict[str, str]]:
    tags = [{"name": PLATFORM_TAG, "description": "L'API elle-même. The API itself."}]
    tags.extend(
        {"name": p.key, "description": f"{p.short_name} : {p.name_fr}. {p.name_en}."}
        for p in REGISTRY.providers()
    )
    return tags


def openapi_document(
    server_url: str, today: date | None = None, examples: Examples | None = None
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the data API served at ``server_url``, with one worked
    example per product that ``examples`` knows."""
    today = today or date.today()
    paths = _ping_paths()
    for product in PRODUCTS:
        for mode in product.modes:
            paths[product.route(mode)] = {"get": product_operation(product, mode, today, examples)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "API de données du courtier (data API)",
            "version": "3",
            "summary": "Données des administrations sur un usager, au format d'API Particulier "
            "v3. Government data about a citizen, API Particulier v3 style.",
            "description": (
                "Un produit par fournisseur, appelé dans un ou plusieurs modes : "
                "`france_connect` (jeton d'accès de l'usager), `identite` (identité pivot), "
                "`ine` ou `identifiant` (clé d'API). Les champs renvoyés sont ceux des scopes "
                "de l'appelant ; les erreurs suivent JSON:API, avec un code XXYYY. "
                "One product per provider, called in one or more modes; the fields returned "
                "are those of the caller's scopes; errors follow JSON:API with XXYYY codes."
            ),
        },
        "servers": [{"url": server_url.rstrip("/") or "/"}],
        "tags": _tags(),
        "paths": paths,
        "components": _components(examples),
    }
