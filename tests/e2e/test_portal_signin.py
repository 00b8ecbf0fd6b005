"""Agents sign in to the operators' portal through the demo agents' identity provider, over
sockets: the portal and the provider are separate servers, as ProConnect and the portal are.

The whole way: the portal's sign-in page sends the browser to the provider (code flow, PKCE
S256, state and nonce in a signed cookie), the test agent logs in there, the provider sends the
browser back with a code, the portal exchanges it, verifies the ID token, reads userinfo and
opens a session; the agent's roles apply at once. Attacks: a callback with another ``iss``, a
replayed callback, a callback in another browser, a forged ID token (tests/broker/portal/
test_signin.py bends the provider's answers one by one)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from sqlmodel import select

from broker.core.settings import Settings
from broker.demo.agents import AGENTS, OPERATOR_SIRET, VILLEBOURG_SIRET
from broker.demo.idp.registration import portal_as_client
from broker.portal.app import build_portal_state, create_portal_app
from broker.portal.sessions import COOKIE
from broker.portal.signin import SIGN_IN_COOKIE
from broker.store.portal_models import AuditEntry, PortalAgent, PortalSession
from tests.servers import bound_socket, serve_app

CSRF_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')
PORTAL_CSRF = re.compile(r'name="csrf" value="([^"]*)"')
VILLEBOURG_AGENT = next(a for a in AGENTS if a.siret == VILLEBOURG_SIRET)
INSTRUCTOR = next(a for a in AGENTS if ("instructor", "") in a.roles)
ADMINISTRATOR = next(a for a in AGENTS if ("administrator", "") in a.roles)


@dataclass
class LivePortal:
    url: str
    settings: Settings
    state: object

    @property
    def db(self):
        return self.state.context.db  # type: ignore[attr-defined]


@pytest.fixture
def live_portal(settings_factory, demo_idp) -> Iterator[LivePortal]:
    """The portal on a loopback socket, on its own seeded database, registered at the demo
    agents' provider as its client (the demo's own registration)."""
    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = settings_factory(portal_url=url, portal_idp_issuer=f"{demo_idp.url}/agents-demo")
    demo_idp.options.register(portal_as_client(settings))
    state = build_portal_state(settings)
    with serve_app(create_portal_app(settings, run_jobs=False, state=state), sock):
        yield LivePortal(url, settings, state)


def browser() -> httpx.Client:
    return httpx.Client(follow_redirects=False, timeout=10)


def to_provider_login(portal: LivePortal, http: httpx.Client, back_to: str = "/") -> httpx.Response:
    """The portal's sign-in, up to the provider's login page."""
    start = http.get(f"{portal.url}/connexion", params={"retour": back_to})
    assert start.status_code == 303, start.text
    assert SIGN_IN_COOKIE in start.cookies
    authorize = start.headers["location"]
    params = parse_qs(urlsplit(authorize).query)
    assert params["code_challenge_method"] == ["S256"]
    assert params["redirect_uri"] == [f"{portal.url}/connexion/retour"]
    assert set(params["scope"][0].split()) >= {"openid", "email", "siret", "usual_name"}
    assert params["nonce"][0] and params["state"][0]
    page = http.get(authorize)
    assert page.status_code == 200, page.text
    return page


def provider_callback(portal: LivePortal, http: httpx.Client, agent, back_to: str = "/") -> str:
    """The provider's redirect back to the portal, after the agent logged in."""
    page = to_provider_login(portal, http, back_to)
    site = urlsplit(str(page.url)).path.rsplit("/", 2)[1]
    base = f"{page.url.scheme}://{page.url.netloc.decode()}"
    login = http.post(
        f"{base}/{site}/login",
        data={
            "csrf_token": CSRF_TOKEN.search(page.text).group(1),
            "login": agent.login,
            "password": agent.password,
        },
    )
    assert login.status_code == 303, login.text
    location = login.headers["location"]
    assert location.startswith(f"{portal.url}/connexion/retour?")
    return location


