"""The portal's sign-in against an agents' identity provider the tests control (over a real
socket; the portal in process): each test bends one part of the provider's answer, and the
portal must open no session, and say why on a readable page. The path through the demo agents'
provider is tested over sockets in tests/e2e/test_portal_signin.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from sqlmodel import select

from broker.admin.agents import grant_role
from broker.portal.guards import sign_in_location
from broker.portal.sessions import COOKIE
from broker.portal.signin_claims import identity_of
from broker.portal.signin_state import SIGN_IN_COOKIE, SignedCookie, local_path
from broker.store.portal_models import AuditEntry, PortalAgent
from tests.broker.identity.federation.rogue_idp import RogueIdp, new_key
from tests.broker.portal.conftest import VILLEBOURG
from tests.servers import bound_socket, serve_app

AGENT = {
    "email": "Sophie.Martin@Villebourg.example",
    "given_name": "Sophie",
    "usual_name": "MARTIN",
    "siret": VILLEBOURG,
    "organizational_unit": "Mairie de Villebourg",
}


@pytest.fixture
def rogue() -> Iterator[RogueIdp]:
    sock = bound_socket()
    idp = RogueIdp(url=f"http://127.0.0.1:{sock.getsockname()[1]}")
    idp.behaviour.userinfo = dict(AGENT)
    with serve_app(idp.app(), sock):
        yield idp


@pytest.fixture
def portal(portal_factory, rogue):
    return portal_factory(portal_idp_issuer=rogue.issuer, portal_idp_client_id=rogue.client_id)


def go_through_provider(portal, back_to: str = "/"):
    """The portal's sign-in, the provider's immediate answer, the callback: (client, answer)."""
    client = portal.client()
    start = client.get("/connexion", params={"retour": back_to}, follow_redirects=False)
    assert start.status_code == 303, start.text
    answer = httpx.get(start.headers["location"], follow_redirects=False)
    callback = answer.headers["location"]
    assert callback.startswith("http://portal.test/connexion/retour?")
    return client, client.get(callback, follow_redirects=False)


def agents(portal) -> list[PortalAgent]:
    with portal.db.transaction() as session:
        return list(session.exec(select(PortalAgent)).all())


def refused(portal, reason: str, status: int = 502) -> None:
    _, answer = go_through_provider(portal)
    assert answer.status_code == status, answer.text
    assert reason in answer.text and "Traceback" not in answer.text
    assert COOKIE not in answer.cookies
    assert agents(portal) == []


def test_a_correct_answer_signs_the_agent_in(portal, rogue):
    client, answer = go_through_provider(portal, "/demandes")
    assert answer.status_code == 303 and answer.headers["location"] == "/demandes"
    [agent] = agents(portal)
    assert (agent.email, agent.given_name, agent.family_name) == (
        "sophie.martin@villebourg.example",
        "Sophie",
        "MARTIN",
    )
    assert (agent.siret, agent.organisation) == (VILLEBOURG, "Mairie de Villebourg")
    assert agent.idp_subject == "rogue-subject-1"
    [request] = rogue.requests
    assert request["code_challenge_method"] == "S256" and request["nonce"]
    [token_request] = rogue.token_requests
    assert token_request["code_verifier"] and "client_secret" not in token_request  # basic auth
    assert "Sophie MARTIN" in client.get("/").text


def test_attack_tampered_id_token_is_refused(portal, rogue):
    def tampered(request: dict) -> str:
        token = rogue.standard_id_token(request, rogue.client_id)
        header, payload, signature = token.split(".")
        return f"{header}.{payload}.{signature[::-1]}"

    rogue.behaviour.id_token = tampered
    refused(portal, "invalid_response")


def test_attack_id_token_signed_by_a_key_the_provider_does_not_publish(portal, rogue):
    rogue.behaviour.key = new_key("unpublished")
    rogue.behaviour.published = [new_key("published")]
    refused(portal, "invalid_response")


def test_attack_unsigned_id_token_is_refused(portal, rogue):
    def unsigned(request: dict) -> str:
        token = rogue.standard_id_token(request, rogue.client_id)
        _, payload, _ = token.split(".")
        return f"eyJhbGciOiJub25lIn0.{payload}."

    rogue.behaviour.id_token = unsigned
    refused(portal, "invalid_response")


def test_attack_hmac_id_token_keyed_with_the_public_key_is_refused(portal, rogue):
    def confused(request: dict) -> str:
        claims = {
            "iss": rogue.issuer,
            "sub": "rogue-subject-1",
            "aud": rogue.client_id,
            "iat": int(time.time()),
            "exp": int(time.time()) + 300,
            "nonce": request["nonce"],
        }
        public = rogue.behaviour.key.as_pem(private=False)
        return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(public))

    rogue.behaviour.id_token = confused
    refused(portal, "invalid_response")


@pytest.mark.parametrize(
    "claims",
    [
        {"nonce": "another-nonce"},
        {"aud": "another-client"},
        {"iss": "https://evil.example"},
        {"exp": int(time.time()) - 3600},
        {"iat": int(time.time()) - 7200},
    ],
    ids=["nonce", "aud", "iss", "exp", "iat"],
)
def test_attack_id_token_with_a_wrong_claim_is_refused(portal, rogue, claims):
    rogue.behaviour.claims = claims
    refused(portal, "invalid_response")


def test_attack_userinfo_about_someone_else_is_refused(portal, rogue):
    rogue.behaviour.userinfo = {**AGENT, "sub": "another-subject"}
    refused(portal, "invalid_response")


def test_a_signed_userinfo_is_verified_and_accepted(portal, rogue):
    """ProConnect answers userinfo as a signed JWT: verified with the provider's keys."""
    rogue.behaviour.userinfo_signed = True
    _, answer = go_through_provider(portal)
    assert answer.status_code == 303
    assert agents(portal)[0].siret == VILLEBOURG


