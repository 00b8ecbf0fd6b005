"""Tests that play an attacker (or a clock) rewrite a record of the running broker's flow state,
wherever it lives: in SQL (the database backend) or in memory and Redis (by writing the record
again, which those backends overwrite)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from sqlalchemy import update

from broker.core.security import digest
from broker.store.models import AuthorizationCode, BrowserSession, Interaction
from broker.web.http import SESSION_COOKIE


def flow_state(state):
    return state.context.flow_state


def rewrite_code(state, code: str, **changes: Any) -> None:
    """Changes fields of the stored authorization code ``code``."""
    store = flow_state(state)
    if store.kind == "database":
        with state.db.transaction() as s:
            s.exec(
                update(AuthorizationCode)
                .where(AuthorizationCode.code_digest == digest(code))
                .values(**changes)
            )
        return
    view = store.on(None)
    stored = view.get_code(digest(code))
    assert stored is not None, "no such code"
    view.save_code(replace(stored, **changes), int(time.time()))


def stored_code(state, code: str):
    with state.db.connect() as conn:
        return flow_state(state).on(conn).get_code(digest(code))


def rewrite_interaction(state, url: str, **changes: Any) -> None:
    """Changes fields of the interaction whose page is at ``url`` (``/interaction/<id>/...``)."""
    interaction_id = url.split("/interaction/")[1].split("/")[0]
    store = flow_state(state)
    if store.kind == "database":
        with state.db.transaction() as s:
            s.exec(update(Interaction).where(Interaction.id == interaction_id).values(**changes))
        return
    view = store.on(None)
    stored = view.get_interaction(interaction_id)
    assert stored is not None, "no such interaction"
    view.create_interaction(replace(stored, **changes))


def rewrite_session_auth_time(state, browser, auth_time: int) -> None:
    """Makes the browser's single sign-on session say it authenticated at ``auth_time``."""
    session_id = browser.http.cookies[SESSION_COOKIE]
    store = flow_state(state)
    if store.kind == "database":
        with state.db.transaction() as s:
            s.exec(
                update(BrowserSession)
                .where(BrowserSession.id_digest == digest(session_id))
                .values(auth_time=auth_time)
            )
        return
    view = store.on(None)
    stored = view.get_session(digest(session_id))
    assert stored is not None, "no such session"
    auth = replace(stored.authentication, auth_time=auth_time)
    view.create_session(digest(session_id), replace(stored, authentication=auth))


def rewrite_session(state, browser, **changes: Any) -> None:
    """Changes fields of the browser's single sign-on session (``expires_at``, ``last_seen``)."""
    session_id = browser.http.cookies[SESSION_COOKIE]
    store = flow_state(state)
    if store.kind == "database":
        with state.db.transaction() as s:
            s.exec(
                update(BrowserSession)
                .where(BrowserSession.id_digest == digest(session_id))
                .values(**changes)
            )
        return
    view = store.on(None)
    stored = view.get_session(digest(session_id))
    assert stored is not None, "no such session"
    view.create_session(digest(session_id), replace(stored, **changes))
