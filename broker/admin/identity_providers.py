"""The registry of upstream identity providers: adding, listing, enabling and disabling
them, and each service's allow and block lists."""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from broker.admin.clients import LOGO_TYPES, MAX_LOGO_BYTES, AdminError, check_fetched_url
from broker.core.outbound.policy import DEVELOPMENT, OutboundPolicy
from broker.keys.vault import KeyVault
from broker.store.federation_models import ClientIdpRule, IdentityProviderRecord
from broker.store.identity_providers import seal_secret
from broker.store.models import OAuthClient, Service

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
ACR_LEVELS = ("eidas1", "eidas2", "eidas3")
ID_TOKEN_ALGS = ("ES256", "RS256", "PS256", "ES384", "RS384", "PS384", "ES512", "RS512", "PS512")
DEFAULT_SCOPES = "openid given_name family_name birthdate gender birthplace birthcountry"
KINDS = ("oidc", "franceconnect_v2")
# FranceConnect v2: ES256 or RS256 signatures, userinfo always as a signed JWT, these scopes
# (docs.partenaires.franceconnect.gouv.fr, "Implémentation technique").
FRANCECONNECT_SCOPES = DEFAULT_SCOPES + " preferred_username email"


@dataclass(frozen=True)
class ProviderRegistration:
    name: str
    issuer: str
    client_id: str
    client_secret: str | None = None
    auth_method: str = "client_secret_basic"
    scopes: str = DEFAULT_SCOPES
    acr_values: tuple[str, ...] = ("eidas1",)
    kind: str = "oidc"
    id_token_algs: tuple[str, ...] = ("ES256", "RS256")
    signed_userinfo: bool = False
    logo: bytes | None = None
    demo: bool = False
    provider_id: str | None = None
    position: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:48] or "idp"


def redirect_uri(issuer_url: str, provider_id: str) -> str:
    """Where the provider sends the citizen back: one address per provider (RFC 9700 §4.4)."""
    return f"{issuer_url}/federation/{provider_id}/callback"


def validate(
    reg: ProviderRegistration, outbound: OutboundPolicy = DEVELOPMENT
) -> ProviderRegistration:
    if not reg.name.strip() or len(reg.name.strip()) > 120:
        raise AdminError("a provider needs a name (at most 120 characters)")
    # The broker fetches the discovery document under the issuer, then the endpoints it names
    # (those are checked when discovered, and every connection by the outbound guard).
    check_fetched_url(reg.issuer, "--issuer", outbound)
    if not reg.client_id.strip():
        raise AdminError("--client-id is required")
    if reg.kind not in KINDS:
        raise AdminError(f"--kind must be one of {', '.join(KINDS)}")
    if reg.auth_method not in AUTH_METHODS:
        raise AdminError(f"--auth-method must be one of {', '.join(AUTH_METHODS)}")
    if reg.auth_method == "private_key_jwt" and reg.client_secret:
        raise AdminError("private_key_jwt uses the broker's key: give no --client-secret")
    if reg.auth_method != "private_key_jwt" and not reg.client_secret:
        raise AdminError(f"{reg.auth_method} needs --client-secret")
    if "openid" not in reg.scopes.split():
        raise AdminError("--scopes must include openid")
    if not reg.acr_values or any(acr not in ACR_LEVELS for acr in reg.acr_values):
        raise AdminError(f"--acr must be given, each one of {', '.join(ACR_LEVELS)}")
    if not reg.id_token_algs or any(alg not in ID_TOKEN_ALGS for alg in reg.id_token_algs):
        raise AdminError(f"ID token algorithms must be among {', '.join(ID_TOKEN_ALGS)}")
    if reg.logo is not None:
        check_logo(reg.logo)
    return reg


def check_logo(image: bytes) -> str:
    if len(image) > MAX_LOGO_BYTES:
        raise AdminError(f"the logo must be at most {MAX_LOGO_BYTES // 1000} kB")
    media_type = next((t for magic, t in LOGO_TYPES.items() if image.startswith(magic)), None)
    if media_type is None:
        raise AdminError("the logo must be a PNG or JPEG image")
    return media_type


def free_id(session: Session, wanted: str) -> str:
    candidate, n = wanted, 1
    while session.get(IdentityProviderRecord, candidate) is not None:
        n += 1
        candidate = f"{wanted}-{n}"
    return candidate


