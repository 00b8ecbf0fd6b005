"""What a credential may do on the data API, as ``GET /v3/introspect`` tells its holder: its
data scopes grouped by provider, the products and routes they open in the credential's modes,
the habilitation behind it, its expiry, rate limit and allowed recipients.

The first three keys are API Particulier's ``/api/introspect`` answer (``_id``, ``name``,
``scopes``), so that a program written for it keeps working; the others are ours.

No database and no framework: the caller reads, this module describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from broker.catalogue.products import FRANCE_CONNECT, PRODUCTS
from broker.catalogue.scopes import REGISTRY
from broker.resources import errors
from broker.resources.credentials import ACCESS_TOKEN, API_KEY

ACTIVE = "active"
EXPIRED = "expired"
REVOKED = "revoked"


@dataclass(frozen=True)
class HabilitationView:
    id: str
    status: str  # ACTIVE | EXPIRED | REVOKED
    purpose: str
    legal_basis: str
    legal_basis_url: str | None
    expires_at: int | None
    scopes: frozenset[str]


@dataclass(frozen=True)
class CredentialView:
    kind: str  # API_KEY | ACCESS_TOKEN
    id: str  # the key's id, or the token's jti
    name: str  # the key's name, or the token's client's name ("" when none)
    scopes: frozenset[str]  # the key's habilitation's, or the token's (identity ones included)
    expires_at: int | None  # the token's expiry; keys do not expire (their habilitation does)
    dpop_bound: bool = False
    client_id: str | None = None
    consent_expires_at: int | None = None  # tokens: when the citizen's consent ends


@dataclass(frozen=True)
class RateLimitView:
    limit: int
    window_seconds: int
    platform_default: bool  # the habilitation names no limit of its own


def habilitation_status(expires_at: int | None, revoked_at: int | None, now: int) -> str:
    if revoked_at is not None:
        return REVOKED
    if expires_at is not None and expires_at <= now:
        return EXPIRED
    return ACTIVE


def describe(
    credential: CredentialView,
    service: tuple[str, str],
    habilitation: HabilitationView,
    rate_limit: RateLimitView,
    recipients: tuple[str, ...],
) -> dict[str, Any]:
    """``service``: its id and name. The products listed are those the credential may call
    now: none once the habilitation is over."""
    data_scopes = sorted(s for s in credential.scopes if _is_data_scope(s))
    usable = set(data_scopes) & habilitation.scopes if habilitation.status == ACTIVE else set()
    return {
        "_id": credential.id,
        "name": credential.name,
        "scopes": data_scopes,
        "credential": _credential(credential),
        "service": {"id": service[0], "name": service[1]},
        "habilitation": {
            "id": habilitation.id,
            "status": habilitation.status,
            "purpose": habilitation.purpose,
            "legal_basis": habilitation.legal_basis,
            "legal_basis_url": habilitation.legal_basis_url,
            "expires_at": habilitation.expires_at,
        },
        "rate_limit": {
            "limit": rate_limit.limit,
            "window_seconds": rate_limit.window_seconds,
            "platform_default": rate_limit.platform_default,
        },
        "allowed_recipients": list(recipients),
        "recipient_required": credential.kind == API_KEY,
        "providers": providers_of(usable),
        "products": products_of(usable, credential.kind),
    }


def _credential(credential: CredentialView) -> dict[str, Any]:
    described: dict[str, Any] = {"type": credential.kind, "expires_at": credential.expires_at}
    if credential.kind == ACCESS_TOKEN:
        described["client_id"] = credential.client_id
        described["dpop_bound"] = credential.dpop_bound
        described["consent_expires_at"] = credential.consent_expires_at
    return described


def _is_data_scope(name: str) -> bool:
    scope = REGISTRY.get(name)
    return scope is not None and scope.provider is not None


def providers_of(scopes: set[str]) -> list[dict[str, Any]]:
    """The scopes grouped by data provider, in registry order, with their French labels."""
    return [
        {
            "key": provider.key,
            "name": provider.name_fr,
            "scopes": [{"name": s.name, "label": s.label_fr} for s in items],
        }
        for provider, items in REGISTRY.group_by_provider(scopes)
        if provider is not None
    ]


def products_of(scopes: set[str], kind: str) -> list[dict[str, Any]]:
    """The products at least one of ``scopes`` opens (the others' fields are masked), with
    the routes of the credential's modes: France Connect for tokens, the others for keys."""
    found = []
    for product in PRODUCTS:
        opened = [s.name for s in product.scopes() if s.name in scopes]
        modes = [m for m in product.modes if (m == FRANCE_CONNECT) == (kind == ACCESS_TOKEN)]
        if not opened or not modes:
            continue
        found.append(
            {
                "key": product.key,
                "title": product.title_fr,
                "provider": product.provider,
                "scopes": opened,
                "routes": [product.route(mode) for mode in modes],
            }
        )
    return found


def with_absolute_links(body: dict[str, Any], introspect_url: str) -> dict[str, Any]:
    """``errors.forbidden`` links the rights of the caller by path, not knowing this API's
    public address: the link is made absolute here, in ``meta.introspect`` and in the text."""
    for item in body.get("errors", ()):
        meta = item.get("meta") or {}
        if meta.get("introspect") == errors.INTROSPECT_PATH:
            meta["introspect"] = introspect_url
            item["detail"] = item["detail"].replace(errors.INTROSPECT_PATH, introspect_url)
    return body
