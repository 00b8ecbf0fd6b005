"""Rate limits of the data API over real HTTP: requests per minute per credential (API key or
access token), 1200 by default (API Particulier's 20 a second), or the habilitation's own limit;
``RateLimit-*`` headers on every answer past the credential checks, ``RateLimit-Reset`` the
Unix time the window ends; 429 ``00429`` "Trop de requêtes" as siade answers it
(tests/fixtures/siade/), with ``Retry-After``; the same limiter on Redis, shared by several
data API processes.

The limiter counts in fixed one-minute windows on the clock's minutes. Tests either tolerate a
window boundary in the middle of a burst (2 x limit + 2 requests: at least one 429, at most
2 x limit successes), or run their requests within one window (``in_one_window``) and then
assert the exact counts.
"""

from __future__ import annotations

import email.utils
import itertools
import socket
import time

import httpx
import pytest

from broker.resources.ratelimit import WINDOW, window_of
from tests.broker.resources.siade_recorded import documented_item
from tests.e2e.data_api_support import (
    access_token,
    api_key,
    assert_error,
    assert_ok,
    call,
    concurrently,
    identite_params,
    in_one_window,
    journal_row,
    live_broker,
    live_data_api,
    route,
)
from tests.redis_support import REDIS_URL, needs_redis

QF = route("dss/quotient_familial", "identite")
QF_FC = route("dss/quotient_familial", "france_connect")


@pytest.fixture(scope="module")
def shared_broker(db_factory, tmp_path_factory, demo_idp):
    with live_broker(db_factory, tmp_path_factory.mktemp("var"), demo_idp) as server:
        yield server


@pytest.fixture(scope="module")
def api(shared_broker, simulators):
    with live_data_api(shared_broker, simulators) as server:
        yield server


def qf(api, secret: str, **params) -> httpx.Response:
    """The family quotient of Angela DUBOIS, by API key."""
    return call(api, QF, secret, params={**identite_params("test"), **params})


def statuses(responses) -> list[int]:
    return [r.status_code for r in responses]


def assert_window_headers(response: httpx.Response, limit: int) -> int:
    """``RateLimit-Limit`` and ``RateLimit-Reset``, the end of the current minute as a Unix
    time; returns ``RateLimit-Remaining``."""
    assert response.headers["ratelimit-limit"] == str(limit)
    reset = int(response.headers["ratelimit-reset"])
    assert reset % WINDOW == 0 and 0 < reset - time.time() <= WINDOW + 1
    return int(response.headers["ratelimit-remaining"])


def assert_rate_limited(api, response: httpx.Response, limit: int, key=None) -> None:
    error = assert_error(response, 429, "00429")
    _, recorded = documented_item("00429")
    assert (error["title"], error["source"], error["meta"]) == (
        recorded["title"],
        recorded["source"],
        recorded["meta"],
    )
    assert error["detail"].startswith(recorded["detail"])
    assert assert_window_headers(response, limit) == 0
    retry_after = int(response.headers["retry-after"])  # seconds until the window ends
    assert 1 <= retry_after <= WINDOW
    # Retry-After counts from when the answer was sent (its Date, to the second).
    sent_at = email.utils.parsedate_to_datetime(response.headers["date"]).timestamp()
    assert abs(int(response.headers["ratelimit-reset"]) - sent_at - retry_after) <= 1
    assert "data" not in response.json()
    row = journal_row(api, response)
    assert (row.outcome, row.status, row.error_code, row.scopes) == (
        "rate_limited",
        429,
        "00429",
        [],
    )
    if key is not None:
        assert (row.credential_id, row.habilitation_id) == (key.id, key.habilitation_id)


