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
from broker.resources.recipients import check_recipient
from broker.resources.siade_codes import EXCLUSIVE_CODES

JSON = "application/json"
MISSING = "Ce paramètre est obligatoire."  # params.py's words for a missing parameter
CITIZEN_TOKEN = "citizenAccessToken"
# The credential errors' details, as broker.resources.credentials words them (it reads the
# database, so it is not imported here; the end-to-end tests compare with the live answers).
NO_CREDENTIAL = (
    "Aucun jeton ni clé d'API : envoyez « Authorization: Bearer <jeton> » ou « X-Api-Key: <clé> »."
)
EXPIRED_TOKEN = "Ce jeton d'accès a expiré."
REVOKED_KEY = "Cette clé d'API a été révoquée."
NO_SCOPE = "Ce jeton ou cette clé ne porte aucun des scopes de ce produit : "
NO_ACTIVE_HABILITATION = "Aucune habilitation active de votre service ne couvre ces données."
NO_HABILITATION = "Aucune habilitation de votre service ne se rattache à ce jeton."
RIGHTS_TEXT = (
    "meta.introspect : l'URL de GET /v3/introspect sur cette API, qui liste vos droits. "
    "meta.introspect: where to list your rights."
)
STORE_RETRY_AFTER = 5  # broker.core.outages.RETRY_AFTER (that module imports the drivers)
EXAMPLE_RECIPIENT = "13002526500013"  # DINUM's SIRET
ALLOWED_RECIPIENT = "11000201100044"
# broker.providers.adapters.men.check_where's words for a school given with a perimeter (that
# module imports the HTTP client; the tests compare with its answer).
SCHOOL_AND_PERIMETER = (
    "Les paramètres codeEtablissement et périmètre (codesBcnRegions[] / "
    "codesBcnDepartements[]) sont mutuellement exclusifs."
)

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


def recipient_refusal() -> errors.ApiError:
    """The 403 of a ``recipient`` the habilitation does not list, as recipients.py raises it."""
    try:
        check_recipient(EXAMPLE_RECIPIENT, (ALLOWED_RECIPIENT,))
    except errors.ApiError as error:
        return error
    raise AssertionError("recipients.check_recipient let an unlisted recipient through")


def unauthorized_headers() -> dict[str, Any]:
    headers = response_headers(None)
    headers["WWW-Authenticate"] = header(
        "Le défi Bearer (ou DPoP) de la RFC 6750 (RFC 9449), avec resource_metadata qui "
        "désigne les métadonnées de l'API (RFC 9728 §5.1). The Bearer or DPoP challenge, "
        "pointing at the API's protected resource metadata.",
        {"type": "string"},
        True,
    )
    headers["DPoP-Nonce"] = header(
        "Le nonce à mettre dans la prochaine preuve DPoP (RFC 9449 §9). The nonce for the "
        "next DPoP proof.",
        {"type": "string"},
        False,
    )
    return headers


def platform_responses() -> dict[str, Any]:
    return {
        "Unauthorized": error_response(
            "Jeton ou clé d'API absent, invalide (00101), expiré (00103) ou révoqué (00105), "
            "ou consentement de l'usager retiré. Missing, invalid, expired or revoked "
            "credential, or consent withdrawn.",
            {
                "missing": errors.unauthorized(NO_CREDENTIAL),
                "expired": errors.unauthorized(EXPIRED_TOKEN, reason=errors.EXPIRED),
                "revoked": errors.unauthorized(REVOKED_KEY, reason=errors.REVOKED),
            },
            unauthorized_headers(),
        ),
        "RateLimited": error_response(
            "Trop de requêtes pour ce jeton ou cette clé dans la minute en cours. Rate limit "
            "reached for the current minute.",
            {"rate_limited": errors.rate_limited(1)},
            response_headers(True, retry_after=True),
        ),
        "Unavailable": error_response(
            "Nos propres stockages sont injoignables (base, compteur de requêtes), ou l'accès "
            "n'a pas pu être journalisé : aucune donnée n'est transmise. Our own stores cannot "
            "be reached, or the access could not be journaled: no data is sent.",
            {
                "store": errors.store_unavailable(STORE_RETRY_AFTER),
                "rate_limit_store": errors.rate_limit_store_unavailable(),
                "journal": errors.journal_unavailable(),
            },
            response_headers(False, retry_after=False),
        ),
    }


def forbidden_response(scopes: list[str]) -> dict[str, Any]:
    """The 403 of a product whose scopes are ``scopes``: the credential does not cover it, or
    the recipient is not one of the habilitation's."""
    return error_response(
        "Le jeton ou la clé ne couvre pas ce produit ou ce mode, ou le destinataire "
        "(recipient) n'est pas l'un de ceux de l'habilitation (meta.allowed_recipients). "
        "The credential does not cover this product or mode, or the recipient is not one "
        f"the habilitation allows. {RIGHTS_TEXT}",
        {
            "scope": errors.forbidden(NO_SCOPE + ", ".join(sorted(scopes)) + "."),
            "habilitation": errors.forbidden(NO_ACTIVE_HABILITATION),
            "recipient": recipient_refusal(),
        },
        response_headers(False),
    )


