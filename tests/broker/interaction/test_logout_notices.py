"""Back-channel logout delivery (Back-Channel Logout 1.0 §2.5, §2.8): the outbox of logout
notices, each participant told once, posted to its registered URL only, retried with backoff
and given up after a bounded time, against a receiver on a real socket."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from joserfc import jwe, jws
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import select

from broker.core.db import Database
from broker.interaction.logout_notices import LogoutDispatcher
from broker.oidc.logout_token import client_sid
from broker.store.clients import load_client
from broker.store.logout_outbox import NOTICE, PARTICIPANT, add_participant, take_participants
from broker.store.models import OAuthClient
from tests.backchannel_receiver import logout_receiver, verified_logout_claims
from tests.helpers import register_client

ISSUER = "https://broker.example"
NOW = 1_800_000_000
BACKOFF = (10, 60, 300)


def listening_client(state, url: str | None, **kwargs) -> str:
    name = f"Service {time.monotonic_ns()}"
    return register_client(state, name=name, backchannel_logout_uri=url, **kwargs).client_id


def session_ends(state, sid: str, *clients: str, now: int = NOW) -> int:
    """``clients`` got a code in session ``sid``, which then ends: the notices queued."""
    with state.db.begin() as conn:
        for client_id in clients:
            add_participant(conn, sid=sid, client_id=client_id, sub=f"sub-{client_id}", now=now)
    with state.db.begin() as conn:
        return take(state, conn, sid, now)


def take(state, conn, sid: str, now: int = NOW) -> int:
    return take_participants(conn, sid, now, state.config.pairwise_key)


def seen_sid(state, client_id: str, sid: str) -> str:
    """The sid ``client_id`` is told of session ``sid`` (that of its sector)."""
    with state.db.connect() as conn:
        client = load_client(conn, client_id)
    assert client is not None
    return client_sid(state.config.pairwise_key, client.sector_identifier, sid)


def notices(db: Database) -> list:
    with db.connect() as conn:
        return conn.execute(select(NOTICE).order_by(NOTICE.c.id)).all()


def deliver(state, now: int, **options) -> int:
    async def go() -> int:
        async with httpx.AsyncClient() as client:
            dispatcher = LogoutDispatcher(
                state.db, client, state.keys, ISSUER, state.context.jwks_cache, **options
            )
            return await dispatcher.deliver_due(now)

    return asyncio.run(go())


def test_each_participant_is_queued_once_and_forgotten(state):
    a = listening_client(state, "https://a.example/logout")
    b = listening_client(state, "https://b.example/logout")
    quiet = listening_client(state, None)  # no back-channel URI: never queued
    assert session_ends(state, "sid-1", a, b, quiet) == 2
    with state.db.begin() as conn:
        assert take(state, conn, "sid-1") == 0  # told once
        assert conn.execute(select(PARTICIPANT)).all() == []
    rows = notices(state.db)
    assert sorted((r.client_id, r.url, r.sid) for r in rows) == sorted(
        [
            (a, "https://a.example/logout", seen_sid(state, a, "sid-1")),
            (b, "https://b.example/logout", seen_sid(state, b, "sid-1")),
        ]
    )
    assert all((r.attempts, r.next_attempt_at) == (0, NOW) for r in rows)


def test_a_participant_is_recorded_once_per_session(state):
    a = listening_client(state, "https://a.example/logout")
    with state.db.begin() as conn:
        for _ in range(3):
            add_participant(conn, sid="sid-2", client_id=a, sub="s", now=NOW)
    with state.db.connect() as conn:
        assert len(conn.execute(select(PARTICIPANT)).all()) == 1


def test_nothing_is_queued_when_the_ending_fails(state):
    a = listening_client(state, "https://a.example/logout")
    with state.db.begin() as conn:
        add_participant(conn, sid="sid-3", client_id=a, sub="s", now=NOW)
    with pytest.raises(RuntimeError), state.db.begin() as conn:
        take(state, conn, "sid-3")
        raise RuntimeError("the sign-out failed")
    assert notices(state.db) == []
    with state.db.begin() as conn:
        assert take(state, conn, "sid-3") == 1  # still there to be told


def test_delivered_once_after_retries_with_backoff(state):
    with logout_receiver(500, 503, 200) as (url, receiver):
        client_id = listening_client(state, url)
        session_ends(state, "sid-4", client_id)
        assert deliver(state, NOW, backoff=BACKOFF) == 1
        [row] = notices(state.db)
        assert (row.attempts, row.next_attempt_at, row.last_error) == (1, NOW + 10, "HTTP 500")
        assert deliver(state, NOW + 9, backoff=BACKOFF) == 0  # not due yet
        assert deliver(state, NOW + 10, backoff=BACKOFF) == 1
        assert deliver(state, NOW + 70, backoff=BACKOFF) == 1
        assert deliver(state, NOW + 100_000, backoff=BACKOFF) == 0  # delivered: done for good
    [row] = notices(state.db)
    assert (row.attempts, row.delivered_at, row.failed_at) == (3, NOW + 70, None)
    assert len(receiver.received) == 3
    jtis = set()
    for request in receiver.received:
        assert request.path == "/backchannel-logout"
        assert request.content_type == "application/x-www-form-urlencoded"
        claims = verified_logout_claims(request.token, state.keys.jwks(), ISSUER, client_id)
        assert (claims["sid"], claims["sub"]) == (
            seen_sid(state, client_id, "sid-4"),
            f"sub-{client_id}",
        )
        jtis.add(claims["jti"])
    assert len(jtis) == 3  # signed afresh at each attempt


@pytest.mark.parametrize("status, delivered", [(200, True), (204, True), (202, False)])
def test_only_200_and_204_are_a_delivery(state, status, delivered):
    with logout_receiver(status) as (url, _):
        session_ends(state, "sid-5", listening_client(state, url))
        deliver(state, NOW, backoff=BACKOFF)
    [row] = notices(state.db)
    assert (row.delivered_at == NOW) is delivered
    assert row.last_error == (None if delivered else f"HTTP {status}")


def test_given_up_after_a_bounded_time(state, caplog):
    with logout_receiver(400) as (url, receiver):
        session_ends(state, "sid-6", listening_client(state, url))
        at = NOW
        for wait in (*BACKOFF, None):
            assert deliver(state, at, backoff=BACKOFF) == 1
            at += wait or 0
        assert deliver(state, at + 100_000, backoff=BACKOFF) == 0
    [row] = notices(state.db)
    assert row.attempts == len(BACKOFF) + 1 == len(receiver.received)
    assert row.failed_at == at and row.delivered_at is None and row.next_attempt_at is None
    assert "logout notice given up" in caplog.text
    assert not any("eyJ" in r.getMessage() + str(r.__dict__) for r in caplog.records)


def test_a_redirect_is_not_followed(state):
    with logout_receiver(307, 200) as (url, receiver):
        session_ends(state, "sid-7", listening_client(state, url))
        deliver(state, NOW, backoff=BACKOFF)
    assert [r.path for r in receiver.received] == ["/backchannel-logout"]
    [row] = notices(state.db)
    assert row.delivered_at is None and "redirect not followed" in row.last_error


def test_signed_with_the_services_id_token_algorithm(state):
    with logout_receiver(200) as (url, receiver):
        client_id = listening_client(state, url, id_token_alg="RS256")
        session_ends(state, "sid-8", client_id)
        deliver(state, NOW)
    token = receiver.received[0].token
    assert jws.extract_compact(token.encode()).headers()["alg"] == "RS256"
    claims = verified_logout_claims(token, state.keys.jwks(), ISSUER, client_id)
    assert claims["sid"] == seen_sid(state, client_id, "sid-8")


def test_attack_logout_token_sent_elsewhere(state):
    """A notice goes to the URL the client registers when it is posted, and nowhere else:
    not to a URL the client no longer registers, not for a disabled client, not for a row
    planted with another URL."""
    with logout_receiver(200) as (url, receiver):
        moved = listening_client(state, url)
        disabled = listening_client(state, url)
        planted = listening_client(state, url)
        session_ends(state, "sid-9", moved, disabled)
        with state.db.transaction() as s:
            s.get(OAuthClient, moved).backchannel_logout_uri = "https://moved.example/logout"
            s.get(OAuthClient, disabled).disabled_at = NOW - 1
        with state.db.begin() as conn:
            conn.execute(
                NOTICE.insert(),
                {
                    "client_id": planted,
                    "sid": "sid-9",
                    "sub": "s",
                    "url": url + "/../other",
                    "created_at": NOW,
                    "attempts": 0,
                    "next_attempt_at": NOW,
                },
            )
        assert deliver(state, NOW) == 3
    assert receiver.received == []
    assert {(r.failed_at, r.last_error) for r in notices(state.db)} == {
        (NOW, "url no longer registered for the client")
    }


def test_a_claim_is_a_compare_and_set(state):
    session_ends(state, "sid-10", listening_client(state, "https://a.example/logout"))
    client = httpx.AsyncClient()
    dispatchers = [
        LogoutDispatcher(state.db, client, state.keys, ISSUER, state.context.jwks_cache)
        for _ in range(2)
    ]
    [snapshot] = notices(state.db)
    assert [d.claim(snapshot, NOW) for d in dispatchers] == [True, False]
    [row] = notices(state.db)
    assert row.attempts == 1 and row.next_attempt_at == NOW + dispatchers[0].lease
    asyncio.run(client.aclose())


# --- Encrypted like the ID tokens (§2.4), sid per sector ---------------------------------------


def rsa_encryption_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rp-enc", "use": "enc"}, private=True)


def test_a_service_with_encrypted_id_tokens_receives_an_encrypted_logout_token(state):
    """Back-Channel Logout §2.4: the logout token is encrypted with the keys and algorithms
    of the service's ID tokens: a JWE (``cty: JWT``) whose inner JWT is the logout token."""
    key = rsa_encryption_key()
    with logout_receiver(200) as (url, receiver):
        client_id = listening_client(
            state,
            url,
            jwks={"keys": [key.as_dict(private=False)]},
            id_token_encryption=("RSA-OAEP-256", "A256GCM"),
        )
        session_ends(state, "sid-enc", client_id)
        assert deliver(state, NOW) == 1
    [received] = receiver.received
    assert received.token.count(".") == 4
    sealed = jwe.decrypt_compact(received.token, key, algorithms=["RSA-OAEP-256", "A256GCM"])
    header = dict(sealed.protected)
    assert (header["alg"], header["enc"], header["cty"], header["kid"]) == (
        "RSA-OAEP-256",
        "A256GCM",
        "JWT",
        "rp-enc",
    )
    assert sealed.plaintext is not None
    inner = sealed.plaintext.decode()
    claims = verified_logout_claims(inner, state.keys.jwks(), ISSUER, client_id)
    assert claims["sid"] == seen_sid(state, client_id, "sid-enc")
    [row] = notices(state.db)
    assert row.delivered_at == NOW