def assert_robust_burst(api, responses, limit: int, key=None) -> None:
    """A burst of 2 x limit + 2 back to back, over at most two windows."""
    ok = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert len(ok) + len(refused) == len(responses), statuses(responses)
    assert refused, statuses(responses)
    assert len(ok) <= 2 * limit, statuses(responses)
    for response in ok:
        assert 0 <= assert_window_headers(response, limit) < limit
    for response in refused:
        assert_rate_limited(api, response, limit, key)


def test_default_limit_is_1200_a_minute_with_headers(shared_broker, api):
    key = api_key(shared_broker, "cnaf_quotient_familial")
    responses = [qf(api, key.secret) for _ in range(5)]
    remaining = []
    for response in responses:
        assert assert_ok(response)["quotient_familial"]["valeur"] == 2550
        remaining.append(assert_window_headers(response, 1200))
    assert remaining[0] == 1199  # a new key's first request
    # One less each time, except where a new minute starts (back to 1199).
    for before, after in itertools.pairwise(remaining):
        assert after in (before - 1, 1199), remaining
    assert sum(after == before - 1 for before, after in itertools.pairwise(remaining)) >= 3


def test_platform_default_refuses_the_request_past_it_in_a_minute(shared_broker, simulators):
    """A habilitation that names no limit gets the platform's (BROKER_RATE_LIMIT, here 20)."""
    with live_data_api(shared_broker, simulators, rate_limit=20) as own:
        responses = in_one_window(
            lambda key: concurrently(lambda: qf(own, key.secret), 22),
            prepare=lambda: api_key(shared_broker, "cnaf_quotient_familial"),
            margin=2,
        )
        ok = [r for r in responses if r.status_code == 200]
        assert len(ok) == 20, statuses(responses)
        assert sorted(assert_window_headers(r, 20) for r in ok) == list(range(20))
        for response in responses:
            if response.status_code != 200:
                assert_rate_limited(own, response, 20)


def test_habilitation_limit_refuses_a_burst_and_spares_other_keys(shared_broker, api):
    key = api_key(shared_broker, "cnaf_quotient_familial", rate_limit=2)
    other = api_key(shared_broker, "cnaf_quotient_familial", rate_limit=2)
    responses = [qf(api, key.secret) for _ in range(2 * 2 + 2)]
    assert_robust_burst(api, responses, 2, key)
    # Another habilitation's key has its own count, even right after the burst.
    response = qf(api, other.secret)
    assert assert_ok(response)["quotient_familial"]["valeur"] == 2550
    assert response.headers["ratelimit-limit"] == "2"
    assert response.headers["ratelimit-remaining"] == "1"


def test_limit_is_per_credential_and_comes_after_scope_before_parameters(shared_broker, api):
    """Within one minute: key A (limit 2) exhausted; key B of another habilitation untouched;
    A's over-limit calls are 429 even with bad parameters, but a product outside A's scopes is
    still 403 (scope before rate limit), and an unknown key 401."""

    def keys():
        return (
            api_key(shared_broker, "cnaf_quotient_familial", rate_limit=2),
            api_key(shared_broker, "cnaf_quotient_familial", rate_limit=2),
        )

    def send(pair):
        a, b = pair
        return [
            *concurrently(lambda: qf(api, a.secret), 3),
            *concurrently(lambda: qf(api, b.secret), 2),
            qf(api, a.secret, anneeDateNaissance="1850", extra="1"),
            call(
                api,
                route("dss/prime_activite", "identite"),
                a.secret,
                params=identite_params("test"),
            ),
            qf(api, "bpk_" + "0" * 43),
        ]

    responses = in_one_window(send, prepare=keys, margin=2)
    by_a, by_b, bad_params, other_product, unknown = (
        responses[:3],
        responses[3:5],
        responses[5],
        responses[6],
        responses[7],
    )
    assert sorted(statuses(by_a)) == [200, 200, 429]
    assert statuses(by_b) == [200, 200]
    assert sorted(r.headers["ratelimit-remaining"] for r in by_b) == ["0", "1"]
    assert_rate_limited(api, bad_params, 2)
    assert_error(other_product, 403, "00100")  # siade's "Privilèges insuffisants"
    assert "ratelimit-limit" not in other_product.headers
    assert_error(unknown, 401, "00101")
    assert "ratelimit-limit" not in unknown.headers


