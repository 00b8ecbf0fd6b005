"""In-memory ports for the protocol unit tests: nothing here opens a socket or a database.

``MemoryOidcStore`` mirrors ``SqlOidcStore`` (broker/store/oidc_store.py) exactly: rows are
copied in and out (a caller mutating a record it read changes nothing stored), codes and refresh
tokens are claimed by compare-and-set, a replayed code revokes every access and refresh token
descended from it, an assertion ``jti`` is remembered once per client and a DPoP proof once.
``MemoryConsentGrants`` stands for the consent side (consent/changes.py ``TokenGrants``): grants
can be narrowed, expired, made one-time or revoked, and ``revoke_for_reuse`` calls are recorded.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from joserfc.jwk import ECKey

from broker.core.security import digest
from broker.keys.keystore import KeyStore, StoredKey
from broker.keys.vault import KeyVault
from broker.oidc.introspection import IntrospectingProvider
from broker.oidc.models import (
    AccessTokenRecord,
    AuthorizationCode,
    CitizenIdentity,
    Client,
    GrantTerms,
    HabilitationGrant,
    RefreshTokenRecord,
)

GRANT_TTL = 365 * 24 * 3600
DATA_SCOPE = "dgfip_rfr dgfip_nbpart cnaf_quotient_familial"
HABILITATION = HabilitationGrant(
    id="hab-cantine",
    scopes=frozenset(DATA_SCOPE.split()),
    purpose="Tarification sociale de la cantine scolaire",
    legal_basis="Code de l'éducation, article L. 131-13",
)


def now() -> int:
    return int(time.time())


def unverified_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# --- The store -------------------------------------------------------------------------------


@dataclass
class _AccessTokenRow:
    record: AccessTokenRecord
    issued_at: int
    code_digest: str | None


@dataclass
class _RefreshTokenRow:
    record: RefreshTokenRecord
    issued_at: int


class MemoryOidcStore:
    """``OidcStore`` with the SQL store's semantics, in dictionaries."""

    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self.citizens: dict[str, CitizenIdentity] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.code_created_at: dict[str, int] = {}
        self.access_tokens: dict[str, _AccessTokenRow] = {}
        self.refresh_tokens: dict[str, _RefreshTokenRow] = {}
        self.assertion_jtis: dict[tuple[str, str], int] = {}
        self.logout_participants: dict[tuple[str, str], str] = {}  # (sid, client_id) -> sub
        self.dpop_proofs: dict[str, int] = {}

    # OidcStore

    def get_client(self, client_id: str) -> Client | None:
        if not isinstance(client_id, str) or len(client_id) > 64:
            return None
        return self.clients.get(client_id)

    def save_code(self, code: AuthorizationCode, created_at: int) -> None:
        if code.code_digest in self.codes:
            raise KeyError(f"duplicate code {code.code_digest}")  # primary key
        self.codes[code.code_digest] = replace(code, amr=list(code.amr), consumed_at=None)
        self.code_created_at[code.code_digest] = created_at

    def get_code(self, code_digest: str) -> AuthorizationCode | None:
        stored = self.codes.get(code_digest)
        return replace(stored, amr=list(stored.amr)) if stored is not None else None

    def consume_code(self, code_digest: str, now: int) -> bool:
        stored = self.codes.get(code_digest)
        if stored is None or stored.consumed_at is not None:
            return False
        stored.consumed_at = now
        return True

    def revoke_tokens_from_code(self, code_digest: str, now: int) -> int:
        revoked = 0
        for row in self.access_tokens.values():
            if row.code_digest == code_digest and row.record.revoked_at is None:
                row.record = replace(row.record, revoked_at=now)
                revoked += 1
        for row in self.refresh_tokens.values():
            if row.record.code_digest == code_digest and row.record.revoked_at is None:
                row.record = replace(row.record, revoked_at=now)
                revoked += 1
        return revoked

    def revoke_access_token(self, jti: str, now: int) -> int:
        row = self.access_tokens.get(jti)
        if row is None or row.record.revoked_at is not None:
            return 0
        row.record = replace(row.record, revoked_at=now)
        return 1

    def revoke_refresh_token(self, token_digest: str, now: int) -> int:
        row = self.refresh_tokens.get(token_digest)
        if row is None or row.record.revoked_at is not None:
            return 0
        row.record = replace(row.record, revoked_at=now)
        return 1

    def save_access_token(
        self,
        record: AccessTokenRecord,
        issued_at: int,
        code_digest: str | None,
        grant_id: str | None,
    ) -> None:
        if record.jti in self.access_tokens:
            raise KeyError(f"duplicate access token {record.jti}")
        self.access_tokens[record.jti] = _AccessTokenRow(
            replace(record, grant_id=grant_id, revoked_at=None), issued_at, code_digest
        )

    def get_access_token(self, jti: str) -> AccessTokenRecord | None:
        row = self.access_tokens.get(jti)
        return row.record if row is not None else None

    def get_citizen(self, citizen_id: str) -> CitizenIdentity | None:
        return self.citizens.get(citizen_id)

    def remember_assertion_jti(self, client_id: str, jti: str, expires_at: int) -> bool:
        if (client_id, jti) in self.assertion_jtis:
            return False
        self.assertion_jtis[(client_id, jti)] = expires_at
        return True

    def save_refresh_token(
        self,
        token_digest: str,
        *,
        grant_id: str,
        client_id: str,
        citizen_id: str,
        scope: str,
        auth_time: int,
        acr: str,
        issued_at: int,
        expires_at: int,
        code_digest: str | None = None,
        jkt: str | None = None,
    ) -> None:
        if token_digest in self.refresh_tokens:
            raise KeyError("duplicate refresh token")
        record = RefreshTokenRecord(
            digest=token_digest,
            grant_id=grant_id,
            client_id=client_id,
            citizen_id=citizen_id,
            scope=scope,
            auth_time=auth_time,
            acr=acr,
            expires_at=expires_at,
            code_digest=code_digest,
            jkt=jkt,
        )
        self.refresh_tokens[token_digest] = _RefreshTokenRow(record, issued_at)

    def get_refresh_token(self, token_digest: str) -> RefreshTokenRecord | None:
        row = self.refresh_tokens.get(token_digest)
        return row.record if row is not None else None

    def use_refresh_token(self, token_digest: str, now: int) -> bool:
        row = self.refresh_tokens.get(token_digest)
        if row is None or row.record.used_at is not None or row.record.revoked_at is not None:
            return False
        row.record = replace(row.record, used_at=now)
        return True

    def remember_dpop_proof(self, proof_digest: str, expires_at: int) -> bool:
        if proof_digest in self.dpop_proofs:
            return False
        self.dpop_proofs[proof_digest] = expires_at
        return True

    def add_logout_participant(self, sid: str, client_id: str, sub: str, now: int) -> None:
        self.logout_participants.setdefault((sid, client_id), sub)

    # What tests do to the rows behind the protocol's back (an admin, the clock, the consent
    # side), and what they look at.

    def code(self, code: str) -> AuthorizationCode:
        return self.codes[digest(code)]

    def expire_code(self, code: str, at: int | None = None) -> None:
        self.code(code).expires_at = now() - 1 if at is None else at

    def access_token(self, token: str) -> AccessTokenRecord:
        return self.access_tokens[unverified_claims(token)["jti"]].record

    def set_access_token(self, token: str, **changes: Any) -> None:
        row = self.access_tokens[unverified_claims(token)["jti"]]
        row.record = replace(row.record, **changes)

    def refresh_token(self, token: str) -> RefreshTokenRecord:
        return self.refresh_tokens[digest(token)].record

    def set_refresh_token(self, token: str, **changes: Any) -> None:
        row = self.refresh_tokens[digest(token)]
        row.record = replace(row.record, **changes)

    def revoke_grant_tokens(self, grant_id: str, now: int) -> None:
        """What ending a consent grant does to its tokens (consent.lifecycle.end_grant)."""
        for rows in (self.access_tokens.values(), self.refresh_tokens.values()):
            for row in rows:
                if row.record.grant_id == grant_id and row.record.revoked_at is None:
                    row.record = replace(row.record, revoked_at=now)