def sign_in(portal: LivePortal, agent, back_to: str = "/") -> httpx.Client:
    http = browser()
    back = http.get(provider_callback(portal, http, agent, back_to))
    assert back.status_code == 303, back.text
    assert back.headers["location"] == back_to
    assert COOKIE in back.cookies
    return http


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_the_provider_lists_the_test_agents_on_its_login_page(live_portal):
    with browser() as http:
        page = to_provider_login(live_portal, http)
    assert "Identité agents (démo)" in page.text
    for agent in AGENTS:
        assert f"<code>{agent.login}</code>" in page.text
    assert "Angela" not in page.text  # the citizens are another provider's accounts


def test_an_agent_signs_in_and_gets_a_session_with_their_organisation(live_portal):
    http = sign_in(live_portal, VILLEBOURG_AGENT)
    home = http.get(f"{live_portal.url}/")
    assert f"{VILLEBOURG_AGENT.given_name} {VILLEBOURG_AGENT.usual_name}" in home.text
    assert VILLEBOURG_AGENT.organisation in home.text
    assert 'href="/demandes"' in home.text  # a requester (their SIRET)
    assert 'href="/journal"' not in home.text and 'href="/roles"' not in home.text
    with live_portal.db.transaction() as session:
        agent = session.exec(
            select(PortalAgent).where(PortalAgent.email == VILLEBOURG_AGENT.email)
        ).one()
        assert agent.siret == VILLEBOURG_SIRET
        assert agent.family_name == VILLEBOURG_AGENT.usual_name
        assert agent.idp_issuer.endswith("/agents-demo")
        [stored] = session.exec(
            select(PortalSession).where(PortalSession.agent_id == agent.id)
        ).all()
        assert stored.upstream_id_token  # for the provider's end-session request
        assert http.cookies[COOKIE] not in stored.id_digest  # only its digest is kept
        created = session.exec(select(AuditEntry).where(AuditEntry.action == "agent.create")).all()
        assert [entry.target_id for entry in created] == [agent.id]


def test_roles_granted_to_the_test_agents_apply_at_sign_in(live_portal):
    """The seed gave the instructor and the administrator their roles, by email."""
    instructor = sign_in(live_portal, INSTRUCTOR).get(f"{live_portal.url}/")
    assert 'href="/demandes"' in instructor.text and 'href="/roles"' not in instructor.text
    administrator = sign_in(live_portal, ADMINISTRATOR).get(f"{live_portal.url}/")
    assert 'href="/roles"' in administrator.text and 'href="/audit"' in administrator.text
    with live_portal.db.transaction() as session:
        agent = session.exec(select(PortalAgent).where(PortalAgent.email == INSTRUCTOR.email)).one()
        assert agent.siret == OPERATOR_SIRET


def test_after_signing_in_the_agent_goes_back_where_they_were_going(live_portal):
    http = sign_in(live_portal, VILLEBOURG_AGENT, back_to="/stats?periode=semaine")
    assert http.cookies[COOKIE]


def test_attack_callback_with_another_issuer_is_refused(live_portal):
    """RFC 9207: an answer naming another issuer (a mix-up) opens no session."""
    http = browser()
    callback = provider_callback(live_portal, http, VILLEBOURG_AGENT)
    refused = http.get(with_query(callback, iss="https://evil.example/agents"))
    assert refused.status_code == 400
    assert "wrong_issuer" in refused.text and "Traceback" not in refused.text
    assert COOKIE not in refused.cookies
    assert COOKIE not in http.cookies


def test_attack_callback_without_its_issuer_is_refused(live_portal):
    """The provider says it sends ``iss``: an answer without it is refused."""
    http = browser()
    callback = provider_callback(live_portal, http, VILLEBOURG_AGENT)
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items() if k != "iss"}
    refused = http.get(urlunsplit(parts._replace(query=urlencode(query))))
    assert refused.status_code == 400 and "wrong_issuer" in refused.text