def test_an_agent_without_email_is_refused(portal, rogue):
    rogue.behaviour.userinfo = {k: v for k, v in AGENT.items() if k != "email"}
    refused(portal, "incomplete_identity")


def test_an_invalid_email_is_refused_with_a_readable_page(portal, rogue):
    rogue.behaviour.userinfo = {**AGENT, "email": "two@at@signs"}
    refused(portal, "incomplete_identity")


def test_role_a_siret_that_is_not_one_makes_no_requester(portal, rogue):
    rogue.behaviour.userinfo = {**AGENT, "siret": "not-a-siret"}
    client, answer = go_through_provider(portal)
    assert answer.status_code == 303
    [agent] = agents(portal)
    assert agent.siret is None
    assert 'href="/demandes"' not in client.get("/").text


def test_a_provider_error_is_a_readable_page(portal, rogue):
    rogue.behaviour.authorize_error = "server_error"
    refused(portal, "provider_error")


def test_access_denied_at_the_provider_is_a_readable_page(portal, rogue):
    rogue.behaviour.authorize_error = "access_denied"
    refused(portal, "denied", 403)


def test_attack_answer_from_another_issuer_is_refused(portal, rogue):
    rogue.behaviour.iss_param = "https://evil.example"
    refused(portal, "wrong_issuer", 400)
    assert rogue.token_requests == []  # the code was never tried


def test_an_unreachable_provider_is_a_readable_page(portal_factory):
    sock = bound_socket()  # bound, never listening: connections are refused
    portal = portal_factory(portal_idp_issuer=f"http://127.0.0.1:{sock.getsockname()[1]}")
    answer = portal.client().get("/connexion", follow_redirects=False)
    sock.close()
    assert answer.status_code == 504 and "unreachable" in answer.text


def test_attack_expired_sign_in_cookie_is_refused(portal, rogue):
    client = portal.client()
    start = client.get("/connexion", follow_redirects=False)
    cookie = client.cookies[SIGN_IN_COOKIE]
    key = portal.state.sign_in.cookies
    value = key.load(cookie)
    value["expires_at"] = int(time.time()) - 1
    client.cookies.set(SIGN_IN_COOKIE, key.dump(value))  # well signed, but expired
    callback = httpx.get(start.headers["location"], follow_redirects=False).headers["location"]
    answer = client.get(callback, follow_redirects=False)
    assert answer.status_code == 400 and "expired" in answer.text