def test_attack_no_encryption_key_never_sends_the_logout_token_in_the_clear(state):
    """The service registered encrypted ID tokens, then its JWKS lost its encryption key:
    the notice is retried, then given up; nothing is ever posted unencrypted."""
    with logout_receiver(200) as (url, receiver):
        client_id = listening_client(
            state,
            url,
            jwks={"keys": [rsa_encryption_key().as_dict(private=False)]},
            id_token_encryption=("RSA-OAEP-256", "A256GCM"),
        )
        signing_only = ECKey.generate_key("P-256", parameters={"use": "sig"}, private=True)
        with state.db.transaction() as s:
            s.get(OAuthClient, client_id).jwks = {"keys": [signing_only.as_dict(private=False)]}
        session_ends(state, "sid-nokey", client_id)
        assert deliver(state, NOW, backoff=BACKOFF) == 1
        [row] = notices(state.db)
        assert row.attempts == 1 and row.next_attempt_at == NOW + BACKOFF[0]
        assert row.last_error.startswith("logout token not encrypted")
        at = NOW
        for wait in BACKOFF:
            at += wait
            assert deliver(state, at, backoff=BACKOFF) == 1
    assert receiver.received == []
    [row] = notices(state.db)
    assert row.failed_at == at and row.delivered_at is None


def test_each_sector_is_told_the_sid_of_its_own(state):
    """Core §8, §17.3: services of different sectors cannot join their pairwise subjects
    through the session's sid; the session's own id is never sent."""
    with logout_receiver(200) as (url, receiver):
        a, b = listening_client(state, url), listening_client(state, url)
        session_ends(state, "sid-shared", a, b)
        assert deliver(state, NOW) == 2
    told = {
        client_id: verified_logout_claims(r.token, state.keys.jwks(), ISSUER, client_id)["sid"]
        for r in receiver.received
        for client_id in (a, b)
        if f'"{client_id}"' in jws.extract_compact(r.token.encode()).payload.decode()
    }
    assert told == {a: seen_sid(state, a, "sid-shared"), b: seen_sid(state, b, "sid-shared")}
    assert told[a] != told[b] and "sid-shared" not in told.values()