def test_attack_replayed_callback_is_refused(live_portal):
    """The same answer again, with the sign-in cookie it came with: no second session."""
    http = browser()
    callback = provider_callback(live_portal, http, VILLEBOURG_AGENT)
    cookie = http.cookies[SIGN_IN_COOKIE]
    assert http.get(callback).status_code == 303  # signed in once
    with browser() as attacker:
        attacker.cookies.set(SIGN_IN_COOKIE, cookie)
        replayed = attacker.get(callback)
    assert replayed.status_code == 400 and "replayed" in replayed.text
    assert COOKIE not in replayed.cookies


def test_attack_callback_in_another_browser_is_refused(live_portal):
    """A code stolen or injected into another browser: that browser holds no sign-in cookie
    (or another one), so the state does not match."""
    http = browser()
    callback = provider_callback(live_portal, http, VILLEBOURG_AGENT)
    with browser() as other:
        alone = other.get(callback)
        assert alone.status_code == 400 and "expired" in alone.text
        to_provider_login(live_portal, other)  # its own sign-in, another state
        mixed = other.get(callback)
    assert mixed.status_code == 400 and "unknown_state" in mixed.text
    assert COOKIE not in mixed.cookies


def test_attack_forged_sign_in_cookie_is_refused(live_portal):
    http = browser()
    callback = provider_callback(live_portal, http, VILLEBOURG_AGENT)
    value = http.cookies[SIGN_IN_COOKIE]
    payload, _, tag = value.partition(".")
    http.cookies.set(SIGN_IN_COOKIE, f"{payload}.{tag[::-1]}")
    refused = http.get(callback)
    assert refused.status_code == 400 and "expired" in refused.text


def test_attack_tampered_code_is_refused_with_a_readable_page(live_portal):
    http = browser()
    callback = provider_callback(live_portal, http, VILLEBOURG_AGENT)
    refused = http.get(with_query(callback, code="not-the-code"))
    assert refused.status_code == 502
    assert "provider_error" in refused.text and "Traceback" not in refused.text


def test_cancelling_at_the_provider_shows_a_page(live_portal):
    http = browser()
    page = to_provider_login(live_portal, http)
    site = urlsplit(str(page.url)).path.rsplit("/", 2)[1]
    base = f"{page.url.scheme}://{page.url.netloc.decode()}"
    cancelled = http.post(
        f"{base}/{site}/cancel", data={"csrf_token": CSRF_TOKEN.search(page.text).group(1)}
    )
    back = http.get(cancelled.headers["location"])
    assert back.status_code == 403 and "denied" in back.text


def test_signing_out_ends_the_session_here_and_at_the_provider(live_portal):
    http = sign_in(live_portal, VILLEBOURG_AGENT)
    home = http.get(f"{live_portal.url}/")
    csrf = PORTAL_CSRF.search(home.text).group(1)
    session_cookie = http.cookies[COOKIE]
    out = http.post(f"{live_portal.url}/deconnexion", data={"csrf": csrf})
    assert out.status_code == 303
    end_session = out.headers["location"]
    assert "/agents-demo/logout?" in end_session
    assert "id_token_hint=" in end_session
    back = http.get(end_session)
    assert back.status_code == 303
    assert back.headers["location"] == f"{live_portal.url}/deconnexion/terminee"
    assert http.get(back.headers["location"]).status_code == 200
    with browser() as thief:  # the old cookie opens nothing any more
        thief.cookies.set(COOKIE, session_cookie)
        assert 'name="csrf"' not in thief.get(f"{live_portal.url}/").text


def test_the_portal_sends_its_security_headers(live_portal):
    with browser() as http:
        home = http.get(f"{live_portal.url}/")
    policy = home.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy
    assert home.headers["x-content-type-options"] == "nosniff"
    assert home.headers["referrer-policy"] == "no-referrer"
    assert http_ok(live_portal.url + "/health/live")


def http_ok(url: str) -> bool:
    with contextlib.closing(browser()) as http:
        return http.get(url).status_code == 200
