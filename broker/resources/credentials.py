"""Who is calling the data API, and what they may read.

Two credentials: a citizen's access token from our broker (France Connect mode) or an API key
bound to a habilitation (API Particulier mode). Both are checked against the database on every
call, so a revoked token, key or habilitation stops working on the very next request.

An access token bound to a DPoP key (RFC 9449) comes as ``Authorization: DPoP <token>`` with a
proof of this very call; an unbound one, and an API key, as ``Bearer`` (``broker.oidc.
dpop_resource`` holds the rules). Refusals keep the JSON:API body and carry the RFC's
``WWW-Authenticate`` challenge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from joserfc.jwk import KeySet

from broker.catalogue.products import FRANCE_CONNECT, Product
from broker.core.security import digest
from broker.oidc.config import OidcConfig
from broker.oidc.dpop import DpopProof
from broker.oidc.dpop_resource import (
    BARE_CHALLENGE,
    BEARER,
    BOUND,
    DPOP,
    NOT_BOUND,
    PresentedToken,
    ResourceRefusal,
    admit_proof,
    invalid_token,
    presented_token,
)
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
    expires_at: int | None = None  # access tokens (keys do not expire: their habilitation does)
    dpop_bound: bool = False  # access tokens bound to a DPoP key (RFC 9449)


@dataclass(frozen=True)
class Permission:
    habilitation: HabilitationGrant
    scopes: frozenset[str]  # the product's scopes this caller may read


def credential_from(headers) -> PresentedToken | None:
    """``Authorization: Bearer …`` (tokens and keys), ``Authorization: DPoP …`` (DPoP-bound
    tokens) or ``X-Api-Key: …`` (keys)."""
    presented = presented_token(headers.get("authorization"))
    if presented is not None:
        return presented
    key = headers.get("x-api-key", "").strip()
    return PresentedToken(BEARER, key) if key else None


def authenticate(
    credential: PresentedToken | None,
    oidc: SqlOidcStore,
    data: SqlDataAccessStore,
    keys: Callable[[], KeySet],
    config: OidcConfig,
    now: int,
    proof: DpopProof | None = None,
) -> Caller:
    """``keys`` is called only for access tokens: an API-key call never needs them.
    ``proof``: a DPoP presentation's proof, its stateless checks passed; it is spent here,
    once the token and its client are known (commit ``oidc``'s transaction right after)."""
    if not credential:
        raise errors.unauthorized(
            "Aucun jeton ni clé d'API : envoyez « Authorization: Bearer "
            "<jeton> » ou « X-Api-Key: <clé> ».",
            headers={"WWW-Authenticate": BARE_CHALLENGE},
        )
    if credential.token.startswith(API_KEY_PREFIX):
        if credential.scheme == DPOP:
            raise refused(
                invalid_token(credential, "API keys are presented as Bearer or X-Api-Key."),
                "Une clé d'API se présente en « Bearer » ou en « X-Api-Key », pas en « DPoP ».",
            )
        return _api_key_caller(credential, data, now)
    return _token_caller(credential, oidc, keys, config, now, proof)


def _api_key_caller(credential: PresentedToken, data: SqlDataAccessStore, now: int) -> Caller:
    record = data.get_api_key(digest(credential.token))
    if record is None:
        raise caller_refused(credential, "Unknown API key.", "Cette clé d'API est inconnue.")
    if record.revoked_at is not None:
        raise caller_refused(
            credential,
            "The API key has been revoked.",
            "Cette clé d'API a été révoquée.",
            errors.REVOKED,
        )
    habilitation = record.habilitation
    if record.habilitation_revoked_at is not None:
        raise caller_refused(
            credential,
            "The API key's habilitation has been revoked.",
            "L'habilitation de cette clé d'API a été révoquée.",
            errors.REVOKED,
        )
    if not habilitation.active_at(now):
        raise caller_refused(
            credential,
            "The API key's habilitation has expired.",
            "L'habilitation de cette clé d'API a expiré.",
            errors.EXPIRED,
        )
    return Caller(
        kind=API_KEY,
        credential_id=record.id,
        service_id=record.service_id,
        scopes=habilitation.scopes,
        habilitation=habilitation,
    )


def _token_caller(
    presented: PresentedToken,
    oidc: SqlOidcStore,
    keys: Callable[[], KeySet],
    config: OidcConfig,
    now: int,
    proof: DpopProof | None,
) -> Caller:
    try:
        record = verify_access_token(
            presented.token, keys(), config, oidc, audience=config.resource_audience, now=now
        )
    except InvalidAccessToken as exc:
        raise refused(
            invalid_token(presented, exc.description),
            _french(exc.description),
            TOKEN_REASONS.get(exc.description, errors.INVALID),
        ) from exc
    client = oidc.get_client(record.client_id)
    if client is None:
        raise caller_refused(
            presented,
            "The access token's client no longer exists.",
            "Le client de ce jeton n'existe plus ou a été désactivé.",
        )
    try:
        admit_proof(oidc, presented, record.jkt, client, proof)
    except ResourceRefusal as refusal:
        raise refused(refusal) from refusal
    return Caller(
        kind=ACCESS_TOKEN,
        credential_id=record.jti,
        service_id=client.service_id,
        scopes=frozenset(record.scope.split()),
        client=client,
        citizen_id=record.citizen_id,
        subject=pairwise_subject(config, client.sector_identifier, record.citizen_id),
        grant_id=record.grant_id,
        expires_at=record.expires_at,
        dpop_bound=record.jkt is not None,
    )


TOKEN_REASONS = {
    "The access token has been revoked.": errors.REVOKED,
    "The access token has expired.": errors.EXPIRED,
}
_TOKEN_ERRORS = {
    "The access token has been revoked.": "Ce jeton d'accès a été révoqué.",
    "The access token has expired.": "Ce jeton d'accès a expiré.",
    "The access token is expired or not meant for this endpoint.": (
        "Ce jeton d'accès a expiré ou n'est pas destiné à cette API."
    ),
    "The token is not an access token.": "Ce jeton n'est pas un jeton d'accès.",
}


_DPOP_ERRORS = {
    "invalid_dpop_proof": (
        "La preuve DPoP est invalide, déjà utilisée ou ne correspond pas à cet appel "
        "(détail dans l'en-tête WWW-Authenticate)."
    ),
    "use_dpop_nonce": (
        "L'API demande dans la preuve DPoP le nonce donné par l'en-tête DPoP-Nonce "
        "de cette réponse."
    ),
}
_BINDING_ERRORS = {
    NOT_BOUND: "Ce jeton n'est pas lié à une clé DPoP : présentez-le en « Authorization: Bearer ».",
    BOUND: (
        "Ce jeton est lié à une clé DPoP : présentez-le en « Authorization: DPoP » avec une preuve."
    ),
}


def refused(
    refusal: ResourceRefusal, detail: str | None = None, reason: str = errors.INVALID
) -> errors.ApiError:
    """A 401 in JSON:API form (French ``detail``) with the RFC's challenge in the headers;
    ``reason`` picks siade's code (invalid 00101, expired 00103, revoked 00105)."""
    if detail is None:
        detail = _BINDING_ERRORS.get(refusal.description) or _DPOP_ERRORS.get(
            refusal.error, "Ce jeton d'accès est invalide."
        )
    return errors.unauthorized(detail, headers=refusal.headers(), reason=reason)


def caller_refused(
    credential: PresentedToken | None,
    description: str,
    detail: str,
    reason: str = errors.INVALID,
) -> errors.ApiError:
    """A credential refused after it was read (unknown or revoked key, consent withdrawn):
    ``invalid_token`` in the scheme it came with (RFC 6750 §3, RFC 9449 §7.1), ``detail`` in
    French in the body."""
    presented = credential or PresentedToken(BEARER, "")
    return refused(invalid_token(presented, description), detail, reason)


def consent_withdrawn(credential: PresentedToken | None) -> errors.ApiError:
    """A token whose consent grant no longer holds: refused like an invalid token."""
    return caller_refused(
        credential,
        "The consent behind the access token was withdrawn or has expired.",
        "L'usager a retiré son consentement, ou il a expiré.",
    )


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
        habilitation = _consented_habilitation(caller, consented_under, now)
        if not wanted <= habilitation.scopes:
            habilitation = None
    if habilitation is None or not habilitation.active_at(now):
        raise errors.forbidden("Aucune habilitation active de votre service ne couvre ces données.")
    return Permission(habilitation=habilitation, scopes=frozenset(wanted))


def _consented_habilitation(
    caller: Caller, consented_under: str | None, now: int
) -> HabilitationGrant:
    """The habilitation a token's consent was given under, while it runs: once it is revoked
    or has expired, the token opens no data, and the refusal says why."""
    if caller.client is None:  # _token_caller always sets it
        raise ValueError("access-token caller without its client")
    if consented_under is None:
        raise errors.forbidden("Aucune habilitation active de votre service ne couvre ces données.")
    # The client's habilitations are its unrevoked ones: one missing here was revoked.
    habilitation = next((h for h in caller.client.habilitations if h.id == consented_under), None)
    if habilitation is None:
        raise errors.forbidden(
            "L'habilitation sous laquelle l'usager a consenti a été révoquée : ce jeton "
            "ne donne plus accès à ces données."
        )
    if not habilitation.active_at(now):
        raise errors.forbidden(
            "L'habilitation sous laquelle l'usager a consenti a expiré : ce jeton ne donne "
            "plus accès à ces données."
        )
    return habilitation
