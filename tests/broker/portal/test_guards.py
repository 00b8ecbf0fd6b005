"""The portal's guards, tried against routes of their own: nobody signed in, a session that has
ended, a POST without its CSRF token, an agent without the role; and the error pages every
refusal turns into (readable, in the agent's language, no stack trace)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar import Request, get, post
from litestar.di import NamedDependency
from sqlmodel import select

from broker.admin.agents import revoke_role
from broker.portal.guards import requires, signed_in
from broker.portal.principal import Agent, Role
from broker.portal.sessions import COOKIE
from broker.store.portal_models import PortalSession
from tests.broker.portal.conftest import OPERATOR, VAL_FLEURI, VILLEBOURG, sign_in

CHANGES: list[str] = []  # what the POST handlers did: a refused POST must not get there


@get("/essai/agent", guards=[signed_in], sync_to_thread=False)
def whoami(agent: NamedDependency[Agent]) -> str:
    return f"{agent.email} {','.join(sorted(agent.roles))}"


@post("/essai/changer", guards=[signed_in], status_code=200)
async def change(request: Request, agent: NamedDependency[Agent]) -> str:
    form = await request.form()  # the guard read it first: it is still there
    CHANGES.append(f"{agent.email}:{form.get('valeur')}")
    return "changed"


@get("/essai/instruction", guards=[requires(Role.INSTRUCTOR)], sync_to_thread=False)
def instruction(agent: NamedDependency[Agent]) -> str:
    return "instruction"


@post(
    "/essai/instruction",
    guards=[requires(Role.INSTRUCTOR, Role.ADMINISTRATOR)],
    status_code=200,
    sync_to_thread=False,
)
def decide(agent: NamedDependency[Agent]) -> str:
    CHANGES.append(f"decided by {agent.email}")
    return "decided"


@get("/essai/usage", guards=[requires(Role.DATA_PROVIDER)], sync_to_thread=False)
def usage(agent: NamedDependency[Agent]) -> str:
    return ",".join(sorted(agent.providers))


@get("/essai/panne", sync_to_thread=False)
def broken() -> str:
    raise RuntimeError("secret detail that must not be shown")


@pytest.fixture
def portal(portal_factory):
    CHANGES.clear()
    return portal_factory(extra_handlers=[whoami, change, instruction, decide, usage, broken])


def requester(portal, email="anne@villebourg.example", siret=VILLEBOURG):
    return sign_in(portal, email=email, siret=siret, organisation="Mairie de Villebourg")


def test_role_anonymous_is_sent_to_sign_in(portal):
    answer = portal.client().get("/essai/agent?onglet=2", follow_redirects=False)
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert location.path == "/connexion"
    assert parse_qs(location.query) == {"retour": ["/essai/agent?onglet=2"]}


def test_role_anonymous_post_gets_a_readable_403(portal):
    answer = portal.client().post("/essai/changer", data={"valeur": "1", "csrf": "x"})
    assert answer.status_code == 403
    assert "Connexion nécessaire" in answer.text and "not_signed_in" in answer.text
    assert CHANGES == []


def test_a_signed_in_agent_reaches_the_page_and_the_agent_dependency(portal):
    client = requester(portal)
    answer = client.get("/essai/agent")
    assert answer.status_code == 200
    assert answer.text == "anne@villebourg.example requester"


def test_a_post_with_the_session_csrf_token_goes_through(portal):
    client = requester(portal)
    answer = client.post("/essai/changer", data={"valeur": "42", "csrf": client.csrf})
    assert answer.status_code == 200
    assert CHANGES == ["anne@villebourg.example:42"]


def test_attack_post_without_csrf_is_refused(portal):
    client = requester(portal)
    answer = client.post("/essai/changer", data={"valeur": "1"})
    assert answer.status_code == 403
    assert "Formulaire non valable" in answer.text and "bad_csrf" in answer.text
    assert client.post("/essai/changer", data={"valeur": "1", "csrf": ""}).status_code == 403
    assert CHANGES == []


def test_attack_post_with_another_sessions_csrf_is_refused(portal):
    victim = requester(portal)
    attacker = requester(portal, "mallory@valfleuri.example", VAL_FLEURI)
    answer = victim.post("/essai/changer", data={"valeur": "1", "csrf": attacker.csrf})
    assert answer.status_code == 403 and "bad_csrf" in answer.text
    tampered = victim.csrf[:-1] + ("0" if victim.csrf[-1] != "0" else "1")
    assert victim.post("/essai/changer", data={"csrf": tampered}).status_code == 403
    assert CHANGES == []


def test_attack_csrf_token_in_the_query_is_not_enough(portal):
    client = requester(portal)
    answer = client.post(f"/essai/changer?csrf={client.csrf}", data={"valeur": "1"})
    assert answer.status_code == 403
    assert CHANGES == []


def test_attack_session_cookie_of_revoked_session(portal):
    client = requester(portal)
    with portal.db.transaction() as session:
        portal.sessions.close_in(session, client.session_id, int(time.time()))
    answer = client.get("/essai/agent", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/connexion")
    refused = client.post("/essai/changer", data={"valeur": "1", "csrf": client.csrf})
    assert refused.status_code == 403 and "not_signed_in" in refused.text
    assert CHANGES == []


def test_attack_session_cookie_of_expired_session(portal):
    client = requester(portal)
    with portal.db.transaction() as session:
        row = session.exec(select(PortalSession)).one()
        row.expires_at = int(time.time()) - 1
        session.add(row)
    answer = client.get("/essai/agent", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/connexion")


def test_attack_session_cookie_of_idle_session(portal):
    client = requester(portal)
    with portal.db.transaction() as session:
        row = session.exec(select(PortalSession)).one()
        row.last_seen = int(time.time()) - portal.settings.portal_session_idle_ttl - 1
        session.add(row)
    assert client.get("/essai/agent", follow_redirects=False).status_code == 303


def test_attack_forged_session_cookie_is_nobody(portal):
    client = portal.client()
    client.cookies.set(COOKIE, "forged-session-id-" + "a" * 30)
    assert client.get("/essai/agent", follow_redirects=False).status_code == 303


def test_role_requester_cannot_reach_an_instructors_page(portal):
    client = requester(portal)
    answer = client.get("/essai/instruction")
    assert answer.status_code == 403
    assert "Accès refusé" in answer.text and "forbidden" in answer.text
    refused = client.post("/essai/instruction", data={"csrf": client.csrf})
    assert refused.status_code == 403
    assert CHANGES == []


def test_role_instructor_and_administrator_reach_what_requires_them(portal):
    instructor = sign_in(
        portal, email="ines@operateur.example", siret=OPERATOR, roles=["instructor"]
    )
    assert instructor.get("/essai/instruction").text == "instruction"
    administrator = sign_in(portal, email="adam@operateur.example", roles=["administrator"])
    assert administrator.get("/essai/instruction").status_code == 403  # one role only
    decided = administrator.post("/essai/instruction", data={"csrf": administrator.csrf})
    assert decided.status_code == 200  # either role
    assert CHANGES == ["decided by adam@operateur.example"]


def test_role_requires_still_checks_the_csrf_token(portal):
    instructor = sign_in(portal, email="ines@operateur.example", roles=["instructor"])
    assert instructor.post("/essai/instruction", data={}).status_code == 403
    assert CHANGES == []


def test_role_taken_away_applies_at_the_next_request(portal):
    instructor = sign_in(portal, email="ines@operateur.example", roles=["instructor"])
    assert instructor.get("/essai/instruction").status_code == 200
    with portal.db.transaction() as session:
        revoke_role(session, email="ines@operateur.example", role="instructor", actor="test")
    assert instructor.get("/essai/instruction").status_code == 403


def test_role_data_provider_sees_its_providers_only(portal):
    cnaf = sign_in(portal, email="claire@cnaf.example", roles=["data_provider"], providers=["cnaf"])
    assert cnaf.get("/essai/usage").text == "cnaf"
    assert requester(portal).get("/essai/usage").status_code == 403


def test_role_an_agent_without_siret_is_not_a_requester(portal):
    client = sign_in(portal, email="no.siret@example.org")
    assert client.get("/essai/agent").text == "no.siret@example.org "


def test_the_base_template_shows_the_agent_the_nav_and_the_csrf_field(portal):
    client = sign_in(
        portal,
        email="ines@operateur.example",
        siret=OPERATOR,
        organisation="Opérateur de la plateforme",
        roles=["instructor"],
    )
    home = client.get("/")
    assert "Camille Agent" in home.text and "Opérateur de la plateforme" in home.text
    assert f'name="csrf" value="{client.csrf}"' in home.text
    assert 'href="/demandes"' in home.text and 'href="/roles"' not in home.text
    anonymous = portal.client().get("/")
    assert 'href="/connexion"' in anonymous.text and 'href="/demandes"' not in anonymous.text
    assert 'name="csrf"' not in anonymous.text


def test_errors_are_readable_pages_in_the_agents_language(portal):
    missing = portal.client().get("/nulle-part")
    assert missing.status_code == 404 and "Page introuvable" in missing.text
    english = portal.client().get("/nulle-part?lang=en")
    assert english.status_code == 404 and 'lang="en"' in english.text
    wrong_method = portal.client().delete("/")
    assert wrong_method.status_code == 405 and "Traceback" not in wrong_method.text


def test_an_unexpected_error_is_a_readable_500_without_detail(portal):
    answer = portal.client().get("/essai/panne")
    assert answer.status_code == 500
    assert "Erreur du portail" in answer.text
    assert "secret detail" not in answer.text and "Traceback" not in answer.text


def test_attack_sign_out_without_csrf_is_refused(portal):
    client = requester(portal)
    assert client.post("/deconnexion", data={}).status_code == 403
    assert client.get("/essai/agent").status_code == 200  # still signed in
