"""The access journal records each sending of the citizen's identity to a service: one row per
userinfo answer that carries identity claims, bound to that citizen, client and token. The ID
token carries none (only the pairwise ``sub``), nor does a refresh issue one: the token
endpoint journals nothing. Nothing is journaled for an answer that is not given, and no answer
is given if its row cannot be written."""

from __future__ import annotations

import json
import time

import httpx
from joserfc import jws
from joserfc.jwk import ECKey
from sqlalchemy import select, text

from broker.catalogue.scopes import REGISTRY
from broker.core.db import table_of
from broker.demo.citizens import by_login
from broker.store import models
from broker.store.data_access_store import JOURNAL
from tests.e2e.test_dpop import DpopClient, bound_tokens
from tests.e2e.test_dpop import userinfo as dpop_userinfo
from tests.helpers import AuthorizationRequest, Browser, redeem, register_client

CITIZEN = table_of(models.Citizen)
CLIENT = table_of(models.OAuthClient)
IDENTITY_CLAIMS = REGISTRY.claims_for(s.name for s in REGISTRY.identity_scopes()) - {"sub"}
SCOPE = "openid profile birth email cnaf_quotient_familial"


def payload(token: str) -> dict:
    """A JWT's claims, unverified (the broker's own tokens, read back by the test)."""
    return json.loads(jws.extract_compact(token.encode()).payload)


def tokens_for(broker, client, login: str = "test") -> dict:
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request, login=login)
    response = redeem(broker.url, client, received["code"], request.verifier)
    assert response.status_code == 200, response.text
    return response.json()


def userinfo(broker, access_token: str) -> httpx.Response:
    return httpx.get(
        f"{broker.url}/userinfo", headers={"Authorization": f"Bearer {access_token}"}, timeout=10
    )


def identity_rows(broker) -> list:
    with broker.state.db.connect() as conn:
        return conn.execute(
            select(JOURNAL).where(JOURNAL.c.product == "identity").order_by(JOURNAL.c.id)
        ).all()


def citizen_id(broker, login: str) -> str:
    citizen = by_login(login)
    assert citizen is not None
    with broker.state.db.connect() as conn:
        return conn.execute(
            select(CITIZEN.c.id).where(
                CITIZEN.c.given_name == citizen.given_name,
                CITIZEN.c.family_name == citizen.family_name,
            )
        ).scalar_one()


def service_of(broker, client_id: str) -> str:
    with broker.state.db.connect() as conn:
        return conn.execute(
            select(CLIENT.c.service_id).where(CLIENT.c.client_id == client_id)
        ).scalar_one()


def test_the_token_endpoint_sends_no_identity_and_journals_none(broker):
    """The ID token carries no identity claim, at the exchange nor at a refresh (which issues
    none): were one added, it would have to be journaled (``credential = "id_token"``)."""
    client = register_client(broker.state, scope=SCOPE)
    tokens = tokens_for(broker, client)
    assert not IDENTITY_CLAIMS & payload(tokens["id_token"]).keys()
    assert tokens["refresh_token"]  # the data scope's habilitation is recurring
    refreshed = httpx.post(
        f"{broker.url}/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(client.client_id, client.client_secret or ""),
        timeout=10,
    )
    assert refreshed.status_code == 200, refreshed.text
    assert "id_token" not in refreshed.json()
    assert identity_rows(broker) == []


def test_each_userinfo_answer_journals_one_identity_row(broker):
    client = register_client(broker.state, name="Cantine de Villebourg", scope=SCOPE)
    tokens = tokens_for(broker, client)
    before = int(time.time())
    first = userinfo(broker, tokens["access_token"])
    assert first.status_code == 200, first.text
    [row] = identity_rows(broker)
    assert row.product == "identity" and row.mode == "openid"
    assert row.credential == "userinfo"
    assert row.credential_id == payload(tokens["access_token"])["jti"]
    assert row.scopes == ["openid", "profile", "birth", "email"]  # not the data scope
    assert row.citizen_id == citizen_id(broker, "test")
    assert row.client_id == client.client_id
    assert row.service_id == service_of(broker, client.client_id)
    assert row.subject == first.json()["sub"] == payload(tokens["id_token"])["sub"]
    assert (row.status, row.outcome, row.latency_ms) == (200, "ok", 0)
    assert row.request_id == first.headers["x-request-id"]
    assert row.habilitation_id is None and row.identity_digest is None
    assert before <= row.at <= int(time.time())

    second = userinfo(broker, tokens["access_token"])
    assert second.status_code == 200, second.text
    rows = identity_rows(broker)
    assert len(rows) == 2 and rows[1].request_id == second.headers["x-request-id"]


def test_only_the_identity_scopes_that_released_a_claim_are_journaled(broker):
    """``test`` has no usage name: ``preferred_username`` sent nothing."""
    client = register_client(
        broker.state, scope="openid preferred_username birthdate cnaf_quotient_familial"
    )
    answer = userinfo(broker, tokens_for(broker, client)["access_token"])
    assert set(answer.json()) == {"sub", "birthdate"}
    [row] = identity_rows(broker)
    assert row.scopes == ["openid", "birthdate"]


