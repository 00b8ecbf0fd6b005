"""Errors of the data API, in API Particulier v3's JSON:API form, with its backend's codes.

``{"errors": [{"code", "title", "detail", "source", "meta"}]}``, where ``code`` is siade's
``XXYYY``: ``XX`` names the provider (``00`` the platform), ``YYY`` the case; titles, statuses
and ``meta.provider`` are siade's too (:mod:`broker.resources.siade_codes`, where the few codes
of ours are marked). The statuses: 401 credential, 403 privileges, 404 not found, 422
parameters, 429 rate limit, 502 unknown provider error, 504 provider timeout, unavailable or in
maintenance (then with ``meta.retry_in`` and ``Retry-After``) or unreachable (siade's 00501,
``meta.retry_in`` 10), 503 our own stores. A 404's code and words are the product's, where
siade documents them per product (the DSS's).

Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from broker.providers import base
from broker.resources import siade_codes as siade

PLATFORM = siade.PLATFORM
PROVIDER_CODES = {key: provider.prefix for key, provider in siade.PROVIDERS.items()}
PROVIDER_NAMES = {key: provider.name for key, provider in siade.PROVIDERS.items()}
SIADE_NAMES = siade.NAMES  # every meta.provider a provider error may carry ("RNCPS", ...)
INTROSPECT_PATH = "/v3/introspect"
TOKEN = "token"  # siade's ``source.parameter`` of credential errors

INVALID = "invalid"
EXPIRED = "expired"
REVOKED = "revoked"
CREDENTIAL_CODES = {
    INVALID: siade.INVALID_TOKEN,
    EXPIRED: siade.EXPIRED_TOKEN,
    REVOKED: siade.BLACKLISTED_TOKEN,
}


@dataclass(frozen=True)
class ErrorItem:
    code: str
    title: str
    detail: str
    parameter: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {"code": self.code, "title": self.title, "detail": self.detail}
        item["source"] = {"parameter": self.parameter} if self.parameter else None
        item["meta"] = dict(self.meta)
        return item


class ApiError(Exception):
    """One failed call: an HTTP status, the items, and the journal's name for the outcome."""

    def __init__(
        self, status: int, outcome: str, *items: ErrorItem, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(items[0].detail if items else outcome)
        self.status = status
        self.outcome = outcome
        self.items = items
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"errors": [item.as_json() for item in self.items]}

    @property
    def code(self) -> str:
        return self.items[0].code if self.items else PLATFORM + "000"


# -- platform errors -------------------------------------------------------------------------


def unauthorized(
    detail: str, headers: dict[str, str] | None = None, *, reason: str = INVALID
) -> ApiError:
    """``headers``: the ``WWW-Authenticate`` challenge (and ``DPoP-Nonce``) of a refused
    credential. ``reason``: ``invalid`` (00101, also a missing credential), ``expired``
    (00103) or ``revoked`` (00105, siade's "jeton sur liste noire")."""
    code, title = CREDENTIAL_CODES[reason]
    return ApiError(
        401, "unauthorized", ErrorItem(code, title, detail, parameter=TOKEN), headers=headers
    )


def forbidden(detail: str, introspect: str = INTROSPECT_PATH) -> ApiError:
    """Our ``detail`` says what is missing; like siade, the answer points at the list of the
    caller's rights (``introspect``, also in ``meta.introspect``)."""
    code, title = siade.INSUFFICIENT_PRIVILEGES
    text = f"{detail.rstrip()} Listez vos privilèges sur {introspect}."
    return ApiError(
        403,
        "forbidden",
        ErrorItem(code, title, text, parameter=TOKEN, meta={"introspect": introspect}),
    )


def is_missing(detail: str) -> bool:
    """broker.resources.params words every missing parameter with « obligatoire »."""
    return "obligatoire" in detail.lower()


def invalid_parameters(problems: list[tuple[str, str]]) -> ApiError:
    """``problems``: (parameter, detail) pairs; every invalid parameter is reported at once,
    each with siade's code for that parameter and our detail."""
    return ApiError(
        422,
        "invalid_parameters",
        *(
            ErrorItem(
                siade.parameter_code(parameter, is_missing(detail)),
                siade.UNPROCESSABLE,
                detail,
                parameter=parameter,
            )
            for parameter, detail in problems
        ),
    )


def rate_limited(retry_after: int) -> ApiError:
    code, title = siade.TOO_MANY_REQUESTS
    detail = f"{siade.TOO_MANY_REQUESTS_DETAIL} ; réessayez dans {retry_after} s."
    return ApiError(
        429,
        "rate_limited",
        ErrorItem(code, title, detail),
        headers={"Retry-After": str(retry_after)},
    )


