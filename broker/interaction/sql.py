"""Interactions and browser sessions on SQL (Core statements, see oidc_store)."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, insert, select, update

from broker.core.db import table_of
from broker.core.security import digest
from broker.interaction.states import InteractionView, State
from broker.oidc.models import Authentication
from broker.store.models import BrowserSession, Interaction

INTERACTION = table_of(Interaction)
SESSION = table_of(BrowserSession)

INSERT_INTERACTION = insert(INTERACTION)
GET_INTERACTION = select(INTERACTION).where(INTERACTION.c.id == bindparam("id"))
_CURRENT = (
    INTERACTION.c.id == bindparam("match_id"),
    INTERACTION.c.state == bindparam("from_state"),
)
MOVE = update(INTERACTION).where(*_CURRENT).values(state=bindparam("to_state"))
MOVE_AUTHENTICATED = (
    update(INTERACTION)
    .where(*_CURRENT)
    .values(
        state=bindparam("to_state"),
        citizen_id=bindparam("citizen_id"),
        idp=bindparam("idp"),
        acr=bindparam("acr"),
        amr=bindparam("amr"),
        auth_time=bindparam("auth_time"),
    )
)
INSERT_SESSION = insert(SESSION)
GET_SESSION = select(SESSION).where(SESSION.c.id_digest == bindparam("id_digest"))


def _auth_fields(authentication: Authentication | None) -> dict:
    if authentication is None:
        return {"citizen_id": None, "idp": None, "acr": None, "amr": None, "auth_time": None}
    return {
        "citizen_id": authentication.citizen_id,
        "acr": authentication.acr,
        "amr": list(authentication.amr),
        "auth_time": authentication.auth_time,
        "idp": authentication.idp,
    }


class SqlInteractionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def create(
        self,
        *,
        id,
        state,
        browser_digest,
        client_id,
        params,
        authentication,
        created_at,
        expires_at,
    ) -> None:
        self.conn.execute(
            INSERT_INTERACTION,
            {
                "id": id,
                "state": state,
                "browser_digest": browser_digest,
                "client_id": client_id,
                "params": params,
                "created_at": created_at,
                "expires_at": expires_at,
                **_auth_fields(authentication),
            },
        )

    def get(self, id: str) -> tuple[InteractionView, str] | None:
        if len(id) > 64:
            return None
        row = self.conn.execute(GET_INTERACTION, {"id": id}).first()
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
            )
        view = InteractionView(
            id=row.id,
            state=State(row.state),
            client_id=row.client_id,
            params=dict(row.params),
            expires_at=row.expires_at,
            authentication=authentication,
        )
        return view, row.browser_digest

    def move(self, id, from_state, to_state, authentication) -> bool:
        params = {"match_id": id, "from_state": from_state, "to_state": to_state}
        if authentication is None:
            return self.conn.execute(MOVE, params).rowcount == 1
        params.update(_auth_fields(authentication))
        return self.conn.execute(MOVE_AUTHENTICATED, params).rowcount == 1


class SqlSessionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def create(
        self, session_id: str, browser_id: str, auth: Authentication, expires_at: int
    ) -> None:
        self.conn.execute(
            INSERT_SESSION,
            {
                "id_digest": digest(session_id),
                "browser_digest": digest(browser_id),
                "citizen_id": auth.citizen_id,
                "idp": auth.idp,
                "acr": auth.acr,
                "amr": list(auth.amr),
                "auth_time": auth.auth_time,
                "expires_at": expires_at,
                "revoked_at": None,
            },
        )

    def find(self, session_id: str, browser_id: str, now: int) -> Authentication | None:
        if not session_id or len(session_id) > 128:
            return None
        row = self.conn.execute(GET_SESSION, {"id_digest": digest(session_id)}).first()
        if (
            row is None
            or row.revoked_at is not None
            or row.expires_at <= now
            or row.browser_digest != digest(browser_id)
        ):
            return None
        return Authentication(
            citizen_id=row.citizen_id,
            acr=row.acr,
            amr=list(row.amr),
            auth_time=row.auth_time,
            idp=row.idp,
        )


def end_session(conn: Connection, session_id: str, now: int) -> None:
    """Sign-out: the session stops working at once, in every tab."""
    if session_id and len(session_id) <= 128:
        conn.execute(
            update(SESSION)
            .where(SESSION.c.id_digest == digest(session_id), SESSION.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
