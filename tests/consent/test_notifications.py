"""Signed consent events (RFC 8417 SETs) and their push delivery (RFC 8935), retried with
backoff: against a receiver on a real socket."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from sqlalchemy import select

from broker.core.db import Database
from consent.events import EVENT_EXPIRED, EVENT_NARROWED, EVENT_REVOKED, consent_event
from consent.notifications import NotificationDispatcher
from consent.outbox import NOTIFICATION, enqueue
from tests.helpers import register_client
from tests.servers import start_asgi

ISSUER = "https://broker.example"
NOW = 1_800_000_000
BACKOFF = (10, 60, 300)


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- the event ---------------------------------------------------------------------------


def test_consent_event_verifies_against_the_broker_jwks(state):
    token = consent_event(
        state.keys.signing_key(),
        ISSUER,
        "client-1",
        "pairwise-sub",
        "grant-1",
        "revoked",
        ["cnaf_quotient_familial"],
        NOW,
        reason="citizen",
    )
    header = jws.extract_compact(token.encode()).headers()
    assert header["typ"] == "secevent+jwt" and header["alg"] == "ES256"
    assert header["kid"] == state.keys.signing_key().kid
    decoded = jwt.decode(token, KeySet.import_key_set(state.keys.jwks()), algorithms=["ES256"])
    claims = decoded.claims
    assert claims["iss"] == ISSUER and claims["aud"] == "client-1"
    assert claims["sub"] == "pairwise-sub" and claims["consent_id"] == "grant-1"
    assert claims["iat"] == NOW and "exp" not in claims and len(claims["jti"]) >= 20
    assert claims["events"] == {
        EVENT_REVOKED: {"scopes": ["cnaf_quotient_familial"], "reason": "citizen"}
    }


def test_each_kind_has_its_event_type_and_a_fresh_jti(state):
    key = state.keys.signing_key("RS256")
    tokens = {
        kind: consent_event(key, ISSUER, "c", "s", "g", kind, ["a"], NOW)
        for kind in ("revoked", "narrowed", "expired")
    }
    keys = KeySet.import_key_set(state.keys.jwks())
    claims = {k: jwt.decode(t, keys, algorithms=["RS256"]).claims for k, t in tokens.items()}
    assert [list(c["events"]) for c in claims.values()] == [
        [EVENT_REVOKED],
        [EVENT_NARROWED],
        [EVENT_EXPIRED],
    ]
    assert claims["expired"]["events"][EVENT_EXPIRED] == {"scopes": ["a"]}  # no reason: absent
    assert len({c["jti"] for c in claims.values()}) == 3
    with pytest.raises(ValueError):
        consent_event(key, ISSUER, "c", "s", "g", "granted", [], NOW)


def test_a_tampered_event_does_not_verify(state):
    token = consent_event(
        state.keys.signing_key(),
        ISSUER,
        "client-1",
        "sub-a",
        "grant-1",
        "narrowed",
        ["cnaf_adresse"],
        NOW,
    )
    header, _payload, signature = token.split(".")
    claims = json.loads(jws.extract_compact(token.encode()).payload)
    claims["sub"] = "sub-b"
    forged = ".".join([header, _b64(json.dumps(claims).encode()), signature])
    with pytest.raises(BadSignatureError):
        jwt.decode(forged, KeySet.import_key_set(state.keys.jwks()), algorithms=["ES256"])


# --- a receiver on a real socket ---------------------------------------------------------


class Receiver:
    """An ASGI app answering each POST with the next of ``statuses`` (the last one repeats)."""

    def __init__(self, *statuses: int, delay: float = 0.0) -> None:
        self.statuses = list(statuses)
        self.delay = delay
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        with self.lock:
            self.received.append((scope["path"], headers, body))
            status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if self.delay:
            await asyncio.sleep(self.delay)
        extra = [(b"location", b"/elsewhere")] if 300 <= status < 400 else []
        answer = b'{"err":"invalid_request","description":"try later"}' if status >= 400 else b""
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), *extra],
            }
        )
        await send({"type": "http.response.body", "body": answer})


@pytest.fixture
def receiver_at():
    import contextlib

    stack = contextlib.ExitStack()

    def start(receiver: Receiver) -> str:
        return stack.enter_context(start_asgi(receiver)) + "/events"

    yield start
    stack.close()


def _client_with(state, url: str | None) -> str:
    return register_client(
        state, name=f"Service {time.monotonic_ns()}", notification_uri=url
    ).client_id


def _enqueue(state, client_id: str, url: str, grant_id: str = "grant-1", now: int = NOW) -> str:
    event = consent_event(
        state.keys.signing_key(),
        ISSUER,
        client_id,
        "sub",
        grant_id,
        "revoked",
        ["cnaf_quotient_familial"],
        now,
    )
    with state.db.begin() as conn:
        enqueue(conn, client_id=client_id, url=url, grant_id=grant_id, event=event, now=now)
    return event


def _rows(db: Database) -> list:
    with db.connect() as conn:
        return conn.execute(select(NOTIFICATION).order_by(NOTIFICATION.c.id)).all()


def _deliver(db: Database, now: int, **options) -> int:
    async def go() -> int:
        async with httpx.AsyncClient() as client:
            return await NotificationDispatcher(db, client, **options).deliver_due(now)

    return asyncio.run(go())


def test_enqueue_records_a_due_row_in_the_callers_transaction(state):
    client_id = _client_with(state, "https://service.example/events")
    with pytest.raises(RuntimeError), state.db.begin() as conn:
        enqueue(
            conn,
            client_id=client_id,
            url="https://service.example/events",
            grant_id="grant-x",
            event="e.v.t",
            now=NOW,
        )
        raise RuntimeError("the revocation failed")
    assert _rows(state.db) == []
    _enqueue(state, client_id, "https://service.example/events")
    [row] = _rows(state.db)
    assert (row.attempts, row.next_attempt_at, row.created_at) == (0, NOW, NOW)
    assert row.delivered_at is None and row.failed_at is None


def test_delivered_on_the_third_attempt_after_the_backoff(state, receiver_at):
    receiver = Receiver(500, 500, 202)
    url = receiver_at(receiver)
    client_id = _client_with(state, url)
    event = _enqueue(state, client_id, url)

    assert _deliver(state.db, NOW, backoff=BACKOFF) == 1
    [row] = _rows(state.db)
    assert (row.attempts, row.next_attempt_at) == (1, NOW + 10)
    assert row.last_error == "HTTP 500: invalid_request"  # the err code, never the body
    assert _deliver(state.db, NOW + 9, backoff=BACKOFF) == 0  # not due yet
    assert _deliver(state.db, NOW + 10, backoff=BACKOFF) == 1
    [row] = _rows(state.db)
    assert (row.attempts, row.next_attempt_at) == (2, NOW + 10 + 60)
    assert _deliver(state.db, NOW + 70, backoff=BACKOFF) == 1
    [row] = _rows(state.db)
    assert (row.attempts, row.delivered_at, row.next_attempt_at) == (3, NOW + 70, None)
    assert row.failed_at is None and row.last_error is None
    assert _deliver(state.db, NOW + 10_000, backoff=BACKOFF) == 0  # done for good

    assert len(receiver.received) == 3
    path, headers, body = receiver.received[-1]
    assert path == "/events" and body.decode() == event
    assert headers["content-type"] == "application/secevent+jwt"


def test_given_up_after_every_attempt_failed(state, receiver_at, caplog):
    receiver = Receiver(503)
    url = receiver_at(receiver)
    _enqueue(state, _client_with(state, url), url)
    at = NOW
    for wait in (*BACKOFF, None):
        assert _deliver(state.db, at, backoff=BACKOFF) == 1
        at += wait or 0
    [row] = _rows(state.db)
    assert row.attempts == len(BACKOFF) + 1 == len(receiver.received)
    assert row.failed_at == at and row.next_attempt_at is None and row.delivered_at is None
    assert row.last_error.startswith("HTTP 503")
    assert _deliver(state.db, at + 100_000, backoff=BACKOFF) == 0
    assert "consent event given up" in caplog.text
    assert not any(row.event in r.getMessage() + str(r.__dict__) for r in caplog.records)


def test_a_redirect_is_a_failure_and_is_not_followed(state, receiver_at):
    receiver = Receiver(307, 202)
    url = receiver_at(receiver)
    _enqueue(state, _client_with(state, url), url)
    assert _deliver(state.db, NOW, backoff=BACKOFF) == 1
    [row] = _rows(state.db)
    assert [path for path, _, _ in receiver.received] == ["/events"]
    assert row.delivered_at is None and row.next_attempt_at == NOW + 10
    assert "redirect not followed" in row.last_error


def test_any_2xx_is_a_delivery(state, receiver_at):
    url = receiver_at(Receiver(200))
    _enqueue(state, _client_with(state, url), url)
    assert _deliver(state.db, NOW) == 1
    assert _rows(state.db)[0].delivered_at == NOW


def test_a_slow_receiver_times_out(state, receiver_at):
    url = receiver_at(Receiver(202, delay=2.0))
    _enqueue(state, _client_with(state, url), url)
    started = time.monotonic()
    assert _deliver(state.db, NOW, backoff=BACKOFF, timeout=0.3) == 1
    assert time.monotonic() - started < 1.5
    [row] = _rows(state.db)
    assert row.delivered_at is None and "no answer within 0.3 s" in row.last_error


def test_an_unreachable_receiver_is_retried(state):
    from tests.servers import bound_socket

    sock = bound_socket()  # bound, never listening: connection refused
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/events"
    _enqueue(state, _client_with(state, url), url)
    assert _deliver(state.db, NOW, backoff=BACKOFF) == 1
    sock.close()
    [row] = _rows(state.db)
    assert row.next_attempt_at == NOW + 10 and row.last_error.startswith("ConnectError")


def test_only_the_registered_url_is_posted_to(state, receiver_at):
    receiver = Receiver(202)
    url = receiver_at(receiver)
    client_id = _client_with(state, url)
    _enqueue(state, client_id, url + "/other")  # not the client's notification_uri
    _enqueue(state, _client_with(state, None), url)  # a client without one
    assert _deliver(state.db, NOW) == 2
    assert receiver.received == []
    assert [(r.failed_at, r.last_error) for r in _rows(state.db)] == [
        (NOW, "url no longer registered for the client")
    ] * 2


def test_a_claim_is_a_compare_and_set(state):
    url = "https://service.example/events"
    _enqueue(state, _client_with(state, url), url)
    dispatchers = [NotificationDispatcher(state.db, httpx.AsyncClient()) for _ in range(2)]
    [snapshot] = _rows(state.db)
    assert [d.claim(snapshot, NOW) for d in dispatchers] == [True, False]
    [row] = _rows(state.db)
    assert row.attempts == 1 and row.next_attempt_at == NOW + dispatchers[0].lease


def test_two_dispatchers_deliver_each_row_once(state, receiver_at, database_url):
    """Two processes (own engines, own threads) that both read the same 30 due rows before
    either claims one: each row is posted once."""
    receiver = Receiver(202, delay=0.05)
    url = receiver_at(receiver)
    client_id = _client_with(state, url)
    events = {_enqueue(state, client_id, url, grant_id=f"grant-{i}") for i in range(30)}
    both_selected = threading.Barrier(2, timeout=10)
    attempted: list[int] = []

    class Racing(NotificationDispatcher):
        synced = False

        def claim(self, row, now):
            if not self.synced:
                self.synced = True
                both_selected.wait()
            return super().claim(row, now)

    def dispatcher_process() -> None:
        db = Database(database_url)

        async def go() -> int:
            async with httpx.AsyncClient() as client:
                return await Racing(db, client).deliver_due(NOW)

        attempted.append(asyncio.run(go()))
        db.dispose()

    threads = [threading.Thread(target=dispatcher_process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(attempted) == 30 and len(attempted) == 2
    assert sorted(body.decode() for _, _, body in receiver.received) == sorted(events)
    assert {(r.attempts, r.delivered_at) for r in _rows(state.db)} == {(1, NOW)}


def test_an_interrupted_last_attempt_is_given_up_once_its_lease_ran_out(state):
    url = "https://service.example/events"
    _enqueue(state, _client_with(state, url), url)
    dispatcher = NotificationDispatcher(state.db, httpx.AsyncClient(), backoff=())
    assert dispatcher.claim(_rows(state.db)[0], NOW)  # then the process died
    assert _deliver(state.db, NOW + dispatcher.lease - 1, backoff=()) == 0
    assert _rows(state.db)[0].failed_at is None
    assert _deliver(state.db, NOW + dispatcher.lease, backoff=()) == 0
    [row] = _rows(state.db)
    assert row.failed_at == NOW + dispatcher.lease and row.attempts == 1
    assert row.last_error == "last attempt interrupted"


# --- the loop ----------------------------------------------------------------------------


def test_run_delivers_when_woken_survives_errors_and_stops(state, receiver_at):
    receiver = Receiver(202)
    url = receiver_at(receiver)
    client_id = _client_with(state, url)

    async def go() -> None:
        async with httpx.AsyncClient() as client:
            dispatcher = NotificationDispatcher(state.db, client)
            real, calls = dispatcher.deliver_due, []

            async def flaky(now=None):
                calls.append(now)
                if len(calls) == 1:
                    raise RuntimeError("database away")
                return await real(now)

            dispatcher.deliver_due = flaky
            stop = asyncio.Event()
            task = asyncio.create_task(dispatcher.run(stop, interval=30))
            await asyncio.sleep(0.1)  # the first round failed; the loop waits `interval`
            _enqueue(state, client_id, url, now=int(time.time()))
            await asyncio.to_thread(dispatcher.wake)  # from another thread, as a handler may
            for _ in range(100):
                if receiver.received:
                    break
                await asyncio.sleep(0.02)
            stop.set()
            await asyncio.wait_for(task, 2)
            assert len(calls) >= 2

    asyncio.run(go())
    assert len(receiver.received) == 1 and _rows(state.db)[0].delivered_at is not None
