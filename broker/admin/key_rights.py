"""What the API keys of a habilitation may do on the data API: its data scopes grouped by
provider, the products (and routes) they open, for which recipients, purpose, until when, how
fast. Every key of a habilitation may do the same: the rights are the habilitation's."""

from __future__ import annotations

from dataclasses import dataclass

from broker.catalogue.products import FRANCE_CONNECT, PRODUCTS, Product
from broker.catalogue.registry import DataProvider, Scope
from broker.catalogue.scopes import REGISTRY
from broker.store.data_access_models import Habilitation


@dataclass(frozen=True)
class ScopeGroup:
    provider: DataProvider
    scopes: tuple[Scope, ...]


@dataclass(frozen=True)
class Endpoint:
    """A product the habilitation opens: the routes a key calls (``key_routes``), and whether
    it also (or only) answers citizens' access tokens in France Connect mode."""

    product: Product
    scopes: tuple[str, ...]  # the habilitation's scopes that open it
    key_routes: tuple[str, ...]  # /v3/… or /v4/… paths, API-key modes only
    france_connect_route: str | None  # for access tokens, never for a key


@dataclass(frozen=True)
class KeyRights:
    groups: tuple[ScopeGroup, ...]
    endpoints: tuple[Endpoint, ...]
    recipients: tuple[str, ...]  # SIRETs the data may be sent to (empty: not stated)
    purpose: str
    legal_basis: str
    expires_at: int | None
    rate_limit: int  # requests per minute, per key
    default_rate_limit: bool  # the platform's, the habilitation names none


def key_rights(habilitation: Habilitation, platform_rate_limit: int) -> KeyRights:
    scopes = set(habilitation.scopes)
    groups = tuple(
        ScopeGroup(provider, tuple(items))
        for provider, items in REGISTRY.group_by_provider(scopes)
        if provider is not None  # habilitations hold data scopes only
    )
    return KeyRights(
        groups=groups,
        endpoints=tuple(endpoints_for(scopes)),
        recipients=tuple(habilitation.recipients or ()),
        purpose=habilitation.purpose,
        legal_basis=habilitation.legal_basis,
        expires_at=habilitation.expires_at,
        rate_limit=habilitation.rate_limit or platform_rate_limit,
        default_rate_limit=habilitation.rate_limit is None,
    )


def endpoints_for(scopes: set[str]) -> list[Endpoint]:
    """The products at least one of ``scopes`` opens, in catalogue order (the data API masks
    the fields of the product's other scopes)."""
    found = []
    for product in PRODUCTS:
        opened = [s.name for s in product.scopes() if s.name in scopes]
        if not opened:
            continue
        found.append(
            Endpoint(
                product=product,
                scopes=tuple(opened),
                key_routes=tuple(product.route(m) for m in product.modes if m != FRANCE_CONNECT),
                france_connect_route=(
                    product.route(FRANCE_CONNECT) if FRANCE_CONNECT in product.modes else None
                ),
            )
        )
    return found
