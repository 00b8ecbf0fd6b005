"""OpenID Connect Back-Channel Logout 1.0 on the protocol side: the logout token (§2.4), the
``sid`` every ID token issued in a session carries, and the services remembered as
participants of that session (§2.3), only those with a back-channel logout URI."""

from __future__ import annotations

from dataclasses import replace

import pytest
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import ECKey, KeySet

from broker.oidc.logout_token import (
    BACKCHANNEL_LOGOUT_EVENT,
    LOGOUT_TOKEN_TTL,
    LOGOUT_TOKEN_TYPE,
    client_sid,
    logout_token,
)
from broker.oidc.tokens import pairwise_subject
from tests.broker.oidc.kit import CITIZEN, ISSUER, citizen_session
from tests.broker.oidc.memory import broker_keys, unverified_claims

NOW = 1_800_000_000


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_the_logout_token_has_the_claims_of_section_2_4(alg):
    keys = broker_keys()
    token = logout_token(
        keys.signing_key(alg),
        issuer=ISSUER,
        client_id="client-1",
        sub="sub-1",
        sid="sid-1",
        now=NOW,
    )
    header = jws.extract_compact(token.encode()).headers()
    assert header == {"alg": alg, "kid": keys.signing_key(alg).kid, "typ": LOGOUT_TOKEN_TYPE}
    claims = jwt.decode(token, keys.verification_keys(), algorithms=[alg]).claims
    assert claims["iss"] == ISSUER and claims["aud"] == "client-1"
    assert (claims["sub"], claims["sid"]) == ("sub-1", "sid-1")
    assert claims["iat"] == NOW and claims["exp"] == NOW + LOGOUT_TOKEN_TTL <= NOW + 120
    assert claims["events"] == {BACKCHANNEL_LOGOUT_EVENT: {}}
    assert "nonce" not in claims  # §2.4: so that it can never pass for an ID token
    assert len(claims["jti"]) >= 20


def test_each_logout_token_has_its_own_jti():
    key = broker_keys().signing_key()
    made = [
        logout_token(key, issuer=ISSUER, client_id="c", sub="s", sid="x", now=NOW) for _ in range(3)
    ]
    assert len({unverified_claims(token)["jti"] for token in made}) == 3


def test_a_tampered_or_foreign_logout_token_does_not_verify():
    keys = broker_keys()
    real = keys.signing_key()
    token = logout_token(real, issuer=ISSUER, client_id="c", sub="s", sid="x", now=NOW)
    other = logout_token(real, issuer=ISSUER, client_id="c", sub="s", sid="y", now=NOW)
    header, _, signature = token.split(".")
    tampered = ".".join([header, other.split(".")[1], signature])
    with pytest.raises(BadSignatureError):
        jwt.decode(tampered, keys.verification_keys(), algorithms=["ES256"])
    impostor = ECKey.generate_key("P-256", parameters={"kid": real.kid, "alg": "ES256"})
    forged = logout_token(impostor, issuer=ISSUER, client_id="c", sub="s", sid="x", now=NOW)
    with pytest.raises(BadSignatureError):
        jwt.decode(forged, keys.verification_keys(), algorithms=["ES256"])


def test_the_id_token_carries_the_sessions_sid(kit):
    session = replace(citizen_session(), sid="session-public-id")
    tokens = kit.tokens(kit.basic, session=session)
    claims = unverified_claims(tokens["id_token"])
    # As the service's sector sees it (Core §8, §17.3); the code keeps the session's own.
    sector = kit.store.clients[kit.basic.client_id].sector_identifier
    assert claims["sid"] == client_sid(kit.config.pairwise_key, sector, "session-public-id")
    assert claims["sid"] != "session-public-id"
    assert kit.store.code(tokens["code"]).sid == "session-public-id"


def test_services_of_two_sectors_see_two_sids_of_one_session(kit):
    other = kit.register("service-sector-b", "client_secret_basic")
    session = replace(citizen_session(), sid="session-public-id")
    sid_a = unverified_claims(kit.tokens(kit.basic, session=session)["id_token"])["sid"]
    sid_b = unverified_claims(kit.tokens(other, session=session)["id_token"])["sid"]
    again = unverified_claims(kit.tokens(kit.basic, session=session)["id_token"])["sid"]
    assert sid_a != sid_b and sid_a == again  # stable for one sector, unlinkable across


def test_an_id_token_outside_a_session_has_no_sid(kit):
    claims = unverified_claims(kit.tokens(kit.basic)["id_token"])
    assert "sid" not in claims


def test_a_service_with_a_backchannel_uri_is_remembered_for_the_session(kit):
    listening = kit.register(
        "service-d",
        "client_secret_basic",
        backchannel_logout_uri="https://service-d.example/logout",
    )
    session = replace(citizen_session(), sid="sid-42")
    kit.tokens(listening, session=session)
    kit.tokens(listening, session=session)  # a second code in the same session: one record
    kit.tokens(kit.basic, session=session)  # no back-channel URI: nothing recorded
    sub = pairwise_subject(kit.config, "https://service-d.example", CITIZEN.id)
    assert kit.store.logout_participants == {("sid-42", listening.client_id): sub}


def test_without_a_sid_nobody_is_remembered(kit):
    listening = kit.register(
        "service-e", "client_secret_basic", backchannel_logout_uri="https://service-e.example/l"
    )
    kit.tokens(listening)
    assert kit.store.logout_participants == {}


def test_the_logout_token_verifies_against_the_published_jwks():
    keys = broker_keys()
    token = logout_token(
        keys.signing_key("RS256"), issuer=ISSUER, client_id="c", sub="s", sid="x", now=NOW
    )
    published = KeySet.import_key_set(keys.jwks())
    assert jwt.decode(token, published, algorithms=["RS256"]).claims["sid"] == "x"