# --- Keys ------------------------------------------------------------------------------------


class MemoryKeyRepository:
    """``KeyRepository`` in a list."""

    def __init__(self) -> None:
        self.keys: list[StoredKey] = []

    def list_keys(self) -> list[StoredKey]:
        return list(self.keys)

    def add_key(self, key: StoredKey) -> None:
        self.keys.append(key)

    def retire_keys(self, kids: list[str], retired_at: int, unpublish_at: int) -> None:
        self.keys = [
            replace(k, retired_at=retired_at, unpublish_at=unpublish_at) if k.kid in kids else k
            for k in self.keys
        ]


@cache
def broker_keys() -> KeyStore:
    """The broker's ES256 and RS256 signing keys, made once per test session (RSA key
    generation is the slowest step of the kit). Read-only for the tests."""
    keys = KeyStore(MemoryKeyRepository(), KeyVault(b"vault-secret-for-the-tests"), 3600)
    keys.ensure_keys()
    return keys


@cache
def client_signing_key() -> ECKey:
    """The private half of the private_key_jwt client's registered key."""
    return ECKey.generate_key("P-256", parameters={"kid": "rp-key-1"}, private=True)


# --- Consent grants --------------------------------------------------------------------------


@dataclass
class MemoryGrant:
    id: str
    scopes: set[str]
    recurring: bool = True
    expires_at: int | None = None
    habilitation_id: str | None = None
    revoked_at: int | None = None

    def holds(self, now: int) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class MemoryConsentGrants:
    """``ConsentGrants`` (plus the introspection's ``grant_standing``) over grants a test
    sets up and changes; ``revoke_for_reuse`` calls are recorded in ``reuse_revocations``."""

    def __init__(self, store: MemoryOidcStore) -> None:
        self.store = store
        self.grants: dict[str, MemoryGrant] = {}
        self.reuse_revocations: list[tuple[str, int]] = []

    def add(
        self,
        grant_id: str,
        scopes: str,
        *,
        recurring: bool = True,
        expires_at: int | None = None,
        habilitation_id: str | None = HABILITATION.id,
    ) -> MemoryGrant:
        """A new approval; like the consent ledger's, it expires (by default in a year)."""
        expires_at = now() + GRANT_TTL if expires_at is None else expires_at
        grant = MemoryGrant(grant_id, set(scopes.split()), recurring, expires_at, habilitation_id)
        self.grants[grant_id] = grant
        return grant

    def narrow(self, grant_id: str, withdrawn: str) -> None:
        """The citizen withdraws optional items."""
        self.grants[grant_id].scopes -= set(withdrawn.split())

    def expire(self, grant_id: str, at: int | None = None) -> None:
        self.grants[grant_id].expires_at = now() - 1 if at is None else at

    def make_one_time(self, grant_id: str) -> None:
        self.grants[grant_id].recurring = False

    def revoke(self, grant_id: str, at: int | None = None, *, tokens: bool = True) -> None:
        """Ends the grant; ``tokens`` also revokes its tokens, as the consent side does."""
        at = now() if at is None else at
        self.grants[grant_id].revoked_at = at
        if tokens:
            self.store.revoke_grant_tokens(grant_id, at)

    # ConsentGrants

    def terms(self, grant_id: str | None, now: int) -> GrantTerms | None:
        grant = self.grants.get(grant_id) if grant_id else None
        if grant is None:
            return None
        active = grant.holds(now)
        return GrantTerms(
            active=active,
            refreshable=active and grant.recurring,
            expires_at=grant.expires_at,
            scopes=frozenset(grant.scopes),
        )

    def revoke_for_reuse(self, grant_id: str, now: int) -> None:
        self.reuse_revocations.append((grant_id, now))
        grant = self.grants.get(grant_id)
        if grant is not None and grant.holds(now):
            self.revoke(grant_id, now)

    # IntrospectionServer's grant_standing

    def standing(self, grant_id: str | None, now: int) -> tuple[bool, str | None]:
        grant = self.grants.get(grant_id) if grant_id else None
        if grant is None:
            return False, None
        return grant.holds(now), grant.habilitation_id


class MemoryProviders:
    """The data providers' introspection credentials."""

    def __init__(self) -> None:
        self.providers: dict[str, IntrospectingProvider] = {}

    def add(self, provider: str) -> tuple[str, str]:
        client_id, secret = f"rs_{provider}", secrets.token_urlsafe(32)
        self.providers[client_id] = IntrospectingProvider(client_id, provider, digest(secret))
        return client_id, secret

    def get_introspection_client(self, client_id: str) -> IntrospectingProvider | None:
        return self.providers.get(client_id)
