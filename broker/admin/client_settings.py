"""What a client's owner changes after registration: its addresses, its keys, its service's
logo. Each field is checked by the very functions ``broker clients add`` uses, then the whole
registration again by ``validate`` (its rules across fields: private_key_jwt needs keys,
encrypted responses need a key to encrypt to...), so that the portal and the command line can
never disagree. Every change is recorded in the audit trail in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlmodel import Session

from broker.admin import audit
from broker.admin.client_access import ClientManager, managed_client
from broker.admin.client_jwks import check_client_jwks
from broker.admin.client_profile import AdminError
from broker.admin.clients import (
    MAX_URIS,
    ClientRegistration,
    check_fetched_url,
    check_https_url,
    check_redirect_uri,
    logo_media_type,
    validate,
)
from broker.core.outbound.policy import DEVELOPMENT, OutboundPolicy
from broker.store.models import OAuthClient, Service

# The fields of the forms, as errors name them.
REDIRECT_URIS = "redirect_uris"
POST_LOGOUT_REDIRECT_URIS = "post_logout_redirect_uris"
NOTIFICATION_URI = "notification_uri"
BACKCHANNEL_LOGOUT_URI = "backchannel_logout_uri"
JWKS = "jwks"
JWKS_URI = "jwks_uri"
LOGO = "logo"
WHOLE = "registration"  # a rule across fields


class ClientChangeRefused(AdminError):
    """The change breaks a rule: ``errors`` maps each refused field to why (nothing was
    written)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {why}" for name, why in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Addresses:
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()
    notification_uri: str | None = None
    backchannel_logout_uri: str | None = None


@dataclass(frozen=True)
class Keys:
    """The client's public keys: inline or at an address, not both; neither for a client that
    authenticates with a secret and asks for no encrypted response."""

    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None


def registration_of(client: OAuthClient) -> ClientRegistration:
    """The registration the client runs on, as ``broker clients add`` would have made it."""

    def pair(alg: str | None, enc: str | None) -> tuple[str, str] | None:
        return (alg, enc) if alg and enc else None

    return ClientRegistration(
        name=client.name,
        redirect_uris=list(client.redirect_uris),
        scope=client.scope,
        auth_method=client.auth_method,
        jwks_uri=client.jwks_uri,
        jwks=client.jwks,
        id_token_alg=client.id_token_signed_response_alg,
        access_token_ttl=client.access_token_ttl,
        client_id=client.client_id,
        notification_uri=client.notification_uri,
        post_logout_redirect_uris=tuple(client.post_logout_redirect_uris or ()),
        profile=client.profile,
        require_par=client.require_pushed_authorization_requests,
        dpop=client.dpop_bound_access_tokens,
        backchannel_logout_uri=client.backchannel_logout_uri,
        id_token_encryption=pair(
            client.id_token_encrypted_response_alg, client.id_token_encrypted_response_enc
        ),
        userinfo_encryption=pair(
            client.userinfo_encrypted_response_alg, client.userinfo_encrypted_response_enc
        ),
        userinfo_signed_response_alg=client.userinfo_signed_response_alg,
    )


def addresses_of(client: OAuthClient) -> dict[str, Any]:
    return {
        REDIRECT_URIS: list(client.redirect_uris),
        POST_LOGOUT_REDIRECT_URIS: list(client.post_logout_redirect_uris or []),
        NOTIFICATION_URI: client.notification_uri,
        BACKCHANNEL_LOGOUT_URI: client.backchannel_logout_uri,
    }


def keys_of(client: OAuthClient) -> dict[str, Any]:
    """Public keys only (``validate`` refused any other): fit for the audit trail."""
    return {JWKS: client.jwks, JWKS_URI: client.jwks_uri}


def field_error(errors: dict[str, str], name: str, check: Callable[[], None]) -> None:
    if name in errors:
        return
    try:
        check()
    except AdminError as exc:
        errors[name] = str(exc)


def check_uris(uris: tuple[str, ...], check: Callable[[str], None]) -> Callable[[], None]:
    def run() -> None:
        if len(uris) > MAX_URIS:
            raise AdminError(f"at most {MAX_URIS} addresses")
        for uri in uris:
            check(uri)

    return run


def fetched_url_check(uri: str, what: str, outbound: OutboundPolicy) -> Callable[[], None]:
    return lambda: check_fetched_url(uri, what, outbound)


def check_whole(reg: ClientRegistration, outbound: OutboundPolicy) -> None:
    try:
        validate(reg, outbound)
    except AdminError as exc:
        raise ClientChangeRefused({WHOLE: str(exc)}) from exc


