"""The UserInfo endpoint (OpenID Connect Core §5.3): claims released by the token's scopes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from broker.oidc.config import OidcConfig
from broker.oidc.models import AccessTokenRecord, CitizenIdentity, Client
from broker.oidc.tokens import pairwise_subject


def userinfo_claims(
    config: OidcConfig,
    token: AccessTokenRecord,
    client: Client,
    citizen: CitizenIdentity,
    claims_for: Callable[[Iterable[str]], set[str]],
) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": pairwise_subject(config, client.sector_identifier, citizen.id)}
    for name in sorted(claims_for(token.scope.split()) - {"sub"}):
        value = citizen.claim(name)
        if value is not None:
            claims[name] = value
    return claims