def test_france_connect_tokens_follow_their_services_habilitation_limit(shared_broker, api):
    service = "CCAS limité"
    first = access_token(
        shared_broker, "nom_composé", "cnaf_quotient_familial", service=service, rate_limit=2
    )
    responses = [call(api, QF_FC, first.access_token, recipient=None) for _ in range(6)]
    assert_robust_burst(api, responses, 2)
    assert all(journal_row(api, r).credential == "access_token" for r in responses)
    # Each token is a credential of its own.
    second = access_token(
        shared_broker, "test", "cnaf_quotient_familial", service=service, habilitated=True
    )
    response = call(api, QF_FC, second.access_token, recipient=None)
    assert assert_ok(response)["quotient_familial"]["valeur"] == 2550
    assert response.headers["ratelimit-limit"] == "2"


def test_rate_limit_store_outage_is_a_typed_and_journaled_answer(shared_broker, simulators):
    """Every call ends with one journal row (broker/resources/access.py), even when the
    rate-limit store cannot be reached: a platform error in JSON:API form, no data."""
    key = api_key(shared_broker, "cnaf_quotient_familial")
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{probe.getsockname()[1]}/15"
    with live_data_api(shared_broker, simulators, redis_url=dead) as down:
        response = qf(down, key.secret)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        error = assert_error(response, response.status_code, f"00{response.status_code}")
        assert error["meta"] == {}
        row = journal_row(down, response)
        assert (row.status, row.error_code) == (response.status_code, error["code"])
        assert row.outcome != "ok" and row.scopes == [] and row.credential_id == key.id


# -- Redis -----------------------------------------------------------------------------------


@pytest.fixture
def redis_apis(shared_broker, simulators):
    """Two data API processes' worth of state sharing one Redis."""
    with (
        live_data_api(shared_broker, simulators, redis_url=REDIS_URL) as one,
        live_data_api(shared_broker, simulators, redis_url=REDIS_URL) as two,
    ):
        yield one, two


@needs_redis
def test_redis_limiter_refuses_a_burst(shared_broker, redis_apis):
    one, _ = redis_apis
    key = api_key(shared_broker, "cnaf_quotient_familial", rate_limit=2)
    responses = [qf(one, key.secret) for _ in range(2 * 2 + 2)]
    assert_robust_burst(one, responses, 2, key)
    other = api_key(shared_broker, "cnaf_quotient_familial", rate_limit=2)
    assert qf(one, other.secret).status_code == 200


@needs_redis
def test_redis_limiter_is_shared_by_the_data_api_processes(shared_broker, redis_apis):
    """Alternating between two data APIs within one minute: 2 in all, not 2 each."""
    import redis

    one, two = redis_apis

    def send(key):
        window = window_of(time.time())
        return key, window, [qf(server, key.secret) for server in (one, two, one, two)]

    key, window, responses = in_one_window(
        send,
        prepare=lambda: api_key(shared_broker, "cnaf_quotient_familial", rate_limit=2),
        margin=2,
    )
    assert statuses(responses) == [200, 200, 429, 429]
    assert [r.headers["ratelimit-remaining"] for r in responses] == ["1", "0", "0", "0"]
    assert_rate_limited(two, responses[3], 2, key)
    # The count is Redis's (one atomic increment per request), under this credential,
    # habilitation and minute (the Unix time it starts), in the limiter's namespace.
    client = redis.Redis.from_url(REDIS_URL)
    try:
        [stored] = client.keys(f"*:rl:{key.id}:*:{window}")  # credential:habilitation:minute
        assert client.get(stored) == b"4"  # every request counted, the refused ones too
    finally:
        client.close()
