"""The reusable parts of the data API's OpenAPI document: security schemes, response headers,
and every error response, built from ``errors.py`` itself so that the documented bodies are
exactly the ones the API sends.

Standard library and broker modules only."""

from __future__ import annotations

from typing import Any

from broker.providers import base
from broker.resources import errors
from broker.resources.openapi_schemas import REQUEST_ID_PATTERN
from broker.resources.params import RECIPIENT

JSON = "application/json"
MISSING = "Ce paramètre est obligatoire."  # params.py's words for a missing parameter
CITIZEN_TOKEN = "citizenAccessToken"

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


def header(description: str, schema: dict[str, Any], required: bool) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": schema}


def response_headers(rate_limited: bool | None, retry_after: bool | None = None) -> dict[str, Any]:
    """Response headers; ``None`` leaves a header out, ``False`` makes it optional."""
    headers = {
        "X-Request-ID": header(
            "Identifiant de la requête, à citer au support. The request id, for support.",
            {"type": "string", "pattern": REQUEST_ID_PATTERN},
            True,
        )
    }
    if rate_limited is not None:
        for name, minimum, text in (
            ("RateLimit-Limit", 1, "Requêtes permises par minute."),
            ("RateLimit-Remaining", 0, "Requêtes restantes dans la minute en cours."),
            ("RateLimit-Reset", 1, "Fin de la minute en cours (horodatage Unix)."),
        ):
            headers[name] = header(text, {"type": "integer", "minimum": minimum}, rate_limited)
    if retry_after is not None:
        headers["Retry-After"] = header(
            "Secondes avant de réessayer. Seconds to wait.",
            {"type": "integer", "minimum": 0},
            retry_after,
        )
    return headers


def error_response(
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


def platform_responses() -> dict[str, Any]:
    return {
        "Unauthorized": error_response(
            "Jeton ou clé d'API absent, invalide, expiré ou révoqué. Missing or invalid "
            "credential.",
            {"missing": errors.unauthorized("Aucun jeton ni clé d'API.")},
            response_headers(None),
        ),
        "Forbidden": error_response(
            "Le jeton ou la clé ne couvre pas ce produit ou ce mode. The credential does not "
            "cover this product or mode.",
            {
                "scope": errors.forbidden(
                    "Ce jeton ou cette clé ne porte aucun des scopes de ce produit."
                )
            },
            response_headers(None),
        ),
        "RateLimited": error_response(
            "Trop de requêtes pour ce jeton ou cette clé. Rate limit reached.",
            {"rate_limited": errors.rate_limited(1)},
            response_headers(True, retry_after=True),
        ),
    }


def provider_responses(provider: str) -> dict[str, Any]:
    """The errors whose code names ``provider``, built by ``errors.py`` itself."""
    outcome = errors.from_outcome
    return {
        f"NotFound.{provider}": error_response(
            "Aucun dossier ne correspond. No record matches.",
            {"not_found": outcome(provider, base.NotFound("aucun dossier"))},
            response_headers(False),
        ),
        f"InvalidParameters.{provider}": error_response(
            "Paramètres invalides, manquants ou inconnus (tous signalés). Invalid, missing or "
            "unknown parameters (all reported).",
            {
                "missing": errors.invalid_parameters([(RECIPIENT, MISSING)]),
                "refused_by_provider": outcome(
                    provider, base.InvalidInput("refusé", "nomNaissance")
                ),
            },
            response_headers(True),
        ),
        f"BadGateway.{provider}": error_response(
            "Réponse inexploitable du fournisseur. Unusable answer from the provider.",
            {"provider_error": outcome(provider, base.UnexpectedPayload("shape"))},
            response_headers(False),
        ),
        f"Unavailable.{provider}": error_response(
            "L'accès n'a pas pu être journalisé : aucune donnée n'est transmise. The access "
            "could not be journaled: no data is sent.",
            {"journal": errors.journal_unavailable()},
            response_headers(False),
        ),
        f"GatewayTimeout.{provider}": error_response(
            "Le fournisseur n'a pas répondu à temps, est indisponible ou en maintenance "
            "(meta.retry_in et Retry-After). The provider timed out, is unavailable or in "
            "maintenance.",
            {
                "timeout": outcome(provider, base.Timeout("slow")),
                "maintenance": outcome(provider, base.Maintenance(retry_in=600)),
                "unavailable": outcome(provider, base.Unavailable("down")),
            },
            response_headers(False, retry_after=False),
        ),
    }


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def provider_error_refs(provider: str, statuses: tuple[str, ...]) -> dict[str, Any]:
    names = {
        "404": "NotFound",
        "422": "InvalidParameters",
        "502": "BadGateway",
        "503": "Unavailable",
        "504": "GatewayTimeout",
    }
    return {status: ref("responses", f"{names[status]}.{provider}") for status in statuses}
