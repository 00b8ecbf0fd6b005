"""The citizen's path through the identity federation, over sockets: the broker, the demo
identity providers (a separate OpenID Connect provider process), the choice page."""

from __future__ import annotations

from sqlalchemy import func, select

from broker.admin.identity_providers import set_client_rules
from broker.store.models import Citizen
from tests.e2e.test_code_flow import verify_id_token
from tests.helpers import (
    DEMO_IDP,
    STRONG_IDP,
    AuthorizationRequest,
    Browser,
    query,
    redeem,
    register_client,
)

SCOPE = "openid given_name family_name birthdate cnaf_quotient_familial"


def id_claims(broker, client, request, received) -> dict:
    token = redeem(broker.url, client, received["code"], request.verifier).json()
    return verify_id_token(broker.url, token["id_token"], client.client_id, request.nonce)


def citizen_rows(broker) -> int:
    with broker.state.db.connect() as conn:
        return conn.execute(select(func.count()).select_from(Citizen)).scalar_one()


def test_one_citizen_whichever_provider(broker):
    """The same person through two providers (each giving its own subject) is one citizen:
    the same pairwise sub, the same consent (not asked again), one row."""
    client = register_client(broker.state, scope=SCOPE)
    first = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(first, idp=DEMO_IDP)
    by_demo = id_claims(broker, client, first, received)
    rows = citizen_rows(broker)

    second = AuthorizationRequest(client)
    browser = Browser(broker.url)  # another browser: no session at the broker
    login_url = browser.authorize(second).headers["location"]
    answer = browser.login(login_url, idp=STRONG_IDP)
    assert answer.headers["location"].startswith(client.redirect_uri), "consent remembered"
    by_strong = id_claims(broker, client, second, query(answer.headers["location"]))
    assert by_strong["sub"] == by_demo["sub"]
    assert (by_demo["idp"], by_strong["idp"]) == (DEMO_IDP, STRONG_IDP)
    assert (by_demo["acr"], by_strong["acr"]) == ("eidas1", "eidas2")
    assert citizen_rows(broker) == rows


def test_single_sign_on_remembers_the_provider(broker):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    browser.sign_in(AuthorizationRequest(client), idp=STRONG_IDP)
    again = AuthorizationRequest(client)
    response = browser.authorize(again)  # the broker's session: no choice page
    assert response.headers["location"].startswith(client.redirect_uri)
    claims = id_claims(broker, client, again, query(response.headers["location"]))
    assert claims["idp"] == STRONG_IDP and claims["acr"] == "eidas2"


def test_idp_hint_skips_the_choice_page_and_login_hint_is_passed_on(broker):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    request = AuthorizationRequest(client, extra={"idp_hint": STRONG_IDP, "login_hint": "test"})
    login_url = browser.authorize(request).headers["location"]
    straight = browser.get(login_url)
    assert straight.status_code == 303
    assert straight.headers["location"].startswith(broker.state.settings.demo_idp_url)
    assert "/identite-demo-renforcee/authorize?" in straight.headers["location"]
    at_idp = browser.get(straight.headers["location"])
    assert 'value="test"' in at_idp.text  # the provider pre-fills the login it was hinted
    unknown = AuthorizationRequest(client, extra={"idp_hint": "nowhere"})
    page = browser.get(browser.authorize(unknown).headers["location"])
    assert page.status_code == 200 and f'value="{DEMO_IDP}"' in page.text


def test_the_last_choice_is_remembered_on_the_browser(broker):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    browser.sign_in(AuthorizationRequest(client, extra={"prompt": "login"}), idp=STRONG_IDP)
    login_url = browser.authorize(AuthorizationRequest(client, extra={"prompt": "login"})).headers[
        "location"
    ]
    page = browser.get(login_url)
    assert page.text.index(f'value="{STRONG_IDP}"') < page.text.index(f'value="{DEMO_IDP}"')
    assert "Utilisé la dernière fois sur ce navigateur." in page.text


def test_a_service_allow_or_block_list_filters_the_providers(broker):
    client = register_client(broker.state, name="Service restreint")
    with broker.state.db.transaction() as session:
        set_client_rules(session, "Service restreint", [], [DEMO_IDP])
    broker.state.sign_in.registry.forget()  # the choice page's copy lives 2 s
    browser = Browser(broker.url)
    login_url = browser.authorize(AuthorizationRequest(client)).headers["location"]
    page = browser.get(login_url)
    assert f'value="{DEMO_IDP}"' not in page.text and f'value="{STRONG_IDP}"' in page.text
    blocked = browser.post(login_url, data={"csrf_token": browser.csrf(page), "idp": DEMO_IDP})
    assert blocked.status_code == 403 and "provider_not_offered" in blocked.text
    with broker.state.db.transaction() as session:
        set_client_rules(session, "Service restreint", [DEMO_IDP], [])
    broker.state.sign_in.registry.forget()
    page = browser.get(login_url)
    assert f'value="{DEMO_IDP}"' in page.text and f'value="{STRONG_IDP}"' not in page.text


