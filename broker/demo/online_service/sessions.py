"""The demo service's sessions and the cookies that tie them to one browser.

A session lives in ``RelyingParty.sessions`` under a random id, which the ``cantine_session``
cookie carries. It ends :data:`MAX_AGE` after the sign-in, or after :data:`IDLE` without a
page; ended sessions are forgotten whenever a session is looked up or opened, so the table
does not grow without end. Each session has its own token for the sign-out form: another
site cannot sign the citizen out.

A sign-in in progress is tied to the browser that started it: ``/login`` puts its OAuth
``state`` in the short-lived ``cantine_login`` cookie, and ``/callback`` accepts only the
``state`` of that cookie. Without this, anyone who opened an attacker's callback address
(its code and state) would be signed in as the attacker (login CSRF)."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from litestar.datastructures import Cookie

from broker.demo.online_service.relying_party import SIGN_IN_MAX_AGE, RelyingParty

COOKIE = "cantine_session"
LOGIN_COOKIE = "cantine_login"
MAX_AGE = 8 * 3600  # seconds from the sign-in
IDLE = 30 * 60  # seconds without a page

Session = dict[str, Any]


def open_session(sessions: dict[str, Session], values: Session, now: float) -> str:
    """A new session holding ``values``; its id, for the cookie."""
    prune(sessions, now)
    session_id = secrets.token_urlsafe(24)
    sessions[session_id] = {
        **values,
        "at": int(now),
        "seen": now,
        "sign_out_token": secrets.token_urlsafe(24),
    }
    return session_id


def live_session(sessions: dict[str, Session], session_id: str, now: float) -> Session | None:
    """The session of ``session_id`` if it has not ended, marked as used now."""
    prune(sessions, now)
    session = sessions.get(session_id) if session_id else None
    if session is not None:
        session["seen"] = now
    return session


def is_live(session: Session, now: float) -> bool:
    started = session.get("at")
    if not isinstance(started, int | float):
        return False
    seen = session.get("seen", started)
    return now - started < MAX_AGE and now - seen < IDLE


def prune(sessions: dict[str, Session], now: float) -> None:
    for session_id in [key for key, session in sessions.items() if not is_live(session, now)]:
        del sessions[session_id]


def sign_out_allowed(session: Session, token: object) -> bool:
    """The sign-out form's token is this session's own."""
    expected = session.get("sign_out_token")
    return (
        isinstance(expected, str)
        and isinstance(token, str)
        and bool(expected)
        and secrets.compare_digest(expected.encode(), token.encode())
    )


def session_cookie(secure: bool, session_id: str = "") -> Cookie:
    """The session's cookie; an empty id clears it."""
    return Cookie(
        key=COOKIE,
        value=session_id,
        path="/",
        max_age=MAX_AGE if session_id else 0,
        httponly=True,
        secure=secure,
        samesite="lax",
    )


def login_cookie(rp: RelyingParty, state: str = "") -> Cookie:
    """The sign-in in progress, for the callback only; an empty state clears it. SameSite=Lax:
    the broker's redirect back is a top-level navigation, which still carries it."""
    return Cookie(
        key=LOGIN_COOKIE,
        value=state,
        path=login_cookie_path(rp),
        max_age=SIGN_IN_MAX_AGE if state else 0,
        httponly=True,
        secure=rp.secure_cookies,
        samesite="lax",
    )


def login_cookie_path(rp: RelyingParty) -> str:
    """The path of the address the broker sends the citizen back to, as the browser sees it: a
    service served under a path prefix (``https://host/cantine``) gets its cookie back there."""
    return urlsplit(rp.redirect_uri).path or "/"


def started_here(cookie: str | None, state: str | None) -> bool:
    """The callback's ``state`` is the one this browser's sign-in cookie holds."""
    return bool(cookie and state) and secrets.compare_digest(
        str(cookie).encode(), str(state).encode()
    )