def test_attack_sign_in_cookie_signed_with_another_key_is_refused(portal, rogue):
    client = portal.client()
    start = client.get("/connexion", follow_redirects=False)
    value = portal.state.sign_in.cookies.load(client.cookies[SIGN_IN_COOKIE])
    client.cookies.set(SIGN_IN_COOKIE, SignedCookie(b"k" * 32).dump(value))
    callback = httpx.get(start.headers["location"], follow_redirects=False).headers["location"]
    assert client.get(callback, follow_redirects=False).status_code == 400


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", ""],
)
def test_attack_return_address_is_a_portal_path_only(target):
    assert local_path(target) == "/"


def test_the_return_address_keeps_a_portal_path():
    assert local_path("/demandes/12?onglet=messages") == "/demandes/12?onglet=messages"


def test_an_agent_already_signed_in_goes_straight_back(portal, rogue):
    client, _ = go_through_provider(portal)
    again = client.get("/connexion?retour=/stats", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/stats"
    assert len(rogue.requests) == 1


def test_signing_in_again_refreshes_the_agent_and_audits_what_changed(portal, rogue):
    go_through_provider(portal)
    rogue.behaviour.userinfo = {**AGENT, "siret": "20005478900017"}  # moved to Val Fleuri
    go_through_provider(portal)
    [agent] = agents(portal)
    assert agent.siret == "20005478900017"
    with portal.db.transaction() as session:
        entries = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
    actions = [(e.action, e.target_id) for e in entries if e.target_type == "agent"]
    assert actions == [("agent.create", agent.id), ("agent.update", agent.id)]
    assert entries[-1].before["siret"] == VILLEBOURG
    go_through_provider(portal)  # nothing changed: nothing written
    with portal.db.transaction() as session:
        assert len(session.exec(select(AuditEntry)).all()) == len(entries)


def test_the_authorization_request_names_the_portal_callback_and_proconnect_scopes(portal, rogue):
    client = portal.client()
    start = client.get("/connexion", follow_redirects=False)
    params = parse_qs(urlsplit(start.headers["location"]).query)
    assert params["redirect_uri"] == ["http://portal.test/connexion/retour"]
    assert params["client_id"] == [rogue.client_id]
    assert params["scope"] == ["openid email given_name usual_name siret organizational_unit"]
    assert start.cookies[SIGN_IN_COOKIE]


def test_attack_unverified_email_of_an_administrator_opens_no_session(portal, rogue):
    """The provider says the email is not verified, and that email is an administrator's: no
    session, a readable page, the refusal logged."""
    with portal.db.transaction() as session:
        grant_role(
            session, email="sophie.martin@villebourg.example", role="administrator", actor="t"
        )
    rogue.behaviour.userinfo = {**AGENT, "email_verified": False}
    refused(portal, "unverified_email", 403)


def test_attack_role_granted_after_an_unverified_sign_in_opens_nothing(portal, rogue):
    """The provider said the email was not verified; with no role granted to it yet, the
    agent is signed in as a requester. The administrator role granted to that email later does
    not reach their open session: the provider's word was kept with the agent."""
    rogue.behaviour.userinfo = {**AGENT, "email_verified": False}
    client, answer = go_through_provider(portal)
    assert answer.status_code == 303
    [agent] = agents(portal)
    assert agent.email_verified is False
    with portal.db.transaction() as session:
        grant_role(session, email=agent.email, role="administrator", actor="t")
    assert client.get("/roles").status_code == 403
    assert 'href="/roles"' not in client.get("/").text


@pytest.mark.parametrize(
    ("given", "read"),
    [(True, True), (False, False), ("false", False), ("TRUE", True), (None, None), (1, None)],
)
def test_email_verified_is_read_as_the_provider_gives_it(given, read):
    claims = {"sub": "s", "email": "a@b.example"}
    if given is not None:
        claims["email_verified"] = given
    assert identity_of("https://idp.example", claims).email_verified is read


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "/a\x00b", "/" + "a" * 600],
)
def test_attack_guards_send_to_sign_in_with_the_same_local_path_rule(target):
    location = urlsplit(sign_in_location(target))
    assert location.path == "/connexion"
    assert parse_qs(location.query) == {"retour": ["/"]}
    assert local_path(target) == "/"
