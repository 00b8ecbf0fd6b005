"""Fixtures for the portal's focused tests (in process, no sockets).

``portal``: the portal app on its own freshly migrated and seeded database (``database_url``),
with ``portal_url`` and the issuers set, the real :class:`~broker.core.mail.Mailer` (no SMTP
server: emails are only logged) and the periodic jobs off. It exposes:

- ``portal.app`` (the Litestar app), ``portal.db`` (its Database), ``portal.settings``,
  ``portal.context`` (the ``PortalContext`` handlers get), ``portal.sessions``;
- ``portal.client()``: a new Litestar ``TestClient`` (an httpx client) on the app, anonymous.

``portal_factory(**settings_overrides)``: the same, with other settings; ``mailer=`` gives
another mailer (e.g. ``Mailer.from_settings(settings)`` on an SMTP sink's URL), and
``extra_handlers=`` more routes (behind the same middleware, guards and error pages).

``sign_in(portal, *, email, siret=None, organisation=None, roles=(), providers=(),
given_name=..., family_name=...)``: creates the agent (as a sign-in through the agents'
identity provider would) and their roles in the database, opens a REAL session through the
session service, and returns a client carrying its cookie, with:

- ``client.csrf``: the token to post in the ``csrf`` field of every form,
- ``client.agent``: the :class:`~broker.portal.principal.Agent` as the guards see it.

A SIRET makes the agent a requester; ``roles`` adds instructor / administrator /
data_provider (``providers``: the data providers' keys, each granted as a data_provider role).

    def test_requester_sees_the_form(portal):
        client = sign_in(portal, email="a@villebourg.fr", siret=VILLEBOURG)
        page = client.get("/demandes/nouvelle")
        client.post("/demandes", data={"csrf": client.csrf, ...})
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from litestar.types import ControllerRouterHandler

from broker.admin.agents import Identity, grant_role, load_agent, upsert_agent
from broker.core.db import Database
from broker.core.mail import Mailer
from broker.core.settings import Settings
from broker.portal.app import PortalState, build_portal_state, create_portal_app
from broker.portal.context import PortalContext
from broker.portal.principal import Role
from broker.portal.sessions import COOKIE, PortalSessions

PORTAL_URL = "http://portal.test"  # the TestClient's base URL
TEST_AGENTS_ISSUER = "https://agents-idp.test"
VILLEBOURG = "21730001500013"  # Mairie de Villebourg (the demo service's organisation)
VAL_FLEURI = "20005478900017"  # Communauté d'agglomération du Val Fleuri
OPERATOR = "13000252600015"  # the platform operator (instructors' organisation)


@dataclass
class PortalHarness:
    app: Litestar
    state: PortalState

    @property
    def settings(self) -> Settings:
        return self.state.context.settings

    @property
    def db(self) -> Database:
        return self.state.context.db

    @property
    def context(self) -> PortalContext:
        return self.state.context

    @property
    def sessions(self) -> PortalSessions:
        return self.state.sessions

    def client(self) -> TestClient:
        """Not entered: no lifespan (the jobs are off anyway); each request runs the app."""
        return TestClient(self.app, base_url=PORTAL_URL)

    def close(self) -> None:
        self.db.dispose()


@pytest.fixture
def portal_factory(settings_factory) -> Iterator[Callable[..., PortalHarness]]:
    built: list[PortalHarness] = []

    def build(
        *,
        mailer: Mailer | None = None,
        extra_handlers: Sequence[ControllerRouterHandler] = (),
        **overrides: Any,
    ) -> PortalHarness:
        values: dict[str, Any] = {
            "portal_url": PORTAL_URL,
            "portal_idp_issuer": TEST_AGENTS_ISSUER,
            "portal_idp_client_secret": "portal-test-secret",
        }
        values.update(overrides)
        settings = settings_factory(**values)
        state = build_portal_state(settings, mailer=mailer or Mailer.from_settings(settings))
        app = create_portal_app(
            settings, run_jobs=False, state=state, extra_handlers=extra_handlers
        )
        harness = PortalHarness(app, state)
        built.append(harness)
        return harness

    yield build
    for harness in built:
        harness.close()


@pytest.fixture
def portal(portal_factory) -> PortalHarness:
    return portal_factory()


def sign_in(
    portal: PortalHarness,
    *,
    email: str,
    siret: str | None = None,
    organisation: str | None = None,
    roles: Iterable[Role | str] = (),
    providers: Iterable[str] = (),
    given_name: str = "Camille",
    family_name: str = "Agent",
) -> TestClient:
    """A client signed in as this agent through a real portal session (see the module's
    docstring)."""
    roles = [Role(role) for role in roles]
    providers = list(providers)
    if Role.DATA_PROVIDER in roles and not providers:
        raise ValueError("a data provider agent names its providers: providers=('cnaf',)")
    now = int(time.time())
    with portal.db.transaction() as session:
        record = upsert_agent(
            session,
            Identity(
                issuer=TEST_AGENTS_ISSUER,
                subject=f"sub-{email.lower()}",
                email=email,
                given_name=given_name,
                family_name=family_name,
                siret=siret,
                organisation=organisation,
            ),
            now,
        )
        for role in roles:
            # Requesters are named by their SIRET; data providers per provider, below.
            if role not in (Role.REQUESTER, Role.DATA_PROVIDER):
                grant_role(session, email=email, role=role, actor="test:sign_in", now=now)
        for provider in providers:
            grant_role(
                session,
                email=email,
                role=Role.DATA_PROVIDER,
                provider=provider,
                actor="test:sign_in",
                now=now,
            )
        session_id = portal.sessions.open_in(session, record.id, now)
        agent = load_agent(session, record.id)
    client = portal.client()
    client.cookies.set(COOKIE, session_id)
    client.csrf = portal.sessions.csrf_token(session_id)  # type: ignore[attr-defined]
    client.agent = agent  # type: ignore[attr-defined]
    client.session_id = session_id  # type: ignore[attr-defined]
    return client