def test_no_row_when_no_identity_claim_is_sent(broker):
    """The ``sub`` alone is a pseudonym made for that service: no identity was sent."""
    for scope in ("openid", "openid cnaf_quotient_familial", "openid preferred_username"):
        client = register_client(broker.state, scope=scope)
        answer = userinfo(broker, tokens_for(broker, client)["access_token"])
        assert answer.status_code == 200 and set(answer.json()) == {"sub"}, answer.text
    assert identity_rows(broker) == []


def test_failed_exchanges_and_refused_answers_journal_nothing(broker):
    client = register_client(broker.state, scope=SCOPE)
    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request)
    wrong = redeem(broker.url, client, received["code"], "x" * 43)
    assert wrong.json()["error"] == "invalid_grant"

    request = AuthorizationRequest(client)
    received = Browser(broker.url).sign_in(request)
    tokens = redeem(broker.url, client, received["code"], request.verifier).json()
    replay = redeem(broker.url, client, received["code"], request.verifier)
    assert replay.json()["error"] == "invalid_grant"
    # The replay revoked what the code produced: its userinfo answers nothing.
    assert userinfo(broker, tokens["access_token"]).status_code == 401
    assert userinfo(broker, "not-a-token").status_code == 401
    assert identity_rows(broker) == []


def test_signed_answers_are_journaled_answers_that_cannot_be_made_are_not(broker, jwks_server):
    signed = register_client(broker.state, scope=SCOPE, userinfo_signed_response_alg="ES256")
    answer = userinfo(broker, tokens_for(broker, signed)["access_token"])
    assert answer.headers["content-type"].startswith("application/jwt"), answer.text
    [row] = identity_rows(broker)
    assert row.client_id == signed.client_id and row.subject == payload(answer.text)["sub"]

    keyless = register_client(
        broker.state,
        scope=SCOPE,
        jwks_uri=jwks_server(
            {"keys": [ECKey.generate_key("P-256", {"use": "sig"}).as_dict(private=False)]}
        ),
        userinfo_encryption=("ECDH-ES", "A256GCM"),
    )
    refused = userinfo(broker, tokens_for(broker, keyless)["access_token"])
    assert refused.status_code == 400 and "given_name" not in refused.text
    assert len(identity_rows(broker)) == 1


def test_a_dpop_bound_token_answer_is_journaled(broker):
    client = register_client(broker.state, scope=SCOPE, dpop=True)
    dpop = DpopClient()
    token = bound_tokens(broker, client, dpop)["access_token"]
    answer = dpop_userinfo(broker.url, broker.settings.issuer_url, token, dpop)
    assert answer.status_code == 200, answer.text
    [row] = identity_rows(broker)
    assert row.credential_id == payload(token)["jti"]
    assert row.citizen_id == citizen_id(broker, "nom_composé")


def refuse_identity_rows(broker) -> None:
    """The database itself refuses identity rows (a real failure of the write)."""
    with broker.state.db.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_identity BEFORE INSERT ON access_journal "
                    "WHEN NEW.product = 'identity' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_identity() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'refused'; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_identity BEFORE INSERT ON access_journal FOR EACH ROW "
                    "WHEN (NEW.product = 'identity') EXECUTE FUNCTION refuse_identity()"
                )
            )


def test_no_identity_leaves_when_its_row_cannot_be_written(broker):
    plain = register_client(broker.state, scope=SCOPE)
    signed = register_client(broker.state, scope=SCOPE, userinfo_signed_response_alg="ES256")
    plain_token = tokens_for(broker, plain)["access_token"]
    signed_token = tokens_for(broker, signed)["access_token"]
    refuse_identity_rows(broker)
    for token in (plain_token, signed_token):
        answer = userinfo(broker, token)
        assert answer.status_code >= 500, answer.text
        assert "DUBOIS" not in answer.text and "given_name" not in answer.text
    assert identity_rows(broker) == []


def test_attack_identity_release_not_journaled_for_another_citizen(broker):
    """Two citizens, two services: each row names the citizen whose token was presented, the
    client it was issued to, and the ``sub`` that client got; never the other's."""
    first = register_client(broker.state, name="Cantine", scope=SCOPE)
    second = register_client(
        broker.state,
        name="Médiathèque",
        scope="openid email",
        redirect_uris=["https://mediatheque.example/cb"],
    )
    angela = tokens_for(broker, first, login="test")
    other = tokens_for(broker, second, login="nom_composé")
    answers = {
        first.client_id: userinfo(broker, angela["access_token"]).json(),
        second.client_id: userinfo(broker, other["access_token"]).json(),
    }
    by_client = {row.client_id: row for row in identity_rows(broker)}
    assert set(by_client) == {first.client_id, second.client_id}
    assert by_client[first.client_id].citizen_id == citizen_id(broker, "test")
    assert by_client[second.client_id].citizen_id == citizen_id(broker, "nom_composé")
    for client_id, row in by_client.items():
        assert row.subject == answers[client_id]["sub"]
        assert row.service_id == service_of(broker, client_id)
    assert by_client[second.client_id].scopes == ["openid", "email"]
    assert by_client[first.client_id].credential_id == payload(angela["access_token"])["jti"]
    assert by_client[second.client_id].credential_id == payload(other["access_token"])["jti"]
