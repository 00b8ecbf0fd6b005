"""The flow state in SQL, in the step's own transaction: for several processes or hosts that
share no Redis (Core statements built once, see ``oidc_store``)."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from broker.core.db import table_of
from broker.oidc.models import Authentication, AuthorizationCode
from broker.store import models
from broker.store.federation_models import FederationLogin
from broker.store.flowstate import StoredInteraction, StoredSession, UpstreamSignIn

INTERACTION = table_of(models.Interaction)
SESSION = table_of(models.BrowserSession)
CODE = table_of(models.AuthorizationCode)
MAX_ID = 64

INSERT_INTERACTION = insert(INTERACTION)
GET_INTERACTION = select(INTERACTION).where(INTERACTION.c.id == bindparam("id"))
CURRENT = (
    INTERACTION.c.id == bindparam("match_id"),
    INTERACTION.c.state == bindparam("from_state"),
)
MOVE = update(INTERACTION).where(*CURRENT).values(state=bindparam("to_state"))
MOVE_AUTHENTICATED = (
    update(INTERACTION)
    .where(*CURRENT)
    .values(
        state=bindparam("to_state"),
        citizen_id=bindparam("citizen_id"),
        idp=bindparam("idp"),
        acr=bindparam("acr"),
        amr=bindparam("amr"),
        auth_time=bindparam("auth_time"),
        sid=bindparam("sid"),
    )
)
INSERT_SESSION = insert(SESSION)
GET_SESSION = select(SESSION).where(
    SESSION.c.id_digest == bindparam("id_digest"), SESSION.c.revoked_at.is_(None)
)
SESSION_BY_SID = select(SESSION).where(
    SESSION.c.sid == bindparam("b_sid"), SESSION.c.revoked_at.is_(None)
)
TOUCH_SESSION = (
    update(SESSION)
    .where(SESSION.c.id_digest == bindparam("b_id_digest"), SESSION.c.revoked_at.is_(None))
    .values(last_seen=bindparam("now"))
)
END_SESSION = (
    update(SESSION)
    .where(SESSION.c.id_digest == bindparam("b_id_digest"), SESSION.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("now"))
)
UPSTREAM = table_of(FederationLogin)
INSERT_UPSTREAM = insert(UPSTREAM)
TAKE_UPSTREAM = (
    delete(UPSTREAM)
    .where(UPSTREAM.c.state_digest == bindparam("digest"))
    .returning(UPSTREAM.c.record)
)
INSERT_CODE = insert(CODE)
GET_CODE = select(CODE).where(CODE.c.code_digest == bindparam("code_digest"))
CONSUME_CODE = (
    update(CODE)
    .where(CODE.c.code_digest == bindparam("digest"), CODE.c.consumed_at.is_(None))
    .values(consumed_at=bindparam("now"))
)


def auth_fields(authentication: Authentication | None) -> dict[str, Any]:
    if authentication is None:
        return {
            "citizen_id": None,
            "idp": None,
            "acr": None,
            "amr": None,
            "auth_time": None,
            "sid": None,
        }
    return {
        "citizen_id": authentication.citizen_id,
        "acr": authentication.acr,
        "amr": list(authentication.amr),
        "auth_time": authentication.auth_time,
        "idp": authentication.idp,
        "sid": authentication.sid,
    }


def session_from_row(row) -> StoredSession:
    return StoredSession(
        browser_digest=row.browser_digest,
        authentication=Authentication(
            citizen_id=row.citizen_id,
            acr=row.acr,
            amr=list(row.amr),
            auth_time=row.auth_time,
            idp=row.idp,
            sid=row.sid,
        ),
        expires_at=row.expires_at,
        upstream_id_token=row.upstream_id_token,
        last_seen=row.last_seen,
    )


class SqlFlowState:
    kind = "database"
    networked = False  # it is the database's: its round trips are the step's own

    def on(self, conn: Connection) -> SqlFlowStateView:
        return SqlFlowStateView(conn)

    def close(self) -> None:
        """Nothing to release: the database is the application's."""