def store_unavailable_response() -> dict[str, Any]:
    """A 503 where only the database is read (no rate limit, no journal)."""
    return error_response(
        "La base de données est injoignable. The database cannot be reached.",
        {"store": errors.store_unavailable(STORE_RETRY_AFTER)},
        response_headers(None, retry_after=True),
    )


def introspect_forbidden_response() -> dict[str, Any]:
    return error_response(
        f"Aucune habilitation de votre service ne se rattache à ce jeton. {RIGHTS_TEXT}",
        {"habilitation": errors.forbidden(NO_HABILITATION)},
        response_headers(None),
    )


def provider_responses(provider: str) -> dict[str, Any]:
    """The errors whose code and ``meta.provider`` are ``provider``'s whatever the product,
    built by ``errors.py`` itself (a 404 is the product's: :func:`not_found_response`)."""
    outcome = errors.from_outcome
    return {
        f"InvalidParameters.{provider}": error_response(
            "Paramètres invalides, manquants ou inconnus (tous signalés). Invalid, missing or "
            "unknown parameters (all reported).",
            invalid_parameter_bodies(provider),
            response_headers(True),
        ),
        f"BadGateway.{provider}": error_response(
            "Réponse inexploitable du fournisseur. Unusable answer from the provider.",
            {"provider_error": outcome(provider, base.UnexpectedPayload("shape"))},
            response_headers(False),
        ),
        f"GatewayTimeout.{provider}": error_response(
            "Le fournisseur n'a pas répondu à temps (XX002), est indisponible ou en "
            "maintenance (XX001 ; en maintenance, avec meta.retry_in et Retry-After), ou n'a "
            "pas pu être joint (00501, avec meta.retry_in et Retry-After, sans "
            "meta.provider). The provider timed out, is unavailable or in maintenance (then "
            "with meta.retry_in and Retry-After), or could not be reached (00501).",
            {
                "timeout": outcome(provider, base.Timeout("slow")),
                "maintenance": outcome(provider, base.Maintenance(retry_in=600)),
                "unavailable": outcome(provider, base.Unavailable("down")),
                "unreachable": outcome(provider, base.Unavailable("refused", unreachable=True)),
            },
            response_headers(False, retry_after=False),
        ),
    }


def invalid_parameter_bodies(provider: str) -> dict[str, errors.ApiError]:
    return {
        "missing": errors.invalid_parameters([(RECIPIENT, MISSING)]),
        "refused_by_provider": errors.from_outcome(
            provider, base.InvalidInput("refusé", "nomNaissance")
        ),
    }


def exclusive_pairs(parameters: set[str]) -> list[tuple[str, str]]:
    """The (parameter, excluded) pairs siade has a code for among a product's parameters."""
    return [pair for pair in EXCLUSIVE_CODES if set(pair) <= parameters]


def not_found_response(provider: str, product: str, mode: str) -> dict[str, Any]:
    """The 404 of ``product`` called in ``mode``: siade words it per product (and some paths
    per mode), so it is the product's, not the provider's."""
    return error_response(
        "Aucun dossier ne correspond. No record matches.",
        {
            "not_found": errors.from_outcome(
                provider, base.NotFound("aucun dossier"), product=product, mode=mode
            )
        },
        response_headers(False),
    )


def invalid_parameters_response(
    provider: str, product: str, mode: str, parameters: set[str]
) -> dict[str, Any]:
    """The 422 of ``product``: its provider's, unless two of its ``parameters`` exclude each
    other (siade's 00419 for a school given with a perimeter)."""
    pairs = exclusive_pairs(parameters)
    if not pairs:
        return ref("responses", f"InvalidParameters.{provider}")
    bodies = invalid_parameter_bodies(provider)
    for parameter, excluded in pairs:
        refused = base.InvalidInput(SCHOOL_AND_PERIMETER, parameter, excludes=excluded)
        name = "exclusive_" + excluded.removesuffix("[]")
        bodies[name] = errors.from_outcome(provider, refused, product=product, mode=mode)
    return error_response(
        "Paramètres invalides, manquants, inconnus (tous signalés) ou incompatibles entre eux. "
        "Invalid, missing or unknown parameters (all reported), or parameters that exclude "
        "each other.",
        bodies,
        response_headers(True),
    )


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def provider_error_refs(provider: str, statuses: tuple[str, ...]) -> dict[str, Any]:
    names = {
        "422": "InvalidParameters",
        "502": "BadGateway",
        "504": "GatewayTimeout",
    }
    return {status: ref("responses", f"{names[status]}.{provider}") for status in statuses}
