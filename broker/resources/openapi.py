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
from broker.resources.errors import INTROSPECT_PATH
from broker.resources.openapi_params import identifier_names, parameters_for
from broker.resources.openapi_responses import (
    CITIZEN_TOKEN,
    JSON,
    SECURITY_SCHEMES,
    forbidden_response,
    header,
    introspect_forbidden_response,
    invalid_parameters_response,
    not_found_response,
    platform_responses,
    provider_error_refs,
    provider_responses,
    ref,
    response_headers,
    store_unavailable_response,
)
from broker.resources.openapi_schemas import (
    ERROR_ITEM_SCHEMA,
    ERRORS_SCHEMA,
    INTROSPECT_SCHEMA,
    PING_SCHEMA,
    PROVIDER_PING_SCHEMA,
    REQUEST_ID_PATTERN,
    RESOURCE_METADATA_SCHEMA,
    data_schema,
    schema_name,
    success_schema,
)

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
}  # the identifier modes: ``mode_text``, in the product's own words
CREDENTIAL_TEXT = {  # keyed by "is France Connect mode"
    True: "Credential: the citizen's access token; an API key is refused (403).",
    False: "Credential: an API key (Authorization: Bearer bpk_… or X-Api-Key); a citizen's "
    "token is refused (403).",
}
API_KEY_SECURITY: list[dict[str, list[str]]] = [{"apiKeyBearer": []}, {"apiKeyHeader": []}]
# Served by broker.resources.resource_metadata (its module imports the JOSE library).
RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource"


class Example(Protocol):
    """A worked example of one product: a citizen asked about and what the API answers."""

    @property
    def login(self) -> str: ...

    @property
    def mode(self) -> str: ...

    @property
    def data(self) -> dict[str, Any]: ...

    def query(self, product_key: str, mode: str) -> dict[str, Any]:
        """The query parameters a client sends about this citizen in ``mode`` of the product."""


# A product key -> its worked example, if there is one.
Examples = Callable[[str], Example | None]


def mode_text(product: Product, mode: str) -> tuple[str, str]:
    """(French summary suffix, English description) of ``product`` called in ``mode``."""
    if mode in MODES_TEXT:
        return MODES_TEXT[mode]
    french, english = identifier_names(product, mode)
    return f"par {french}", f"Identifier mode: the person is named by {english}."


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
    fr_mode, en_mode = mode_text(product, mode)
    example = examples(product.key) if examples else None
    parameters = parameters_for(product, mode, today)
    if example is not None:
        values = example.query(product.key, mode)
        for parameter in parameters:
            if parameter["name"] in values:
                parameter["example"] = values[parameter["name"]]
    success: dict[str, Any] = {"schema": ref("schemas", schema_name(product, "Response"))}
    if example is not None:
        success["examples"] = {"demo": ref("examples", schema_name(product, "Example"))}
    headers = response_headers(True)
    headers["X-Response-Cached"] = header(
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
            "401": ref("responses", "Unauthorized"),
            "403": forbidden_response(sorted(product.scope_names())),
            "429": ref("responses", "RateLimited"),
            "503": ref("responses", "Unavailable"),
            "404": not_found_response(product.provider, product.key, mode),
            "422": invalid_parameters_response(
                product.provider, product.key, mode, {p.name for p in product.params}
            ),
            **provider_error_refs(product.provider, ("502", "504")),
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
                        "headers": response_headers(None),
                        "content": {JSON: {"schema": ref("schemas", "Ping")}},
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
                        "headers": response_headers(None),
                        "content": {JSON: {"schema": ref("schemas", "ProviderPing")}},
                    },
                    **provider_error_refs(provider.key, ("502", "504")),
                },
            }
        }
    return paths


def _access_paths() -> dict[str, Any]:
    """What a caller may do (``GET /v3/introspect``), and how to get a token (RFC 9728)."""
    introspect = {
        "operationId": "introspect",
        "summary": "Vos droits sur l'API",
        "description": (
            "What the credential may do: its data scopes by provider, the products and routes "
            "they open in the credential's modes, the habilitation behind it (purpose, legal "
            "basis, status, expiry), its rate limit and the recipients its data may be sent "
            "to. An API key or a citizen's access token (a DPoP-bound token with a proof of "
            "this call). Neither counted against the rate limit nor journaled. Also served "
            "at /api/introspect, API Particulier's path, whose three first keys (_id, name, "
            "scopes) it keeps."
        ),
        "tags": [PLATFORM_TAG],
        "security": [*API_KEY_SECURITY, {CITIZEN_TOKEN: []}],
        "responses": {
            "200": {
                "description": "Les droits du jeton ou de la clé. The credential's rights.",
                "headers": response_headers(None),
                "content": {JSON: {"schema": ref("schemas", "Introspection")}},
            },
            "401": ref("responses", "Unauthorized"),
            "403": introspect_forbidden_response(),
            "503": store_unavailable_response(),
        },
    }
    metadata = {
        "operationId": "protected_resource_metadata",
        "summary": "Métadonnées de la ressource protégée (RFC 9728)",
        "description": (
            "OAuth 2.0 Protected Resource Metadata: the resource identifier (every access "
            "token's audience), the authorization server issuing tokens for it, its scopes "
            "and DPoP support. Each 401's WWW-Authenticate points here (resource_metadata)."
        ),
        "tags": [PLATFORM_TAG],
        "security": [],
        "responses": {
            "200": {
                "description": "Les métadonnées. The metadata.",
                "headers": response_headers(None),
                "content": {JSON: {"schema": ref("schemas", "ResourceMetadata")}},
            }
        },
    }
    return {INTROSPECT_PATH: {"get": introspect}, RESOURCE_METADATA_PATH: {"get": metadata}}


def _components(examples: Examples | None) -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "ErrorItem": ERROR_ITEM_SCHEMA,
        "Errors": ERRORS_SCHEMA,
        "Ping": PING_SCHEMA,
        "ProviderPing": PROVIDER_PING_SCHEMA,
        "Introspection": INTROSPECT_SCHEMA,
        "ResourceMetadata": RESOURCE_METADATA_SCHEMA,
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
    responses = platform_responses()
    for provider in REGISTRY.providers():
        responses.update(provider_responses(provider.key))
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
    paths = {**_ping_paths(), **_access_paths()}
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