def update_addresses(
    session: Session,
    manager: ClientManager,
    client_id: str,
    addresses: Addresses,
    outbound: OutboundPolicy = DEVELOPMENT,
) -> dict[str, Any]:
    """The client's redirect, post-logout redirect, notification and back-channel logout
    URIs, replaced as given (duplicates dropped, order kept). Returns them as stored."""
    client, _ = managed_client(session, manager, client_id, for_update=True)
    redirect_uris = tuple(dict.fromkeys(addresses.redirect_uris))
    logout_uris = tuple(dict.fromkeys(addresses.post_logout_redirect_uris))
    errors: dict[str, str] = {}
    if not redirect_uris:
        errors[REDIRECT_URIS] = "at least one redirect URI is required"
    field_error(errors, REDIRECT_URIS, check_uris(redirect_uris, check_redirect_uri))
    field_error(
        errors,
        POST_LOGOUT_REDIRECT_URIS,
        check_uris(logout_uris, lambda uri: check_https_url(uri, "post-logout redirect URI")),
    )
    for name, what, uri in (
        (NOTIFICATION_URI, "notification URI", addresses.notification_uri),
        (BACKCHANNEL_LOGOUT_URI, "back-channel logout URI", addresses.backchannel_logout_uri),
    ):
        if uri:
            field_error(errors, name, fetched_url_check(uri, what, outbound))
    if errors:
        raise ClientChangeRefused(errors)
    before = addresses_of(client)
    check_whole(
        replace(
            registration_of(client),
            redirect_uris=list(redirect_uris),
            post_logout_redirect_uris=logout_uris,
            notification_uri=addresses.notification_uri or None,
            backchannel_logout_uri=addresses.backchannel_logout_uri or None,
        ),
        outbound,
    )
    client.redirect_uris = list(redirect_uris)
    client.post_logout_redirect_uris = list(logout_uris)
    client.notification_uri = addresses.notification_uri or None
    client.backchannel_logout_uri = addresses.backchannel_logout_uri or None
    return record_change(session, manager, client, "client.update", before, addresses_of(client))


def update_keys(
    session: Session,
    manager: ClientManager,
    client_id: str,
    keys: Keys,
    outbound: OutboundPolicy = DEVELOPMENT,
) -> dict[str, Any]:
    """The client's public keys, replaced: an inline JWKS or a ``jwks_uri``."""
    client, _ = managed_client(session, manager, client_id, for_update=True)
    errors: dict[str, str] = {}
    if keys.jwks is not None and keys.jwks_uri:
        errors[JWKS] = "register the keys either inline (a JWKS) or by their address, not both"
    if keys.jwks is not None:
        field_error(errors, JWKS, lambda: check_client_jwks(keys.jwks))
    if keys.jwks_uri:
        field_error(errors, JWKS_URI, fetched_url_check(keys.jwks_uri, "jwks_uri", outbound))
    if errors:
        raise ClientChangeRefused(errors)
    before = keys_of(client)
    check_whole(
        replace(registration_of(client), jwks=keys.jwks, jwks_uri=keys.jwks_uri or None),
        outbound,
    )
    client.jwks, client.jwks_uri = keys.jwks, keys.jwks_uri or None
    return record_change(session, manager, client, "client.update_keys", before, keys_of(client))


def set_client_logo(
    session: Session, manager: ClientManager, client_id: str, image: bytes
) -> dict[str, Any]:
    """The logo of the client's service (every client of that service shows it), checked as
    ``broker clients logo`` checks it."""
    client, service = managed_client(session, manager, client_id, for_update=True)
    try:
        media_type = logo_media_type(image)
    except AdminError as exc:
        raise ClientChangeRefused({LOGO: str(exc)}) from exc
    before = logo_of(service)
    service.logo, service.logo_type = image, media_type
    session.add(service)
    session.flush()
    after = logo_of(service)
    audit.record(
        session,
        actor=manager.actor,
        action="service.set_logo",
        target_type="service",
        target_id=service.id,
        before=before,
        after={**after, "via_client": client.client_id},
    )
    return after


def logo_of(service: Service) -> dict[str, Any]:
    return {
        "logo_type": service.logo_type,
        "logo_bytes": len(service.logo) if service.logo is not None else 0,
    }


def record_change(
    session: Session,
    manager: ClientManager,
    client: OAuthClient,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> dict[str, Any]:
    session.add(client)
    session.flush()
    audit.record(
        session,
        actor=manager.actor,
        action=action,
        target_type="client",
        target_id=client.client_id,
        before=before,
        after=after,
    )
    return after
