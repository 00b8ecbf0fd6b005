"""The release of the citizen's identity to a service, as the access journal records it.

The broker's ID tokens carry the pairwise ``sub`` and protocol claims only (``idp``, ``sid``,
``acr``…: see ``BrokerOpenIDCode.generate_user_info``), at the code exchange as at a refresh
(which issues no ID token): the identity itself (names, birth, email) leaves at /userinfo, and
only there. So a release is journaled for each userinfo answer that carries at least one
identity claim beyond ``sub``. The ``sub`` alone is not journaled: it is a pseudonym made for
that one service (Core §8.1), which the consent already records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from broker.catalogue.scopes import REGISTRY
from broker.oidc.models import AccessTokenRecord, Client

USERINFO = "userinfo"  # the journal's ``credential`` for a userinfo answer


@dataclass(frozen=True)
class IdentityRelease:
    """One sending of the citizen's identity to a service."""

    credential: str  # USERINFO
    credential_id: str | None  # the access token's jti
    citizen_id: str
    client_id: str
    service_id: str
    subject: str  # the pairwise ``sub`` the service got
    scopes: tuple[str, ...]  # identity scopes only: ``openid`` first, then the registry's order


def released_scopes(granted: Iterable[str], claims: Mapping[str, Any]) -> tuple[str, ...]:
    """The identity scopes among ``granted`` whose claims ``claims`` carries (a scope whose
    claims the citizen has no value for released nothing); empty when ``claims`` carries no
    identity claim beyond ``sub``. Data scopes are never among them."""
    sent = claims.keys() - {"sub"}
    granted = set(granted)
    released = tuple(
        scope.name
        for scope in REGISTRY.identity_scopes()
        if scope.name in granted and scope.name != "openid" and sent.intersection(scope.claims)
    )
    if not released:
        return ()
    return ("openid", *released) if "openid" in granted else released


def userinfo_release(
    token: AccessTokenRecord, client: Client, claims: Mapping[str, Any]
) -> IdentityRelease | None:
    """What a userinfo answer of ``claims`` releases, None if it releases no identity."""
    scopes = released_scopes(token.scope.split(), claims)
    if not scopes:
        return None
    return IdentityRelease(
        credential=USERINFO,
        credential_id=token.jti,
        citizen_id=token.citizen_id,
        client_id=token.client_id,
        service_id=client.service_id,
        subject=claims["sub"],
        scopes=scopes,
    )
