"""Real servers for the status checks' tests: the data API on the test's database, in front of
a relay that sends each provider's traffic to the simulators, to simulators in a maintenance
window, or to a dead backend (then it answers 502 Bad Gateway, as a provider's gateway does),
and can hold answers back to make a provider slow."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from broker.resources.app import build_resource_state, create_resource_asgi_app
from tests.conftest import make_settings
from tests.servers import start_asgi

PROVIDER_READ_TIMEOUT = 2.0  # roomy: these tests time the status checks, not the data API
HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "content-encoding"}


def closed_port_url() -> str:
    """An address where nothing listens (a port taken from the system, then released)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


class ProviderRelay:
    """``/<provider>/...`` is relayed to ``upstreams[provider]`` (default ``default``) after
    ``delays[provider]`` seconds."""

    def __init__(self, default: str) -> None:
        self.default = default.rstrip("/")
        self.upstreams: dict[str, str] = {}
        self.delays: dict[str, float] = {}
        self.client = httpx.Client(timeout=10)  # one pool: the relay adds no set-up time
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                provider = self.path.lstrip("/").split("/", 1)[0]
                time.sleep(relay.delays.get(provider, 0))
                upstream = relay.upstreams.get(provider, relay.default)
                try:
                    answer = relay.client.get(upstream + self.path)
                except httpx.ConnectError:
                    self.reply(502, {"Content-Type": "text/html"}, b"<h1>502 Bad Gateway</h1>")
                    return
                headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
                self.reply(answer.status_code, headers, answer.content)

            def reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the data API gave up waiting (a slow provider)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.client.close()


@contextlib.contextmanager
def running_data_api(
    database_url: str, var_dir: Path, demo_idp_url: str, providers_url: str
) -> Iterator[str]:
    """The data API over a socket on ``database_url``, its providers at ``providers_url``;
    yields its address."""
    settings = make_settings(
        database_url,
        var_dir,
        "http://127.0.0.1:8000",
        demo_idp_url,
        providers_url=providers_url,
        provider_read_timeout=PROVIDER_READ_TIMEOUT,  # seconds
        provider_connect_timeout=0.5,
        redis_url="",
        flow_state="auto",  # the data API keeps no flow state; its counts stay in memory
    )
    state = build_resource_state(settings)
    try:
        with start_asgi(create_resource_asgi_app(settings, state)) as url:
            yield url
    finally:
        state.db.dispose()