def not_found_route(path: str) -> ApiError:
    code, title = siade.OURS_UNKNOWN_ROUTE
    return ApiError(
        404,
        "unknown_route",
        ErrorItem(code, title, f"Aucun produit n'est servi à cette adresse ({path})."),
    )


def unavailable_item(detail: str, meta: dict[str, Any] | None = None) -> ErrorItem:
    code, title = siade.OURS_UNAVAILABLE
    return ErrorItem(code, title, detail, meta=meta or {})


def rate_limit_store_unavailable() -> ApiError:
    return ApiError(
        503,
        "rate_limit_unavailable",
        unavailable_item("Le décompte des requêtes est momentanément indisponible ; réessayez."),
        headers={"Retry-After": "1"},
    )


def store_unavailable(retry_after: int) -> ApiError:
    """The database or Redis cannot be reached: nothing was fetched, nothing journaled."""
    return ApiError(
        503,
        "store_unavailable",
        unavailable_item(
            "Le service est momentanément indisponible ; réessayez dans quelques instants.",
            {"retry_in": retry_after},
        ),
        headers={"Retry-After": str(retry_after)},
    )


def journal_unavailable() -> ApiError:
    return ApiError(
        503,
        "journal_unavailable",
        unavailable_item(
            "L'accès n'a pas pu être journalisé ; aucune donnée n'est transmise. Réessayez."
        ),
    )


# -- provider outcomes -----------------------------------------------------------------------

# Provider failures whose answer says nothing more: (status, journal outcome, case, title,
# detail), all siade's.
PROVIDER_FAILURES: dict[type, tuple[int, str, str, str, str]] = {
    base.Timeout: (504, "timeout", siade.TIMEOUT, siade.TIMEOUT_TITLE, siade.TIMEOUT_DETAIL),
    base.Unavailable: (
        504,
        "unavailable",
        siade.UNAVAILABLE,
        siade.UNAVAILABLE_TITLE,
        siade.UNAVAILABLE_DETAIL,
    ),
    base.UnexpectedPayload: (
        502,
        "provider_error",
        siade.UNKNOWN_PROVIDER_ERROR,
        siade.UNKNOWN_PROVIDER_ERROR_TITLE,
        siade.UNKNOWN_PROVIDER_ERROR_DETAIL,
    ),
}


def from_outcome(
    provider: str,
    outcome: base.Outcome,
    *,
    product: str | None = None,
    mode: str | None = None,
) -> ApiError:
    """The error for every outcome but ``Found``, in siade's words for ``provider``; a 404 as
    siade documents it for ``product`` (a catalogue key) called in ``mode``."""
    known = siade.PROVIDERS[provider]
    xx = known.prefix
    meta: dict[str, Any] = {"provider": known.name}
    match outcome:
        case base.NotFound():
            answer = known.not_found_answer(product)
            item = ErrorItem(
                answer.code,
                answer.title,
                answer.detail_for(mode),
                meta={"provider": answer.by.name},
            )
            return ApiError(404, "not_found", item)
        case base.InvalidInput(detail=detail, parameter=parameter, excludes=excludes):
            # siade answers a provider's refusal with the platform's code for the parameter;
            # ``meta.provider`` (ours) says who refused it.
            code = (
                siade.exclusive_code(parameter, excludes)
                if excludes
                else siade.parameter_code(parameter, missing=False)
            )
            item = ErrorItem(code, siade.UNPROCESSABLE, detail, parameter=parameter, meta=meta)
            return ApiError(422, "provider_invalid_input", item)
        case base.Maintenance(retry_in=retry_in):
            item = ErrorItem(
                xx + siade.UNAVAILABLE,
                siade.UNAVAILABLE_TITLE,
                f"{siade.UNAVAILABLE_DETAIL} Réessayez dans {retry_in} s.",
                meta={**meta, "retry_in": retry_in},
            )
            return ApiError(504, "maintenance", item, headers={"Retry-After": str(retry_in)})
        case base.Unavailable(unreachable=True):
            # siade's 00501: a platform code, its meta names no provider, only when to retry.
            code, title = siade.NETWORK_ERROR
            retry_in = siade.NETWORK_RETRY_IN
            item = ErrorItem(code, title, siade.NETWORK_ERROR_DETAIL, meta={"retry_in": retry_in})
            return ApiError(504, "unavailable", item, headers={"Retry-After": str(retry_in)})
    failure = PROVIDER_FAILURES.get(type(outcome))
    if failure is None:
        raise ValueError(f"not an error outcome: {outcome!r}")
    status, kind, case, title, detail = failure
    return ApiError(status, kind, ErrorItem(xx + case, title, detail, meta=meta))
