"""The two sides of registering the broker (and the operators' portal) at the demo identity
providers, as an operator would do at a real one: the providers know the broker as a client
(its id, secret and redirect URIs), and the broker's registry knows the providers (``broker
demo seed``); the portal finds the agents' provider by its issuer (``BROKER_PORTAL_IDP_ISSUER``).

Both sides derive the client secret from the broker's key-encryption secret, so the two
processes agree on it without it being written anywhere."""

from __future__ import annotations

import time
from typing import Any

from sqlmodel import Session

from broker.core.security import keyed_digest
from broker.core.settings import Settings
from broker.demo.idp.provider import DemoIdpClient
from broker.demo.idp.sites import SITES, DemoSite
from broker.identity.federation.service import redirect_uri
from broker.keys.vault import KeyVault, derive_key
from broker.store.federation_models import IdentityProviderRecord
from broker.store.identity_providers import seal_secret

# The demo providers authenticate the broker each their own way, as real ones would.
AUTH_METHODS = {
    "identite-demo": "client_secret_basic",
    "identite-demo-renforcee": "client_secret_post",
}
DEMO_SCOPES = (
    "openid given_name family_name preferred_username birthdate gender birthplace "
    "birthcountry email"
)


def demo_client_secret(settings: Settings) -> str:
    key = derive_key(settings.secret, "demo identity providers client secret v1")
    return keyed_digest(key, settings.demo_idp_client_id)


def post_logout_uri(issuer: str) -> str:
    return f"{issuer}/federation/logged-out"


def broker_as_client(settings: Settings, issuer: str | None = None) -> DemoIdpClient:
    """The broker as the demo providers know it."""
    issuer = (issuer or settings.issuer_url).rstrip("/")
    return DemoIdpClient(
        client_id=settings.demo_idp_client_id,
        client_secret=demo_client_secret(settings),
        redirect_uris=frozenset(redirect_uri(issuer, key) for key in SITES),
        post_logout_redirect_uris=frozenset({post_logout_uri(issuer)}),
    )


# The operators' portal's sign-in callback and signed-out page (broker.portal.signin_pages).
PORTAL_CALLBACK = "/connexion/retour"
PORTAL_SIGNED_OUT = "/deconnexion/terminee"


def portal_as_client(settings: Settings, portal_url: str | None = None) -> DemoIdpClient:
    """The operators' portal as the demo agents' provider knows it (its secret derived from the
    key-encryption secret on both sides: ``Settings.portal_client_secret``)."""
    base = (portal_url or settings.portal_url).rstrip("/")
    return DemoIdpClient(
        client_id=settings.portal_idp_client_id,
        client_secret=settings.portal_client_secret,
        redirect_uris=frozenset({base + PORTAL_CALLBACK}),
        post_logout_redirect_uris=frozenset({base + PORTAL_SIGNED_OUT}),
    )


def demo_issuer(settings: Settings, site: DemoSite) -> str:
    return f"{settings.demo_idp_url.rstrip('/')}/{site.key}"


def seed_demo_idps(session: Session, settings: Settings) -> list[str]:
    """The demo providers in the broker's registry, at ``BROKER_DEMO_IDP_URL`` (idempotent:
    an existing entry follows the settings)."""
    vault = KeyVault(settings.secret)
    now = int(time.time())
    for position, site in enumerate(SITES.values()):
        record = session.get(IdentityProviderRecord, site.key) or IdentityProviderRecord(
            id=site.key,
            name=site.label,
            kind="oidc",
            issuer="",
            client_id="",
            auth_method="",
            scopes="",
            acr_values=[],
            id_token_algs=[],
            enabled=True,
            created_at=now,
            updated_at=now,
        )
        record.name = site.label
        record.issuer = demo_issuer(settings, site)
        record.client_id = settings.demo_idp_client_id
        record.client_secret_sealed = seal_secret(vault, site.key, demo_client_secret(settings))
        record.auth_method = AUTH_METHODS[site.key]
        record.scopes = DEMO_SCOPES
        record.acr_values = list(site.acr_values)
        record.id_token_algs = ["ES256"]
        record.signed_userinfo = site.signed_userinfo
        record.demo, record.position, record.updated_at = True, position, now
        session.add(record)
    session.flush()
    return list(SITES)


def describe_demo_idps(settings: Settings) -> list[dict[str, Any]]:
    return [
        {"id": site.key, "name": site.label, "issuer": demo_issuer(settings, site)}
        for site in SITES.values()
    ]
