"""Rate limits of the data API over real HTTP: requests per second per credential (API key or
access token), 20 by default, or the habilitation's own limit; ``RateLimit-*`` headers on
every answer past the credential checks; 429 ``00429`` with ``Retry-After`` and
``meta.retry_in``; the same limiter on Redis, shared by several data API processes.

The limiter counts in fixed one-second windows. Tests either tolerate a window boundary in
the middle of a burst (2 x limit + 2 requests: at least one 429, at most 2 x limit successes),
or run their requests within one second of the clock (``in_one_window``) and then assert the
exact counts.
"""

from __future__ import annotations

import itertools
import socket
import time

import httpx
import pytest

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


def assert_rate_limited(api, response: httpx.Response, limit: int, key=None) -> None:
    error = assert_error(response, 429, "00429")
    assert response.headers["retry-after"] == "1"  # one-second windows
    assert error["meta"] == {"retry_in": 1}
    assert response.headers["ratelimit-limit"] == str(limit)
    assert response.headers["ratelimit-remaining"] == "0"
    assert response.headers["ratelimit-reset"] == "1"
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
        assert response.headers["ratelimit-limit"] == str(limit)
        assert 0 <= int(response.headers["ratelimit-remaining"]) < limit
    for response in refused:
        assert_rate_limited(api, response, limit, key)


def test_default_limit_is_20_per_second_with_headers(shared_broker, api):
    key = api_key(shared_broker, "cnaf_quotient_familial")
    responses = [qf(api, key.secret) for _ in range(5)]
    remaining = []
    for response in responses:
        assert assert_ok(response)["quotient_familial"]["valeur"] == 2550
        assert response.headers["ratelimit-limit"] == "20"
        assert response.headers["ratelimit-reset"] == "1"
        remaining.append(int(response.headers["ratelimit-remaining"]))
    assert remaining[0] == 19  # a new key's first request
    # One less each time, except where a new one-second window starts (back to 19).
    for before, after in itertools.pairwise(remaining):
        assert after in (before - 1, 19), remaining
    assert sum(after == before - 1 for before, after in itertools.pairwise(remaining)) >= 3


def test_default_limit_refuses_the_21st_request_of_a_second(shared_broker, api):
    responses = in_one_window(
        lambda key: concurrently(lambda: qf(api, key.secret), 22),
        prepare=lambda: api_key(shared_broker, "cnaf_quotient_familial"),
        margin=0.9,
    )
    ok = [r for r in responses if r.status_code == 200]
    assert len(ok) == 20, statuses(responses)
    assert sorted(int(r.headers["ratelimit-remaining"]) for r in ok) == list(range(20))
    for response in responses:
        if response.status_code != 200:
            assert_rate_limited(api, response, 20)


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
    """Within one second: key A (limit 2) exhausted; key B of another habilitation untouched;
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

    responses = in_one_window(send, prepare=keys, margin=0.8)
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
    assert_error(other_product, 403, "00100")
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
    """Alternating between two data APIs within one second: 2 in all, not 2 each."""
    import redis

    one, two = redis_apis

    def send(key):
        window = int(time.time())
        return key, window, [qf(server, key.secret) for server in (one, two, one, two)]

    key, window, responses = in_one_window(
        send,
        prepare=lambda: api_key(shared_broker, "cnaf_quotient_familial", rate_limit=2),
        margin=0.7,
    )
    assert statuses(responses) == [200, 200, 429, 429]
    assert [r.headers["ratelimit-remaining"] for r in responses] == ["1", "0", "0", "0"]
    assert_rate_limited(two, responses[3], 2, key)
    # The count is Redis's, under this credential, habilitation and second (kept 2 s), in the
    # limiter's namespace.
    client = redis.Redis.from_url(REDIS_URL)
    try:
        [stored] = client.keys(f"*:rl:{key.id}:*:{window}")  # credential:habilitation:second
        assert client.get(stored) == b"2"
    finally:
        client.close()
