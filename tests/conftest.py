from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from broker.app import build_state
from broker.core.settings import Settings
from tests.databases import PostgresFactory, SqliteFactory, backend_url
from tests.redis_support import REDIS_URL, needs_redis
from tests.servers import LiveServer, start_server

TEST_SECRET = "test-key-encryption-secret-0123456789-abcdefgh"


@dataclass
class DemoIdpServer:
    url: str
    options: Any  # DemoIdpOptions
    idp: Any  # broker.demo.idp.app.DemoIdp

    def register_broker(self, settings: Settings) -> None:
        from broker.demo.idp.registration import broker_as_client

        self.options.register(broker_as_client(settings))


@pytest.fixture(scope="session")
def demo_idp() -> Iterator[DemoIdpServer]:
    """The demo identity providers, a separate OpenID Connect provider over real HTTP (one
    per test worker); each broker a test starts registers itself as their client."""
    from broker.demo.idp import DemoIdpOptions, create_demo_idp_app
    from broker.demo.idp.guard import LoginLimits
    from broker.web.throttle import Limit
    from tests.servers import bound_socket, serve_app

    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    # Shared by every test of a worker, from one address: the failed logins some tests make
    # on purpose must not slow the others down. The throttle's own tests
    # (tests/broker/demo/idp/test_login_throttle.py) start a provider with the real limits.
    roomy = Limit(free=100_000, window=60, max_wait=1)
    options = DemoIdpOptions(
        base_url=url,
        password_profile="benchmark",
        login_limits=LoginLimits(account=roomy, browser=roomy, address=roomy),
    )
    app = create_demo_idp_app(options)
    with serve_app(app, sock):
        yield DemoIdpServer(url, options, app.state.idp)


@pytest.fixture(scope="session")
def db_factory(tmp_path_factory, demo_idp) -> Iterator[SqliteFactory | PostgresFactory]:
    workdir = tmp_path_factory.mktemp("db")
    server = backend_url()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    factory = PostgresFactory(server, worker) if server else SqliteFactory(workdir)
    factory.build_template(
        make_settings("sqlite://", workdir / "var", "http://127.0.0.1:8000", demo_idp.url)
    )
    yield factory
    if isinstance(factory, PostgresFactory):
        factory.close()


@pytest.fixture
def database_url(db_factory) -> Iterator[str]:
    url = db_factory.create()
    yield url
    db_factory.drop(url)


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    return path


PRODUCTION_DATA_API = "https://api.broker.example"


def make_settings(
    database_url: str, var_dir: Path, issuer: str, demo_idp_url: str, **overrides
) -> Settings:
    values = {
        "database_url": database_url,
        "demo_idp_url": demo_idp_url,
        "issuer": issuer,
        "key_encryption_secret": TEST_SECRET,
        "var_dir": var_dir,
        "env": "development",
        "log_format": "text",
    }
    if os.environ.get("TEST_FLOW_STATE") == "redis":
        # The production configuration: interactions, sessions and codes in Redis.
        values.update(flow_state="redis", redis_url=REDIS_URL)
    if overrides.get("env") == "production":
        values["data_api_url"] = PRODUCTION_DATA_API  # production names it, in https
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings_factory(database_url, var_dir, demo_idp):
    def factory(issuer: str = "http://127.0.0.1:8000", **overrides) -> Settings:
        settings = make_settings(database_url, var_dir, issuer, demo_idp.url, **overrides)
        demo_idp.register_broker(settings)
        return settings

    return factory


@pytest.fixture
def broker(settings_factory) -> Iterator[LiveServer]:
    """A real broker on a loopback socket, with its own freshly migrated and seeded database,
    registered at the demo identity providers."""
    with start_server(lambda issuer: settings_factory(issuer)) as server:
        yield server


@pytest.fixture
def state(settings_factory):
    """The broker's components in-process, for focused tests (no HTTP)."""
    s = build_state(settings_factory())
    s.keys.ensure_keys()
    yield s
    asyncio.run(s.background.client.aclose())  # never started, so never stopped
    asyncio.run(s.preview_http.aclose())
    s.db.dispose()


@pytest.fixture
def jwks_server():
    """Serves a JWKS over real HTTP, as a client's jwks_uri would."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    servers = []

    def start(jwks: dict) -> str:
        """Serves ``jwks`` as it is at each request: a test may change it to rotate keys."""

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps(jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/jwks.json"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def production(settings_factory):
    """An https production-mode broker, in process: (client, run) where ``run(steps)`` runs an
    async function ``steps(http, client)`` against it through ASGITransport."""

    import httpx

    from broker.app import create_asgi_app
    from tests.helpers import register_client

    settings = settings_factory("https://broker.example", env="production")
    prod_state = build_state(settings)
    prod_state.keys.ensure_keys()
    client = register_client(prod_state, redirect_uris=["https://service.example/cb"])
    app = create_asgi_app(settings, prod_state)

    def run(steps):
        async def go():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=settings.issuer_url) as http:
                return await steps(http, client)

        return asyncio.run(go())

    yield run
    asyncio.run(prod_state.background.client.aclose())  # no lifespan through ASGITransport
    asyncio.run(prod_state.preview_http.aclose())
    prod_state.db.dispose()


SLOW_SECONDS = 2.0  # the simulators' "slow" scenario; the data API gives up well before
PROVIDER_READ_TIMEOUT = 0.4


@pytest.fixture(scope="session")
def simulators() -> Iterator[str]:
    """Every data-provider simulator, over real HTTP, under ``/<provider>``."""
    from broker.demo.simulators import SimulatorOptions, create_all_app
    from tests.servers import start_asgi

    with start_asgi(create_all_app(SimulatorOptions(slow_seconds=SLOW_SECONDS))) as url:
        yield url


@pytest.fixture
def data_api_factory(broker, simulators):
    """Start the data API against the running broker's database and the simulators."""
    import contextlib

    from broker.resources.app import build_resource_state, create_resource_asgi_app
    from tests.servers import start_asgi

    stack = contextlib.ExitStack()

    def start(**overrides) -> LiveServer:
        values = {
            "providers_url": simulators,
            "provider_read_timeout": PROVIDER_READ_TIMEOUT,
            "provider_connect_timeout": 0.5,
            "redis_url": "",  # rate limits in the process unless a test shares them
        }
        values.update(overrides)
        settings = broker.settings.model_copy(update=values)
        resource_state = build_resource_state(settings)
        url = stack.enter_context(start_asgi(create_resource_asgi_app(settings, resource_state)))
        stack.callback(resource_state.db.dispose)
        return LiveServer(url=url, state=resource_state)

    yield start
    stack.close()


@pytest.fixture
def data_api(data_api_factory) -> LiveServer:
    return data_api_factory()


@pytest.fixture(params=["memory", "database", pytest.param("redis", marks=needs_redis)])
def flow_state(request):
    """Each flow-state backend in turn; the Redis one under a key prefix of its own."""
    import uuid

    from broker.store.flowstate import MemoryFlowState
    from broker.store.redis_flowstate import RedisFlowState
    from broker.store.sql_flowstate import SqlFlowState

    if request.param == "memory":
        yield MemoryFlowState()
    elif request.param == "database":
        yield SqlFlowState()
    else:
        store = RedisFlowState(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
        yield store
        keys = list(store.redis.scan_iter(match=f"{store.prefix}*"))
        if keys:
            store.redis.delete(*keys)
        store.close()
