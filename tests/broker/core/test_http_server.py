"""The HTTP server's limits, over real sockets: what a client that sends too much, or too slowly,
gets from the server before anything reaches the application."""

from __future__ import annotations

import contextlib
import pickle
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import uvicorn
from click.testing import CliRunner

from broker.cli import serve
from broker.cli.demo import demo_server
from broker.core.http_server import HttpLimits, LimitedHttpToolsProtocol, server_options
from broker.core.settings import Settings
from tests.servers import bound_socket, serve_app

TIMEOUT = 0.5  # head and body deadlines of the test server, seconds

LIMITS = replace(HttpLimits.defaults(), head_timeout=TIMEOUT, body_timeout=TIMEOUT)


async def echo_body_size(scope, receive, send) -> None:
    """Answers 200 with the size of the body it read."""
    if scope["type"] != "http":
        return
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = str(size).encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def start(limits: HttpLimits):
    sock = bound_socket()
    address = sock.getsockname()
    return address, serve_app(echo_body_size, sock, limits)


@pytest.fixture(scope="module")
def address() -> Iterator[tuple[str, int]]:
    address, server = start(LIMITS)
    with server:
        yield address


def connect(address) -> socket.socket:
    client = socket.create_connection(address, timeout=5)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client


def request(
    path: str = "/",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    content_length: int | None = None,
) -> bytes:
    method = "POST" if body or content_length is not None else "GET"
    lines = [f"{method} {path} HTTP/1.1", "Host: t"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if method == "POST":
        lines.append(f"Content-Length: {len(body) if content_length is None else content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def read_response(client: socket.socket) -> bytes:
    """One response with a Content-Length, or what arrives until the server closes."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.lower().split(b"\r\n")
        if b"content-length" in line
    )
    while len(body) < length:
        body += client.recv(65536)
    return head + b"\r\n\r\n" + body


def closed_by_server(client: socket.socket) -> bool:
    try:
        return client.recv(65536) == b""
    except ConnectionResetError:
        return True


def seconds_until_closed(client: socket.socket) -> float:
    started = time.monotonic()
    assert closed_by_server(client)
    return time.monotonic() - started


def test_a_normal_request_is_served_and_the_connection_kept_alive(address):
    with connect(address) as client:
        client.sendall(request())
        first = read_response(client)
        client.sendall(request(body=b"x" * 1000))
        second = read_response(client)
    assert first.startswith(b"HTTP/1.1 200 ") and first.endswith(b"\r\n\r\n0")
    assert second.startswith(b"HTTP/1.1 200 ") and second.endswith(b"\r\n\r\n1000")


@pytest.mark.parametrize("size", [64 * 1024, 8 * 1024 * 1024])
def test_an_oversized_header_gets_431_and_the_connection_closed(address, size):
    with connect(address) as client:
        # The server stops reading: the rest of an 8 MB head may not be accepted.
        sender = threading.Thread(
            target=send_ignoring_reset, args=(client, request(headers={"X-Big": "a" * size}))
        )
        sender.start()
        response = read_response(client)
        assert closed_by_server(client)
        sender.join(timeout=5)
    assert response.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"\r\nconnection: close\r\n" in response


def send_ignoring_reset(client: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):  # closed by the server after its answer
        client.sendall(data)


def test_a_head_of_many_small_headers_over_the_size_limit_gets_431(address):
    headers = {f"X-H{n}": "v" * 190 for n in range(95)}  # 95 headers, ~19 KiB
    with connect(address) as client:
        client.sendall(request(headers=headers))
        assert read_response(client).startswith(b"HTTP/1.1 431 ")
        assert closed_by_server(client)


def test_too_many_headers_get_431(address):
    with connect(address) as client:
        client.sendall(request(headers={f"X-H{n}": "v" for n in range(LIMITS.max_headers)}))
        assert read_response(client).startswith(b"HTTP/1.1 431 ")
    with connect(address) as client:  # the Host header and 99 others: at the limit
        client.sendall(request(headers={f"X-H{n}": "v" for n in range(LIMITS.max_headers - 1)}))
        assert read_response(client).startswith(b"HTTP/1.1 200 ")


def test_a_long_request_target_gets_431(address):
    with connect(address) as client:
        client.sendall(request(path="/" + "a" * LIMITS.max_head_bytes))
        assert read_response(client).startswith(b"HTTP/1.1 431 ")


def test_a_body_over_the_limit_gets_413_before_it_is_read(address):
    with connect(address) as client:
        # No body sent: the answer comes from the head alone.
        client.sendall(request(content_length=LIMITS.max_body_bytes + 1))
        response = read_response(client)
        assert closed_by_server(client)
    assert response.startswith(b"HTTP/1.1 413 Request Entity Too Large\r\n")
    assert b"\r\nconnection: close\r\n" in response


def test_a_body_at_the_limit_is_read_and_the_connection_kept_alive(address):
    with connect(address) as client:
        client.sendall(request(body=b"x" * LIMITS.max_body_bytes))
        assert read_response(client).endswith(b"\r\n\r\n%d" % LIMITS.max_body_bytes)
        client.sendall(request())
        assert read_response(client).startswith(b"HTTP/1.1 200 ")


def test_pipelined_requests_are_served(address):
    last = request(headers={"Connection": "close"}, body=b"y" * 3)
    with connect(address) as client:
        client.sendall(request(body=b"x" * 20_000) + request() + last)
        received = b""
        while chunk := client.recv(65536):
            received += chunk
    responses = received.split(b"HTTP/1.1 ")[1:]
    assert [response.rsplit(b"\r\n", 1)[1] for response in responses] == [b"20000", b"0", b"3"]


def test_a_slow_sender_is_disconnected_after_the_head_timeout(address):
    with connect(address) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        assert TIMEOUT * 0.8 < seconds_until_closed(client) < TIMEOUT * 2


def test_many_slow_senders_are_all_disconnected_after_the_head_timeout(address):
    clients = [connect(address) for _ in range(100)]
    for client in clients:
        client.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ")
    started = time.monotonic()
    try:
        assert all(closed_by_server(client) for client in clients)
        assert time.monotonic() - started < TIMEOUT * 2
    finally:
        for client in clients:
            client.close()


def test_a_trickling_sender_does_not_extend_the_head_timeout(address):
    with connect(address) as client:
        started = time.monotonic()
        client.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")
        try:
            for _ in range(int(TIMEOUT * 4 / 0.05)):
                client.sendall(b"X-A: b\r\n")
                time.sleep(0.05)
        except OSError:
            pass  # closed by the server
        assert closed_by_server(client)
        assert time.monotonic() - started < TIMEOUT * 2


def test_a_silent_connection_is_closed_after_the_head_timeout(address):
    with connect(address) as client:
        assert seconds_until_closed(client) < TIMEOUT * 2


def test_the_next_head_on_a_kept_alive_connection_is_on_the_clock_too(address):
    with connect(address) as client:
        client.sendall(request())
        assert read_response(client).startswith(b"HTTP/1.1 200 ")
        client.sendall(b"GET / HTTP/1.1\r\nHost:")
        assert seconds_until_closed(client) < TIMEOUT * 2


def test_a_stalled_body_is_disconnected_after_the_body_timeout(address):
    with connect(address) as client:
        client.sendall(request(body=b"x" * 100)[:-90])
        assert TIMEOUT * 0.8 < seconds_until_closed(client) < TIMEOUT * 2


def test_beyond_the_connection_cap_requests_get_503():
    address, server = start(replace(LIMITS, max_connections=2, head_timeout=5))
    with server, connect(address), connect(address) as client:
        time.sleep(0.1)  # both accepted
        client.sendall(request())
        response = read_response(client)
    assert response.startswith(b"HTTP/1.1 503 ")


def test_the_server_options_reach_worker_processes():
    """uvicorn pickles its configuration to each worker of ``broker run --workers N``."""
    protocol = pickle.loads(pickle.dumps(server_options(LIMITS)["http"]))
    assert protocol.func is LimitedHttpToolsProtocol and protocol.keywords == {"limits": LIMITS}


@pytest.mark.parametrize("group", [serve.resources, serve.simulators])
def test_the_commands_start_their_server_with_the_limits(monkeypatch, group, database_url):
    options: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **given: options.update(given))
    env = {
        "BROKER_ISSUER": "http://127.0.0.1:8000",
        "BROKER_HTTP_MAX_CONNECTIONS": "7",
        "BROKER_DATABASE_URL": database_url,  # the data API starts on a migrated database only
    }
    CliRunner().invoke(group, ["run"], env=env, catch_exceptions=False)
    assert options["http"].func is LimitedHttpToolsProtocol
    assert options["http"].keywords["limits"].max_connections == options["limit_concurrency"] == 7


def test_the_demo_starts_its_servers_with_the_limits():
    server = demo_server(echo_body_size, "127.0.0.1", 0, Settings.model_construct())
    assert server.config.http.func is LimitedHttpToolsProtocol
    assert server.config.limit_concurrency == HttpLimits.defaults().max_connections
