"""Who is calling the data API, and what they may read.

Two credentials: a citizen's access token from our broker (France Connect mode) or an API key
bound to a habilitation (API Particulier mode). Both are checked against the database on every
call, so a revoked token, key or habilitation stops working on the very next request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from joserfc.jwk import KeySet

from broker.catalogue.products import FRANCE_CONNECT, Product
from broker.core.security import digest
from broker.oidc.config import OidcConfig
from broker.oidc.models import Client, HabilitationGrant
from broker.oidc.tokens import InvalidAccessToken, pairwise_subject, verify_access_token
from broker.resources import errors
from broker.store.data_access_models import API_KEY_PREFIX
from broker.store.data_access_store import SqlDataAccessStore
from broker.store.oidc_store import SqlOidcStore

ACCESS_TOKEN = "access_token"
API_KEY = "api_key"


@dataclass(frozen=True)
class Caller:
    kind: str  # ACCESS_TOKEN | API_KEY
    credential_id: str  # token jti or API key id
    service_id: str
    scopes: frozenset[str]  # the token's scopes, or the key's habilitation's
    client: Client | None = None  # access tokens
    citizen_id: str | None = None  # access tokens
    subject: str | None = None  # the pairwise sub the service knows (access tokens)
    habilitation: HabilitationGrant | None = None  # API keys; tokens: resolved per product
    grant_id: str | None = None  # access tokens: the consent grant behind the token


@dataclass(frozen=True)
class Permission:
    habilitation: HabilitationGrant
    scopes: frozenset[str]  # the product's scopes this caller may read


def credential_from(headers) -> str | None:
    """``Authorization: Bearer …`` (tokens and keys) or ``X-Api-Key: …`` (keys)."""
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    key = headers.get("x-api-key", "").strip()
    return key or None


def authenticate(
    credential: str | None,
    oidc: SqlOidcStore,
    data: SqlDataAccessStore,
    keys: Callable[[], KeySet],
    config: OidcConfig,
    now: int,
) -> Caller:
    """``keys`` is called only for access tokens: an API-key call never needs them."""
    if not credential:
        raise errors.unauthorized(
            "Aucun jeton ni clé d'API : envoyez « Authorization: Bearer "
            "<jeton> » ou « X-Api-Key: <clé> »."
        )
    if credential.startswith(API_KEY_PREFIX):
        return _api_key_caller(credential, data, now)
    return _token_caller(credential, oidc, keys, config, now)


def _api_key_caller(credential: str, data: SqlDataAccessStore, now: int) -> Caller:
    record = data.get_api_key(digest(credential))
    if record is None:
        raise errors.unauthorized("Cette clé d'API est inconnue.")
    if record.revoked_at is not None:
        raise errors.unauthorized("Cette clé d'API a été révoquée.")
    habilitation = record.habilitation
    if record.habilitation_revoked_at is not None:
        raise errors.unauthorized("L'habilitation de cette clé d'API a été révoquée.")
    if not habilitation.active_at(now):
        raise errors.unauthorized("L'habilitation de cette clé d'API a expiré.")
    return Caller(
        kind=API_KEY,
        credential_id=record.id,
        service_id=record.service_id,
        scopes=habilitation.scopes,
        habilitation=habilitation,
    )


def _token_caller(
    credential: str, oidc: SqlOidcStore, keys: Callable[[], KeySet], config: OidcConfig, now: int
) -> Caller:
    try:
        record = verify_access_token(
            credential, keys(), config, oidc, audience=config.resource_audience, now=now
        )
    except InvalidAccessToken as exc:
        raise errors.unauthorized(_french(exc.description)) from exc
    client = oidc.get_client(record.client_id)
    if client is None:
        raise errors.unauthorized("Le client de ce jeton n'existe plus ou a été désactivé.")
    return Caller(
        kind=ACCESS_TOKEN,
        credential_id=record.jti,
        service_id=client.service_id,
        scopes=frozenset(record.scope.split()),
        client=client,
        citizen_id=record.citizen_id,
        subject=pairwise_subject(config, client.sector_identifier, record.citizen_id),
        grant_id=record.grant_id,
    )


_TOKEN_ERRORS = {
    "The access token has been revoked.": "Ce jeton d'accès a été révoqué.",
    "The access token has expired.": "Ce jeton d'accès a expiré.",
    "The access token is expired or not meant for this endpoint.": (
        "Ce jeton d'accès a expiré ou n'est pas destiné à cette API."
    ),
    "The token is not an access token.": "Ce jeton n'est pas un jeton d'accès.",
}


def _french(description: str) -> str:
    return _TOKEN_ERRORS.get(description, "Ce jeton d'accès est invalide (format ou signature).")


def permission(
    caller: Caller, product: Product, mode: str, now: int, consented_under: str | None = None
) -> Permission:
    """The product's scopes the caller may read, and the habilitation that allows it.

    For a token, that is the habilitation the citizen consented under (``consented_under``,
    from the grant), never another one covering the same scopes for another purpose."""
    if mode == FRANCE_CONNECT and caller.kind != ACCESS_TOKEN:
        raise errors.forbidden(
            "Le mode france_connect demande le jeton d'accès d'un usager, "
            "obtenu par le fournisseur d'identité ; une clé d'API ne suffit pas."
        )
    if mode != FRANCE_CONNECT and caller.kind != API_KEY:
        raise errors.forbidden(
            f"Le mode {mode} demande une clé d'API ; un jeton d'usager ne "
            "s'utilise qu'en mode france_connect."
        )
    wanted = caller.scopes & product.scope_names()
    if not wanted:
        raise errors.forbidden(
            "Ce jeton ou cette clé ne porte aucun des scopes de ce produit : "
            + ", ".join(sorted(product.scope_names()))
            + "."
        )
    habilitation = caller.habilitation
    if caller.kind == ACCESS_TOKEN:
        if caller.client is None:  # _token_caller always sets it
            raise ValueError("access-token caller without its client")
        habilitation = next(
            (
                h
                for h in caller.client.habilitations
                if h.id == consented_under and wanted <= h.scopes
            ),
            None,
        )
    if habilitation is None or not habilitation.active_at(now):
        raise errors.forbidden("Aucune habilitation active de votre service ne couvre ces données.")
    return Permission(habilitation=habilitation, scopes=frozenset(wanted))
