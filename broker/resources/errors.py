"""Errors of the data API, in API Particulier's JSON:API form.

``{"errors": [{"code", "title", "detail", "source", "meta"}]}``, where ``code`` is ``XXYYY``:
``XX`` names the provider (``00`` for the platform itself, see :data:`PROVIDER_CODES`) and
``YYY`` the error. The HTTP statuses are API Particulier's: 401 credential, 403 scope, 404 not
found, 422 parameters, 429 rate limit, 502 provider error, 503 unavailable, 504 timeout.

Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from broker.providers import base

PLATFORM = "00"
PROVIDER_CODES = {
    "cnaf": "01",
    "dss": "02",
    "cnous": "03",
    "mesri": "04",
    "france_travail": "05",
    "men": "06",
    "dgfip": "07",
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


def unauthorized(detail: str, headers: dict[str, str] | None = None) -> ApiError:
    """``headers``: the ``WWW-Authenticate`` challenge (and ``DPoP-Nonce``) of a refused
    credential."""
    return ApiError(
        401, "unauthorized", ErrorItem("00101", "Accès non autorisé", detail), headers=headers
    )


def forbidden(detail: str) -> ApiError:
    return ApiError(403, "forbidden", ErrorItem("00100", "Accès interdit", detail))


def invalid_parameters(problems: list[tuple[str, str]]) -> ApiError:
    """``problems``: (parameter, detail) pairs; every invalid parameter is reported at once."""
    return ApiError(
        422,
        "invalid_parameters",
        *(
            ErrorItem("00201", "Paramètre invalide", detail, parameter=parameter)
            for parameter, detail in problems
        ),
    )


def rate_limited(retry_after: int) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        ErrorItem(
            "00429",
            "Trop de requêtes",
            f"La limite de requêtes est atteinte ; réessayez dans {retry_after} s.",
            meta={"retry_in": retry_after},
        ),
        headers={"Retry-After": str(retry_after)},
    )


def not_found_route(path: str) -> ApiError:
    return ApiError(
        404,
        "unknown_route",
        ErrorItem(
            "00404", "Ressource inconnue", f"Aucun produit n'est servi à cette adresse ({path})."
        ),
    )


def rate_limit_store_unavailable() -> ApiError:
    return ApiError(
        503,
        "rate_limit_unavailable",
        ErrorItem(
            "00503",
            "Service indisponible",
            "Le décompte des requêtes est momentanément indisponible ; réessayez.",
        ),
        headers={"Retry-After": "1"},
    )


def store_unavailable(retry_after: int) -> ApiError:
    """The database or Redis cannot be reached: nothing was fetched, nothing journaled."""
    return ApiError(
        503,
        "store_unavailable",
        ErrorItem(
            "00503",
            "Service indisponible",
            "Le service est momentanément indisponible ; réessayez dans quelques instants.",
            meta={"retry_in": retry_after},
        ),
        headers={"Retry-After": str(retry_after)},
    )


def journal_unavailable() -> ApiError:
    return ApiError(
        503,
        "journal_unavailable",
        ErrorItem(
            "00503",
            "Service indisponible",
            "L'accès n'a pas pu être journalisé ; aucune donnée n'est transmise. Réessayez.",
        ),
    )


# -- provider outcomes -----------------------------------------------------------------------


# Provider failures whose answer says nothing more: (status, log kind, code suffix, title, detail).
PROVIDER_FAILURES: dict[type, tuple[int, str, str, str, str]] = {
    base.Timeout: (
        504,
        "timeout",
        "504",
        "Délai dépassé",
        "Le fournisseur de données n'a pas répondu à temps.",
    ),
    base.Unavailable: (
        503,
        "unavailable",
        "501",
        "Fournisseur indisponible",
        "Le fournisseur de données est indisponible.",
    ),
    base.UnexpectedPayload: (
        502,
        "provider_error",
        "502",
        "Réponse inattendue du fournisseur",
        "Le fournisseur de données a renvoyé une réponse inexploitable.",
    ),
}


def from_outcome(provider: str, outcome: base.Outcome) -> ApiError:
    """The error for every outcome but ``Found``."""
    xx = PROVIDER_CODES[provider]
    meta = {"provider": provider}
    match outcome:
        case base.NotFound(detail=detail):
            item = ErrorItem(xx + "003", "Dossier non trouvé", detail, meta=meta)
            return ApiError(404, "not_found", item)
        case base.InvalidInput(detail=detail, parameter=parameter):
            item = ErrorItem(
                xx + "201",
                "Paramètre refusé par le fournisseur",
                detail,
                parameter=parameter,
                meta=meta,
            )
            return ApiError(422, "provider_invalid_input", item)
        case base.Maintenance(retry_in=retry_in):
            item = ErrorItem(
                xx + "503",
                "Fournisseur en maintenance",
                f"Le fournisseur de données est en maintenance ; réessayez dans {retry_in} s.",
                meta={**meta, "retry_in": retry_in},
            )
            return ApiError(503, "maintenance", item, headers={"Retry-After": str(retry_in)})
    failure = PROVIDER_FAILURES.get(type(outcome))
    if failure is None:
        raise ValueError(f"not an error outcome: {outcome!r}")
    status, kind, suffix, title, detail = failure
    return ApiError(status, kind, ErrorItem(xx + suffix, title, detail, meta=meta))
