"""The broker's HTTP limits as a client meets them (tests/broker/core/test_http_server.py has
the server's side in detail): oversized heads and bodies are refused, ordinary requests not."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

DISCOVERY = "/.well-known/openid-configuration"


@pytest.fixture
def client(broker) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=broker.url, timeout=10) as client:
        yield client


@pytest.mark.parametrize("size", [64 * 1024, 8 * 1024 * 1024])
def test_an_oversized_header_gets_431(client, size):
    response = client.get(DISCOVERY, headers={"X-Big": "a" * size})
    assert response.status_code == 431
    assert response.headers["connection"] == "close"
    assert client.get(DISCOVERY).status_code == 200


def test_ordinary_headers_are_served(client):
    headers = {f"X-Header-{n}": "v" * 100 for n in range(50)}
    assert client.get(DISCOVERY, headers=headers).status_code == 200


def test_a_token_request_over_the_body_limit_gets_413(client, broker):
    limit = broker.settings.http_max_body_bytes
    body = b"grant_type=authorization_code&code=" + b"a" * limit
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert client.post("/token", content=body, headers=form).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the application counts
        yield body[: limit // 2]
        yield body[limit // 2 :]

    assert client.post("/token", content=chunks(), headers=form).status_code == 413