class SqlFlowStateView:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def create_interaction(self, interaction: StoredInteraction) -> None:
        self.conn.execute(
            INSERT_INTERACTION,
            {
                "id": interaction.id,
                "state": interaction.state,
                "browser_digest": interaction.browser_digest,
                "client_id": interaction.client_id,
                "params": interaction.params,
                "created_at": interaction.created_at,
                "expires_at": interaction.expires_at,
                **auth_fields(interaction.authentication),
            },
        )

    def get_interaction(self, interaction_id: str) -> StoredInteraction | None:
        if len(interaction_id) > MAX_ID:
            return None
        row = self.conn.execute(GET_INTERACTION, {"id": interaction_id}).first()
        if row is None:
            return None
        authentication = None
        if row.citizen_id is not None:
            authentication = Authentication(
                citizen_id=row.citizen_id,
                acr=row.acr or "",
                amr=list(row.amr or []),
                auth_time=row.auth_time or 0,
                idp=row.idp or "",
                sid=row.sid,
            )
        return StoredInteraction(
            id=row.id,
            state=row.state,
            browser_digest=row.browser_digest,
            client_id=row.client_id,
            params=dict(row.params),
            authentication=authentication,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )

    def move_interaction(
        self,
        interaction_id: str,
        from_state: str,
        to_state: str,
        authentication: Authentication | None,
    ) -> bool:
        params = {"match_id": interaction_id, "from_state": from_state, "to_state": to_state}
        if authentication is None:
            return self.conn.execute(MOVE, params).rowcount == 1
        params.update(auth_fields(authentication))
        return self.conn.execute(MOVE_AUTHENTICATED, params).rowcount == 1

    def create_session(self, id_digest: str, session: StoredSession) -> None:
        auth = session.authentication
        self.conn.execute(
            INSERT_SESSION,
            {
                "id_digest": id_digest,
                "browser_digest": session.browser_digest,
                "citizen_id": auth.citizen_id,
                "idp": auth.idp,
                "acr": auth.acr,
                "amr": list(auth.amr),
                "auth_time": auth.auth_time,
                "expires_at": session.expires_at,
                "revoked_at": None,
                "upstream_id_token": session.upstream_id_token,
                "sid": auth.sid,
                "last_seen": session.last_seen,
            },
        )

    def get_session(self, id_digest: str) -> StoredSession | None:
        row = self.conn.execute(GET_SESSION, {"id_digest": id_digest}).first()
        return session_from_row(row) if row is not None else None

    def end_session(self, id_digest: str, now: int) -> None:
        self.conn.execute(END_SESSION, {"b_id_digest": id_digest, "now": now})

    def session_by_sid(self, sid: str) -> tuple[str, StoredSession] | None:
        row = self.conn.execute(SESSION_BY_SID, {"b_sid": sid}).first()
        return (row.id_digest, session_from_row(row)) if row is not None else None

    def touch_session(self, id_digest: str, now: int) -> None:
        self.conn.execute(TOUCH_SESSION, {"b_id_digest": id_digest, "now": now})

    def save_code(self, code: AuthorizationCode, created_at: int) -> None:
        self.conn.execute(
            INSERT_CODE,
            {
                "code_digest": code.code_digest,
                "client_id": code.client_id,
                "citizen_id": code.citizen_id,
                "redirect_uri": code.redirect_uri,
                "scope": code.scope,
                "nonce": code.nonce,
                "code_challenge": code.code_challenge,
                "code_challenge_method": code.code_challenge_method,
                "auth_time": code.auth_time,
                "acr": code.acr,
                "amr": code.amr,
                "grant_id": code.grant_id,
                "idp": code.idp,
                "sid": code.sid,
                "dpop_jkt": code.dpop_jkt,
                "created_at": created_at,
                "expires_at": code.expires_at,
                "consumed_at": None,
            },
        )

    def get_code(self, code_digest: str) -> AuthorizationCode | None:
        row = self.conn.execute(GET_CODE, {"code_digest": code_digest}).first()
        if row is None:
            return None
        return AuthorizationCode(
            code_digest=row.code_digest,
            client_id=row.client_id,
            citizen_id=row.citizen_id,
            redirect_uri=row.redirect_uri,
            scope=row.scope,
            nonce=row.nonce,
            code_challenge=row.code_challenge,
            code_challenge_method=row.code_challenge_method,
            auth_time=row.auth_time,
            acr=row.acr,
            amr=list(row.amr),
            idp=row.idp or "",
            grant_id=row.grant_id,
            expires_at=row.expires_at,
            consumed_at=row.consumed_at,
            sid=row.sid,
            dpop_jkt=row.dpop_jkt,
        )

    def consume_code(self, code_digest: str, now: int) -> bool:
        return self.conn.execute(CONSUME_CODE, {"digest": code_digest, "now": now}).rowcount == 1

    def save_upstream(self, state_digest: str, sign_in: UpstreamSignIn) -> None:
        self.conn.execute(
            INSERT_UPSTREAM,
            {
                "state_digest": state_digest,
                "record": dataclasses.asdict(sign_in),
                "expires_at": sign_in.expires_at,
            },
        )

    def take_upstream(self, state_digest: str) -> UpstreamSignIn | None:
        row = self.conn.execute(TAKE_UPSTREAM, {"digest": state_digest}).first()
        return UpstreamSignIn(**row.record) if row is not None else None