def add_provider(
    session: Session,
    vault: KeyVault,
    reg: ProviderRegistration,
    issuer_url: str,
    outbound: OutboundPolicy = DEVELOPMENT,
) -> dict[str, Any]:
    """``outbound``: the deployment's rule for the URLs the broker will call; the default is
    development's."""
    reg = validate(reg, outbound)
    name = reg.name.strip()
    existing = session.exec(
        select(IdentityProviderRecord).where(IdentityProviderRecord.name == name)
    ).first()
    if existing is not None:
        raise AdminError(f"a provider named {name!r} exists already (id {existing.id})")
    now = int(time.time())
    provider_id = reg.provider_id or free_id(session, slug(name))
    record = IdentityProviderRecord(
        id=provider_id,
        name=name,
        kind=reg.kind,
        issuer=reg.issuer.strip(),  # exactly: some issuers end with "/" (RFC 9207 compares)
        client_id=reg.client_id.strip(),
        client_secret_sealed=(
            seal_secret(vault, provider_id, reg.client_secret) if reg.client_secret else None
        ),
        auth_method=reg.auth_method,
        scopes=" ".join(dict.fromkeys(reg.scopes.split())),
        acr_values=list(dict.fromkeys(reg.acr_values)),
        id_token_algs=list(dict.fromkeys(reg.id_token_algs)),
        signed_userinfo=reg.signed_userinfo or reg.kind == "franceconnect_v2",
        logo=reg.logo,
        logo_type=check_logo(reg.logo) if reg.logo else None,
        enabled=True,
        message="",
        demo=reg.demo,
        position=reg.position,
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    session.flush()
    return describe(record, issuer_url)


def describe(record: IdentityProviderRecord, issuer_url: str) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "kind": record.kind,
        "issuer": record.issuer,
        "client_id": record.client_id,
        "auth_method": record.auth_method,
        "scopes": record.scopes,
        "acr_values": list(record.acr_values),
        "id_token_algs": list(record.id_token_algs),
        "signed_userinfo": record.signed_userinfo,
        "redirect_uri": redirect_uri(issuer_url, record.id),
        "enabled": record.enabled,
        "message": record.message,
        "demo": record.demo,
        "logo": record.logo is not None,
    }


def list_providers(session: Session, issuer_url: str) -> list[dict[str, Any]]:
    rows = session.exec(
        select(IdentityProviderRecord).order_by(
            col(IdentityProviderRecord.position), col(IdentityProviderRecord.name)
        )
    ).all()
    return [describe(row, issuer_url) for row in rows]


def provider(session: Session, provider_id: str) -> IdentityProviderRecord:
    record = session.get(IdentityProviderRecord, provider_id)
    if record is None:
        raise AdminError(f"no identity provider {provider_id!r}")
    return record


def set_enabled(
    session: Session, provider_id: str, enabled: bool, message: str, issuer_url: str
) -> dict[str, Any]:
    """Disabled: shown in maintenance with ``message``; its callbacks are refused at once."""
    record = provider(session, provider_id)
    record.enabled, record.message = enabled, ("" if enabled else message.strip()[:500])
    record.updated_at = int(time.time())
    session.add(record)
    session.flush()
    return describe(record, issuer_url)


def remove_provider(session: Session, provider_id: str) -> dict[str, Any]:
    record = provider(session, provider_id)
    for rule in session.exec(select(ClientIdpRule).where(ClientIdpRule.idp_id == provider_id)):
        session.delete(rule)
    session.delete(record)
    session.flush()
    return {"id": provider_id, "removed": True}


def set_client_rules(
    session: Session, service_name: str, allow: list[str], block: list[str]
) -> dict[str, Any]:
    """Replaces the rules of every client of the service: only ``allow``ed providers are
    offered if any is given, ``block``ed ones never."""
    if allow and block:
        raise AdminError("give --allow or --block, not both")
    service = session.exec(select(Service).where(Service.name == service_name.strip())).first()
    if service is None:
        raise AdminError(f"no service named {service_name!r}")
    for provider_id in [*allow, *block]:
        provider(session, provider_id)
    clients = session.exec(select(OAuthClient).where(OAuthClient.service_id == service.id)).all()
    for client in clients:
        for rule in session.exec(
            select(ClientIdpRule).where(ClientIdpRule.client_id == client.client_id)
        ):
            session.delete(rule)
        session.flush()
        for provider_id in allow:
            session.add(ClientIdpRule(client_id=client.client_id, idp_id=provider_id, rule="allow"))
        for provider_id in block:
            session.add(ClientIdpRule(client_id=client.client_id, idp_id=provider_id, rule="block"))
    session.flush()
    return {
        "service": service.name,
        "clients": [client.client_id for client in clients],
        "allow": list(allow),
        "block": list(block),
    }
