"""OidcStore on SQL: clients (``clients``), codes, access and refresh tokens, citizens,
assertion ids, DPoP proofs (``dpop_proofs``), identity releases (``identity_releases``).

Hot-path queries are SQLAlchemy Core statements built once with bind parameters and run on a
plain connection: building and compiling ORM queries per request cost more than the queries."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from broker.core.db import table_of
from broker.oidc.identity_release import IdentityRelease
from broker.oidc.models import (
    AccessTokenRecord,
    AuthorizationCode,
    CitizenIdentity,
    Client,
    RefreshTokenRecord,
)
from broker.store import dpop_proofs, identity_releases, logout_outbox, models
from broker.store.clients import ClientCache, load_client
from broker.store.flowstate import FlowStateView
from broker.store.sql_flowstate import SqlFlowStateView

TOKEN = table_of(models.AccessToken)
CITIZEN = table_of(models.Citizen)
JTI = table_of(models.ClientAssertionJti)

REVOKE_FROM_CODE = (
    update(TOKEN)
    .where(TOKEN.c.code_digest == bindparam("digest"), TOKEN.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("now"))
)
REFRESH = table_of(models.RefreshToken)
REVOKE_REFRESH_FROM_CODE = (
    update(REFRESH)
    .where(REFRESH.c.code_digest == bindparam("from_code"), REFRESH.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("now"))
)
REVOKE_TOKEN = (
    update(TOKEN)
    .where(TOKEN.c.jti == bindparam("b_jti"), TOKEN.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("now"))
)
REVOKE_REFRESH = (
    update(REFRESH)
    .where(REFRESH.c.digest == bindparam("token_digest"), REFRESH.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("now"))
)
GET_TOKEN = select(TOKEN).where(TOKEN.c.jti == bindparam("jti"))
GET_CITIZEN = select(CITIZEN).where(CITIZEN.c.id == bindparam("citizen_id"))
INSERT_TOKEN = insert(TOKEN)
INSERT_JTI = insert(JTI)
INSERT_REFRESH = insert(REFRESH)
GET_REFRESH = select(REFRESH).where(REFRESH.c.digest == bindparam("digest"))
USE_REFRESH = (
    update(REFRESH)
    .where(
        REFRESH.c.digest == bindparam("token_digest"),
        REFRESH.c.used_at.is_(None),
        REFRESH.c.revoked_at.is_(None),
    )
    .values(used_at=bindparam("now"))
)


def citizen_from_row(row) -> CitizenIdentity:
    return CitizenIdentity(
        id=row.id,
        given_name=row.given_name,
        family_name=row.family_name,
        birthdate=row.birthdate,
        gender=row.gender,
        birthplace=row.birthplace,
        birthcountry=row.birthcountry,
        preferred_username=row.preferred_username,
        email=row.email,
    )


class SqlOidcStore:
    def __init__(
        self,
        conn: Connection,
        clients: ClientCache | None = None,
        codes: FlowStateView | None = None,
    ) -> None:
        self.conn = conn
        self.clients = clients
        self.codes = codes if codes is not None else SqlFlowStateView(conn)

    def get_client(self, client_id: str) -> Client | None:
        return load_client(self.conn, client_id, self.clients)

    # Codes are flow state: wherever it lives (memory, Redis or this database).
    def save_code(self, code: AuthorizationCode, created_at: int) -> None:
        self.codes.save_code(code, created_at)

    def get_code(self, code_digest: str) -> AuthorizationCode | None:
        return self.codes.get_code(code_digest)

    def consume_code(self, code_digest: str, now: int) -> bool:
        return self.codes.consume_code(code_digest, now)

    def revoke_tokens_from_code(self, code_digest: str, now: int) -> int:
        """Access and refresh tokens (rotations included) that the code produced."""
        return (
            self.conn.execute(REVOKE_FROM_CODE, {"digest": code_digest, "now": now}).rowcount
            + self.conn.execute(
                REVOKE_REFRESH_FROM_CODE, {"from_code": code_digest, "now": now}
            ).rowcount
        )

    def save_access_token(
        self,
        record: AccessTokenRecord,
        issued_at: int,
        code_digest: str | None,
        grant_id: str | None,
    ) -> None:
        self.conn.execute(
            INSERT_TOKEN,
            {
                "jti": record.jti,
                "client_id": record.client_id,
                "citizen_id": record.citizen_id,
                "scope": record.scope,
                "code_digest": code_digest,
                "grant_id": grant_id,
                "issued_at": issued_at,
                "expires_at": record.expires_at,
                "revoked_at": None,
                "jkt": record.jkt,
            },
        )

    def get_access_token(self, jti: str) -> AccessTokenRecord | None:
        row = self.conn.execute(GET_TOKEN, {"jti": jti}).first()
        if row is None:
            return None
        return AccessTokenRecord(
            jti=row.jti,
            client_id=row.client_id,
            citizen_id=row.citizen_id,
            scope=row.scope,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            grant_id=row.grant_id,
            jkt=row.jkt,
        )

    def get_citizen(self, citizen_id: str) -> CitizenIdentity | None:
        row = self.conn.execute(GET_CITIZEN, {"citizen_id": citizen_id}).first()
        return citizen_from_row(row) if row else None

    def remember_assertion_jti(self, client_id: str, jti: str, expires_at: int) -> bool:
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    INSERT_JTI, {"client_id": client_id, "jti": jti, "expires_at": expires_at}
                )
        except IntegrityError:
            return False
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
        self.conn.execute(
            INSERT_REFRESH,
            {
                "digest": token_digest,
                "grant_id": grant_id,
                "client_id": client_id,
                "code_digest": code_digest,
                "citizen_id": citizen_id,
                "scope": scope,
                "auth_time": auth_time,
                "acr": acr,
                "issued_at": issued_at,
                "expires_at": expires_at,
                "used_at": None,
                "revoked_at": None,
                "jkt": jkt,
            },
        )

    def get_refresh_token(self, token_digest: str) -> RefreshTokenRecord | None:
        row = self.conn.execute(GET_REFRESH, {"digest": token_digest}).first()
        if row is None:
            return None
        return RefreshTokenRecord(
            digest=row.digest,
            grant_id=row.grant_id,
            client_id=row.client_id,
            citizen_id=row.citizen_id,
            scope=row.scope,
            auth_time=row.auth_time,
            acr=row.acr,
            expires_at=row.expires_at,
            used_at=row.used_at,
            revoked_at=row.revoked_at,
            code_digest=row.code_digest,
            jkt=row.jkt,
        )

    def use_refresh_token(self, token_digest: str, now: int) -> bool:
        return (
            self.conn.execute(USE_REFRESH, {"token_digest": token_digest, "now": now}).rowcount == 1
        )

    def add_logout_participant(self, sid: str, client_id: str, sub: str, now: int) -> None:
        logout_outbox.add_participant(self.conn, sid=sid, client_id=client_id, sub=sub, now=now)

    def revoke_access_token(self, jti: str, now: int) -> int:
        return self.conn.execute(REVOKE_TOKEN, {"b_jti": jti, "now": now}).rowcount

    def remember_dpop_proof(self, proof_digest: str, expires_at: int) -> bool:
        return dpop_proofs.remember(self.conn, proof_digest, expires_at)

    def journal_identity_release(self, release: IdentityRelease, at: int) -> None:
        identity_releases.journal_release(self.conn, release, at)

    def revoke_refresh_token(self, token_digest: str, now: int) -> int:
        return self.conn.execute(
            REVOKE_REFRESH, {"token_digest": token_digest, "now": now}
        ).rowcount
