"""Who is signed in to the citizen space: every page of the space gets the citizen from the
``citizen`` dependency, which sends anyone not signed in to the sign-in page."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request, Response
from litestar.di import NamedDependency

from broker.web.http import BROWSER_COOKIE, SESSION_COOKIE, redirect
from consent.space.service import CitizenSpace
from consent.space.signin import LOGIN


@dataclass(frozen=True)
class SignedIn:
    citizen_id: str
    session_id: str


class NotSignedIn(Exception):
    """No live session of this browser: the page sends the citizen to the sign-in page."""


async def signed_in(request: Request, space: NamedDependency[CitizenSpace]) -> SignedIn:
    session_id = request.cookies.get(SESSION_COOKIE)
    citizen_id = await space.citizen(session_id, request.cookies.get(BROWSER_COOKIE))
    if citizen_id is None or session_id is None:
        raise NotSignedIn
    return SignedIn(citizen_id, session_id)


def to_sign_in(request: Request, exc: NotSignedIn) -> Response:
    return redirect(LOGIN)
