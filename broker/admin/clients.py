"""Registering services and their OpenID Connect clients."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from broker.admin.client_jwks import check_client_jwks
from broker.admin.client_profile import AdminError as AdminError
from broker.admin.client_profile import check_encryption, check_profile
from broker.catalogue.scopes import REGISTRY
from broker.core.outbound.policy import (
    DEVELOPMENT,
    OutboundPolicy,
    OutboundRefused,
    check_destination,
)
from broker.core.security import digest, random_token
from broker.core.settings import LOOPBACK_HOSTS, MAX_ACCESS_TOKEN_TTL
from broker.keys.keystore import SUPPORTED_ALGS
from broker.oidc.models import AUTH_METHODS, FAPI2, SECRET_METHODS
from broker.store.models import OAuthClient, Service


@dataclass(frozen=True)
class ClientRegistration:
    name: str
    redirect_uris: list[str]
    scope: str
    auth_method: str = "client_secret_basic"
    jwks_uri: str | None = None
    jwks: dict[str, Any] | None = None
    id_token_alg: str = "ES256"
    access_token_ttl: int = 600
    client_id: str | None = None
    notification_uri: str | None = None  # back-channel consent events (see docs/integration.md)
    post_logout_redirect_uris: tuple[str, ...] = ()  # RP-initiated logout, matched exactly
    profile: str | None = None  # "fapi2": the FAPI 2.0 Security Profile, with what it implies
    require_par: bool = False  # RFC 9126 §6
    dpop: bool = False  # RFC 9449 §5.2 dpop_bound_access_tokens
    backchannel_logout_uri: str | None = None  # OpenID Connect Back-Channel Logout 1.0
    id_token_encryption: tuple[str, str] | None = None  # (alg, enc)
    userinfo_encryption: tuple[str, str] | None = None  # (alg, enc)
    userinfo_signed_response_alg: str | None = None
    service: str | None = None  # the service it joins (by name); None: the one named ``name``

    def with_profile(self) -> ClientRegistration:
        """The registration as its profile makes it: a FAPI 2.0 client pushes its requests
        and binds its tokens with DPoP, whatever else it asked."""
        if self.profile == FAPI2:
            return replace(self, require_par=True, dpop=True)
        return self


# RFC 3986's alphabet: a URL to register is written in it (a non-ASCII name in its punycode
# form, other characters percent-encoded). No space, quote, angle bracket, control character.
URL_ALPHABET = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
MAX_URL_LENGTH = 2000  # the columns' size
MAX_URIS = 20  # per list (redirect, post-logout): a client has a few, not a catalogue


def check_https_url(uri: str, what: str) -> None:
    """A URL the broker sends browsers to, matched exactly: absolute http(s), plain http on
    loopback only (in every environment), no fragment, no wildcard, no user:password@."""
    check_length(uri, what)
    if not URL_ALPHABET.fullmatch(uri):
        raise AdminError(
            f"{what} must be a URL written with URL characters only (no space, quote or "
            f"control character; non-ASCII percent-encoded): {uri!r}"
        )
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise AdminError(f"{what} must be an absolute http(s) URL: {uri}")
    if "*" in uri:
        raise AdminError(f"{what} must not contain a wildcard (matched exactly): {uri}")
    if "@" in parts.netloc:
        raise AdminError(f"{what} must not carry userinfo (user:password@): {uri}")
    if parts.fragment or "#" in uri:
        raise AdminError(f"{what} must not have a fragment: {uri}")
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number in range)
    except ValueError:
        raise AdminError(f"{what} has an invalid port: {uri}") from None
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise AdminError(f"plain http is only allowed on loopback for {what}: {uri}")


def check_length(uri: str, what: str) -> None:
    if len(uri) > MAX_URL_LENGTH:
        raise AdminError(f"{what} must be at most {MAX_URL_LENGTH} characters long")


def check_redirect_uri(uri: str) -> None:
    check_https_url(uri, "redirect URI")


def check_fetched_url(uri: str, what: str, outbound: OutboundPolicy) -> None:
    """A URL the broker itself will call: https in production, and never towards a private,
    loopback (outside development), link-local or reserved address, whether written as an
    address in any spelling or as a name resolving to one now. A name that does not resolve
    yet is accepted (with a warning in the logs): the connection guard checks every call."""
    check_length(uri, what)
    if urlsplit(uri).fragment:
        raise AdminError(f"{what} must not have a fragment: {uri}")
    try:
        check_destination(uri, outbound)
    except OutboundRefused as exc:
        raise AdminError(f"{what} refused, the broker does not call it ({exc}): {uri}") from exc


def validate(reg: ClientRegistration, outbound: OutboundPolicy = DEVELOPMENT) -> list[str]:
    if not reg.name.strip():
        raise AdminError("a client needs a name")
    if not reg.redirect_uris:
        raise AdminError("at least one --redirect-uri is required")
    if max(len(reg.redirect_uris), len(reg.post_logout_redirect_uris)) > MAX_URIS:
        raise AdminError(f"at most {MAX_URIS} redirect URIs of each kind")
    for uri in reg.redirect_uris:
        check_redirect_uri(uri)
    scopes = list(dict.fromkeys(reg.scope.split()))
    if unknown := REGISTRY.unknown(scopes):
        raise AdminError(f"unknown scopes: {' '.join(unknown)}")
    if "openid" not in scopes:
        raise AdminError("the openid scope is required")
    if reg.auth_method not in AUTH_METHODS:
        raise AdminError(f"--auth-method must be one of {', '.join(AUTH_METHODS)}")
    if reg.auth_method == "private_key_jwt" and not (reg.jwks_uri or reg.jwks):
        raise AdminError("private_key_jwt needs --jwks-uri")
    if reg.jwks_uri and reg.jwks is not None:
        # OpenID Connect Dynamic Client Registration §2: never both, which would be used?
        raise AdminError("register the keys either inline (a JWKS) or by --jwks-uri, not both")
    if reg.jwks is not None:
        check_client_jwks(reg.jwks)
    if reg.jwks_uri:
        check_fetched_url(reg.jwks_uri, "--jwks-uri", outbound)
    if reg.notification_uri:
        check_fetched_url(reg.notification_uri, "--notification-uri", outbound)
    for uri in reg.post_logout_redirect_uris:
        check_https_url(uri, "--post-logout-redirect-uri")
    if reg.backchannel_logout_uri:
        # OpenID Connect Back-Channel Logout 1.0 §2.2: no fragment; the broker calls it.
        check_fetched_url(reg.backchannel_logout_uri, "--backchannel-logout-uri", outbound)
    if reg.id_token_alg not in SUPPORTED_ALGS:
        raise AdminError(f"ID token algorithm must be one of {', '.join(SUPPORTED_ALGS)}")
    if reg.userinfo_signed_response_alg and reg.userinfo_signed_response_alg not in SUPPORTED_ALGS:
        raise AdminError(f"userinfo signing algorithm must be one of {', '.join(SUPPORTED_ALGS)}")
    check_encryption("ID token", reg.id_token_encryption, reg)
    check_encryption("userinfo", reg.userinfo_encryption, reg)
    check_profile(reg)
    if not 60 <= reg.access_token_ttl <= MAX_ACCESS_TOKEN_TTL:
        raise AdminError(
            f"access token lifetime must be between 60 and {MAX_ACCESS_TOKEN_TTL} seconds"
        )
    return scopes


def service_for(session: Session, name: str, now: int) -> Service:
    service = session.exec(select(Service).where(Service.name == name)).first()
    if service is None:
        service = Service(
            id=str(uuid.uuid4()), name=name, sector_identifier=random_token(16), created_at=now
        )
        session.add(service)
        session.flush()
    return service


def add_client(
    session: Session, reg: ClientRegistration, outbound: OutboundPolicy = DEVELOPMENT
) -> dict[str, Any]:
    """Create the client (and its service if new); the secret is returned once, stored hashed.
    ``outbound``: the deployment's rule for the URLs the broker will call (``jwks_uri``,
    ``notification_uri``); the default is development's."""
    reg = reg.with_profile()
    scopes = validate(reg, outbound)
    now = int(time.time())
    service = service_for(session, (reg.service or reg.name).strip(), now)
    secret = random_token(32) if reg.auth_method in SECRET_METHODS else None
    client = OAuthClient(
        client_id=reg.client_id or generated_client_id(),
        service_id=service.id,
        name=reg.name.strip(),
        secret_digest=digest(secret) if secret else None,
        auth_method=reg.auth_method,
        redirect_uris=list(reg.redirect_uris),
        scope=" ".join(scopes),
        jwks_uri=reg.jwks_uri,
        jwks=reg.jwks,
        id_token_signed_response_alg=reg.id_token_alg,
        access_token_ttl=reg.access_token_ttl,
        notification_uri=reg.notification_uri,
        post_logout_redirect_uris=list(dict.fromkeys(reg.post_logout_redirect_uris)),
        profile=reg.profile,
        require_pushed_authorization_requests=reg.require_par,
        dpop_bound_access_tokens=reg.dpop,
        backchannel_logout_uri=reg.backchannel_logout_uri,
        id_token_encrypted_response_alg=(reg.id_token_encryption or (None, None))[0],
        id_token_encrypted_response_enc=(reg.id_token_encryption or (None, None))[1],
        userinfo_encrypted_response_alg=(reg.userinfo_encryption or (None, None))[0],
        userinfo_encrypted_response_enc=(reg.userinfo_encryption or (None, None))[1],
        userinfo_signed_response_alg=reg.userinfo_signed_response_alg,
        created_at=now,
    )
    session.add(client)
    session.flush()
    out = describe(client, service)
    if secret:
        out["client_secret"] = secret
    return out