def test_the_citizen_space_signs_in_through_the_providers(broker):
    browser = Browser(broker.url)
    page = browser.get("/espace/connexion")
    assert f'value="{DEMO_IDP}"' in page.text and f'value="{STRONG_IDP}"' in page.text
    response = browser.space_login(idp=STRONG_IDP)
    assert response.status_code == 303 and response.headers["location"] == "/espace"
    assert "broker_session" in response.cookies
    assert browser.get("/espace").status_code == 200


def test_the_broker_authenticates_to_a_provider_with_private_key_jwt(broker, demo_idp):
    """The provider knows the broker by its public keys (``ISSUER/jwks``), no secret."""
    from broker.admin.identity_providers import ProviderRegistration, add_provider
    from broker.demo.idp import DemoIdpClient
    from broker.keys.vault import KeyVault

    demo_idp.options.register(
        DemoIdpClient(
            client_id="broker-with-keys",
            redirect_uris=frozenset({f"{broker.url}/federation/keyed-demo/callback"}),
            jwks=broker.state.keys.jwks(),
        )
    )
    with broker.state.db.transaction() as session:
        add_provider(
            session,
            KeyVault(broker.settings.secret),
            ProviderRegistration(
                name="Identité démo (clé)",
                issuer=f"{demo_idp.url}/{DEMO_IDP}",
                client_id="broker-with-keys",
                auth_method="private_key_jwt",
                acr_values=("eidas1",),
                id_token_algs=("ES256",),
                provider_id="keyed-demo",
            ),
            broker.url,
        )
    client = register_client(broker.state)
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request, idp="keyed-demo")
    assert id_claims(broker, client, request, received)["idp"] == "keyed-demo"


def test_a_provider_logo_is_served_by_the_broker(broker):
    from broker.admin.identity_providers import set_enabled
    from broker.store.federation_models import IdentityProviderRecord
    from tests.broker.cli.test_idps_cli import PNG

    with broker.state.db.transaction() as session:
        session.get(IdentityProviderRecord, STRONG_IDP).logo = PNG
        session.get(IdentityProviderRecord, STRONG_IDP).logo_type = "image/png"
        set_enabled(session, DEMO_IDP, False, "Maintenance jusqu'à 14 h", broker.url)
    broker.state.sign_in.registry.forget()
    client = register_client(broker.state)
    browser = Browser(broker.url)
    page = browser.get(browser.authorize(AuthorizationRequest(client)).headers["location"])
    assert f'src="/federation/{STRONG_IDP}/logo"' in page.text
    assert "Maintenance jusqu&#39;à 14 h" in page.text and f'value="{DEMO_IDP}"' not in page.text
    logo = browser.get(f"/federation/{STRONG_IDP}/logo")
    assert logo.status_code == 200 and logo.content == PNG
    assert logo.headers["content-type"] == "image/png"
    assert browser.get(f"/federation/{DEMO_IDP}/logo").status_code == 404


def test_prompt_login_makes_the_provider_authenticate_again(broker, demo_idp):
    client = register_client(broker.state)
    browser = Browser(broker.url)
    browser.sign_in(AuthorizationRequest(client))  # the provider now has a session too
    again = AuthorizationRequest(client, extra={"prompt": "login", "max_age": "0"})
    login_url = browser.authorize(again).headers["location"]
    page = browser.get(login_url)
    leave = browser.post(login_url, data={"csrf_token": browser.csrf(page), "idp": DEMO_IDP})
    sent = query(leave.headers["location"])
    assert sent["prompt"] == "login" and sent["max_age"] == "0"
    at_idp = browser.get(leave.headers["location"])
    assert at_idp.status_code == 200 and 'name="password"' in at_idp.text


def test_a_session_is_not_reused_through_a_provider_the_service_or_citizen_refuses(broker):
    browser = Browser(broker.url)
    first = register_client(broker.state, name="Premier service")
    browser.sign_in(AuthorizationRequest(first), idp=DEMO_IDP)
    strict = register_client(broker.state, name="Service strict")
    with broker.state.db.transaction() as session:
        set_client_rules(session, "Service strict", [STRONG_IDP], [])
    broker.state.sign_in.registry.forget()
    silent = browser.authorize(AuthorizationRequest(strict, extra={"prompt": "none"}))
    assert query(silent.headers["location"])["error"] == "login_required"
    again = browser.authorize(AuthorizationRequest(first, extra={"prompt": "none"}))
    assert "code" in query(again.headers["location"])  # still fine for the first service

    other = Browser(broker.url)
    other.space_login(idp=STRONG_IDP)
    page = other.get("/espace/connexions")
    other.post(f"/espace/fournisseurs/{DEMO_IDP}/blocage", data={"csrf_token": other.csrf(page)})
    blocked = browser.authorize(AuthorizationRequest(first, extra={"prompt": "none"}))
    assert query(blocked.headers["location"])["error"] == "login_required"
