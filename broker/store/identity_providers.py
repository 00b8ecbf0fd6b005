"""Reading the registry of upstream identity providers (written by ``broker.admin``)."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select

from broker.core.db import table_of
from broker.keys.vault import KeyVault
from broker.store.federation_models import ClientIdpRule, IdentityProviderRecord

PROVIDER = table_of(IdentityProviderRecord)
RULE = table_of(ClientIdpRule)
COLUMNS = [c for c in PROVIDER.c if c.name != "logo"]
ALL = select(*COLUMNS, PROVIDER.c.logo.is_not(None).label("has_logo")).order_by(
    PROVIDER.c.position, PROVIDER.c.name
)
ONE = ALL.where(PROVIDER.c.id == bindparam("id"))
RULES = select(RULE.c.idp_id, RULE.c.rule).where(RULE.c.client_id == bindparam("client_id"))
LOGO = select(PROVIDER.c.logo, PROVIDER.c.logo_type).where(PROVIDER.c.id == bindparam("id"))


@dataclass(frozen=True)
class RegisteredProvider:
    id: str
    name: str
    kind: str
    issuer: str
    client_id: str
    client_secret_sealed: str | None
    auth_method: str
    scopes: str
    acr_values: tuple[str, ...]
    id_token_algs: tuple[str, ...]
    signed_userinfo: bool
    enabled: bool
    message: str
    demo: bool
    has_logo: bool


def provider_of(row) -> RegisteredProvider:
    return RegisteredProvider(
        id=row.id,
        name=row.name,
        kind=row.kind,
        issuer=row.issuer,
        client_id=row.client_id,
        client_secret_sealed=row.client_secret_sealed,
        auth_method=row.auth_method,
        scopes=row.scopes,
        acr_values=tuple(row.acr_values),
        id_token_algs=tuple(row.id_token_algs),
        signed_userinfo=bool(row.signed_userinfo),
        enabled=bool(row.enabled),
        message=row.message,
        demo=bool(row.demo),
        has_logo=bool(row.has_logo),
    )


def allowed_for(provider_id: str, rules: dict[str, str]) -> bool:
    """Whether a service with these rules may use the provider: never a blocked one; with any
    "allow" rule, only the allowed ones."""
    if rules.get(provider_id) == "block":
        return False
    allowed = [pid for pid, rule in rules.items() if rule == "allow"]
    return not allowed or provider_id in allowed


def list_providers(conn: Connection) -> list[RegisteredProvider]:
    return [provider_of(row) for row in conn.execute(ALL)]


def get_provider(conn: Connection, provider_id: str) -> RegisteredProvider | None:
    if not 0 < len(provider_id) <= 64:
        return None
    row = conn.execute(ONE, {"id": provider_id}).first()
    return provider_of(row) if row else None


def client_rules(conn: Connection, client_id: str) -> dict[str, str]:
    """The service's rules by provider id: "allow" or "block"."""
    return {row.idp_id: row.rule for row in conn.execute(RULES, {"client_id": client_id})}


def provider_logo(conn: Connection, provider_id: str) -> tuple[bytes, str] | None:
    row = conn.execute(LOGO, {"id": provider_id}).first() if len(provider_id) <= 64 else None
    return (row.logo, row.logo_type) if row is not None and row.logo else None


def sealing_label(provider_id: str) -> str:
    """The vault's associated data for a provider's client secret: it cannot be moved."""
    return f"idp-client-secret:{provider_id}"


def seal_secret(vault: KeyVault, provider_id: str, secret: str) -> str:
    return base64.b64encode(vault.seal(secret.encode(), sealing_label(provider_id))).decode()


def open_secret(vault: KeyVault, provider_id: str, sealed: str) -> str:
    """The client secret in clear, to send to the provider (VaultError if not ours)."""
    if not sealed:
        return ""
    return vault.open(base64.b64decode(sealed), sealing_label(provider_id)).decode()


class RegistryCache:
    """The registry as the choice page reads it, at every sign-in: kept ``ttl`` seconds per
    process (a provider disabled shows as such that much later; its callbacks are refused at
    once, since the callback reads the registry itself)."""

    def __init__(self, ttl: float = 2.0) -> None:
        self.ttl = ttl
        self.providers_at = -ttl
        self.all: list[RegisteredProvider] = []
        self.rules: dict[str, tuple[float, dict[str, str]]] = {}

    def forget(self) -> None:
        self.providers_at, self.rules = -self.ttl, {}

    def providers(self, conn: Connection) -> list[RegisteredProvider]:
        now = time.monotonic()
        if now - self.providers_at >= self.ttl:
            self.all, self.providers_at = list_providers(conn), now
        return self.all

    def client_rules(self, conn: Connection, client_id: str) -> dict[str, str]:
        now = time.monotonic()
        cached = self.rules.get(client_id)
        if cached is None or now - cached[0] >= self.ttl:
            if len(self.rules) > 10_000:
                self.rules.clear()
            cached = self.rules[client_id] = (now, client_rules(conn, client_id))
        return cached[1]