def describe(client: OAuthClient, service: Service) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "service": service.name,
        "service_id": service.id,
        "token_endpoint_auth_method": client.auth_method,
        "redirect_uris": list(client.redirect_uris),
        "scope": client.scope,
        "jwks_uri": client.jwks_uri,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "access_token_ttl": client.access_token_ttl,
        "notification_uri": client.notification_uri,
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris or []),
        "profile": client.profile,
        "require_pushed_authorization_requests": client.require_pushed_authorization_requests,
        "dpop_bound_access_tokens": client.dpop_bound_access_tokens,
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "backchannel_logout_session_required": True,
        "id_token_encrypted_response_alg": client.id_token_encrypted_response_alg,
        "id_token_encrypted_response_enc": client.id_token_encrypted_response_enc,
        "userinfo_encrypted_response_alg": client.userinfo_encrypted_response_alg,
        "userinfo_encrypted_response_enc": client.userinfo_encrypted_response_enc,
        "userinfo_signed_response_alg": client.userinfo_signed_response_alg,
        "created_at": client.created_at,
        "disabled": client.disabled_at is not None,
    }


def list_clients(session: Session) -> list[dict[str, Any]]:
    rows = session.exec(
        select(OAuthClient, Service)
        .join(Service, col(Service.id) == col(OAuthClient.service_id))
        .order_by(col(OAuthClient.created_at))
    ).all()
    return [describe(client, service) for client, service in rows]


LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
MAX_LOGO_BYTES = 100_000


def logo_media_type(image: bytes) -> str:
    """The media type of a logo the consent screen may show: a PNG or JPEG (found by its
    first bytes, not by what the uploader says) of at most ``MAX_LOGO_BYTES``. SVG is
    refused: it can carry scripts."""
    if not image:
        raise AdminError("the logo file is empty")
    if len(image) > MAX_LOGO_BYTES:
        raise AdminError(f"the logo must be at most {MAX_LOGO_BYTES // 1000} kB")
    media_type = next((t for magic, t in LOGO_TYPES.items() if image.startswith(magic)), None)
    if media_type is None:
        raise AdminError("the logo must be a PNG or JPEG image")
    return media_type


def set_service_logo(session: Session, name: str, image: bytes) -> dict[str, Any]:
    """A PNG or JPEG shown on the consent screen, served by the broker itself (the pages load
    nothing from other origins)."""
    service = session.exec(select(Service).where(Service.name == name.strip())).first()
    if service is None:
        raise AdminError(f"no service named {name!r}")
    media_type = logo_media_type(image)
    service.logo, service.logo_type = image, media_type
    session.add(service)
    session.flush()
    return {
        "service": service.name,
        "service_id": service.id,
        "logo_type": media_type,
        "logo_bytes": len(image),
    }


def generated_client_id() -> str:
    """A random client id that never starts with "-", which command lines read as an option."""
    while (client_id := random_token(18)).startswith("-"):
        pass
    return client_id
