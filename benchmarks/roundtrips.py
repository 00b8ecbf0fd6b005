"""Database work per endpoint and per flow: statements, transactions, connection checkouts and
round trips, counted by SQLAlchemy's engine and pool events while one complete flow (authorize →
choice of identity provider → sign-in at the demo identity provider → callback → consent →
token → userinfo) runs in-process against a fresh database. The demo identity providers are
served over a loopback socket (the broker reaches them over HTTP, as in production); their
own steps are not counted.

    .venv/bin/python benchmarks/roundtrips.py                       # SQLite under a temp dir
    .venv/bin/python benchmarks/roundtrips.py --postgres postgresql://postgres@127.0.0.1/postgres
    .venv/bin/python benchmarks/roundtrips.py --postgres ... --redis redis://127.0.0.1:6379/0

With --postgres, a database is created on that server for the run and dropped afterwards.
Round trips count what goes over the wire to the server: every statement, each pre-ping,
each BEGIN, COMMIT and ROLLBACK, and the pool's rollback when a connection comes back with a
transaction still open.
On SQLite there is no wire; the same counts say how much work each step does.
With --redis the flow state (interactions, sessions, codes) lives in Redis, and each request
sent to Redis (a command, a pipeline or a script) counts as one round trip too. Without it, the
flow state is where the broker puts it by default: in memory on SQLite, in the database on
PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import re
import secrets
import socket
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import uvicorn
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from broker.admin.clients import ClientRegistration, add_client
from broker.app import build_state, create_asgi_app
from broker.core import migrate
from broker.core.db import Database, normalise_url
from broker.core.settings import Settings
from broker.demo.idp import DemoIdpOptions, create_demo_idp_app
from broker.demo.idp.registration import broker_as_client
from broker.demo.seed import seed

ISSUER = "http://127.0.0.1:8000"
SERVICE_URL = "http://127.0.0.1:8001"
REDIRECT_URI = "http://127.0.0.1:9/cb"
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass
class Counts:
    statements: int = 0
    transactions: int = 0
    commits: int = 0
    rollbacks: int = 0
    checkouts: int = 0
    resets: int = 0
    pre_pings: int = 0
    redis: int = 0
    by_statement: Counter[str] = field(default_factory=Counter)

    @property
    def round_trips(self) -> int:
        # BEGIN is sent on the first statement of a transaction (psycopg) or is local (SQLite);
        # it is counted once per transaction either way.
        return (
            self.statements
            + self.transactions
            + self.commits
            + self.rollbacks
            + self.resets
            + self.pre_pings
            + self.redis
        )


def idle(dbapi_connection) -> bool:
    """psycopg: no transaction open on this connection (SQLite: never said)."""
    info = getattr(dbapi_connection, "info", None)
    return info is not None and info.transaction_status == 0


class Meter:
    """Counts the engine's database work into the current step's bucket."""

    def __init__(self, engine, pre_ping: bool) -> None:
        self.steps: dict[str, Counts] = {}
        self.current = Counts()
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", lambda conn: self._transactional(conn, "commits"))
        event.listen(engine, "rollback", lambda conn: self._transactional(conn, "rollbacks"))
        event.listen(engine.pool, "checkout", self._checkout)
        event.listen(engine.pool, "reset", self._reset)
        self.pre_ping = pre_ping

    def _add(self, name: str) -> None:
        setattr(self.current, name, getattr(self.current, name) + 1)

    def _transactional(self, conn, name: str) -> None:
        """COMMIT and ROLLBACK go over the wire only outside autocommit, and (psycopg) only if
        a statement opened a transaction."""
        dbapi = conn.connection.dbapi_connection
        if getattr(dbapi, "autocommit", False) or idle(dbapi):
            return
        self._add(name)

    def _begin(self, conn) -> None:
        """SQLite's BEGIN is local: counted here once per transaction. psycopg sends BEGIN
        with the first statement: counted there (a transaction without one sends nothing)."""
        if not hasattr(conn.connection.dbapi_connection, "info"):
            self._add("transactions")

    def _checkout(self, *args) -> None:
        self._add("checkouts")
        if self.pre_ping:
            self._add("pre_pings")

    def _reset(self, dbapi_connection, record, state) -> None:
        if state.transaction_was_reset:
            return  # the pool sends nothing
        info = getattr(
            dbapi_connection, "info", None
        )  # psycopg: a ROLLBACK only if in a transaction
        if info is not None and getattr(info, "transaction_status", 2) == 0:
            return
        self._add("resets")

    def _statement(self, conn, cursor, statement, parameters, context, executemany) -> None:
        dbapi = conn.connection.dbapi_connection
        if hasattr(dbapi, "info") and not dbapi.autocommit and idle(dbapi):
            self._add("transactions")
        self._add("statements")
        self.current.by_statement[" ".join(statement.split())[:90]] += 1

    def count_redis(self) -> None:
        """Counts each request sent to Redis: redis-py sends a command, a whole pipeline or a
        script in one write, then reads the answers."""
        from redis.connection import Connection

        send = Connection.send_packed_command
        meter = self

        def counted(connection, command, check_health=True):
            meter._add("redis")
            return send(connection, command, check_health)

        Connection.send_packed_command = counted  # type: ignore[method-assign]

    def step(self, name: str) -> None:
        self.current = self.steps.setdefault(name, Counts())


async def one_flow(app, meter: Meter, client_id: str, secret: str) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile",
        "state": "s",
        "nonce": "n",
        "prompt": "consent",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
        meter.step("GET /authorize")
        login_url = (await http.get("/authorize", params=params)).headers["location"]
        meter.step("GET choice page")
        page = await http.get(login_url)
        meter.step("POST choice")
        to_idp = (
            await http.post(
                login_url, data={"idp": "identite-demo", "csrf_token": CSRF.search(page.text)[1]}
            )
        ).headers["location"]
        meter.step("(at the identity provider)")
        callback = await sign_in_at_provider(to_idp)
        meter.step("GET callback")
        consent_url = (await http.get(callback)).headers["location"]
        meter.step("GET consent page")
        page = await http.get(consent_url)
        meter.step("POST consent")
        done = await http.post(
            consent_url, data={"decision": "approve", "csrf_token": CSRF.search(page.text).group(1)}
        )
        code = parse_qs(urlsplit(done.headers["location"]).query)["code"][0]
        meter.step("POST /token")
        token = (
            await http.post(
                "/token",
                auth=(client_id, secret),
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT_URI,
                    "code_verifier": verifier,
                },
            )
        ).json()
        meter.step("GET /userinfo")
        info = await http.get(
            "/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}
        )
        assert info.status_code == 200, info.text
        meter.step("(after)")


async def sign_in_at_provider(authorize_url: str) -> str:
    """The demo identity provider's login, as a browser would; returns the broker's callback."""
    async with httpx.AsyncClient() as idp:
        page = await idp.get(authorize_url)
        form_action = urljoin(authorize_url, f"/{urlsplit(authorize_url).path.split('/')[1]}/login")
        answer = await idp.post(
            form_action,
            data={"login": "test", "password": "123", "csrf_token": CSRF.search(page.text)[1]},
        )
        return answer.headers["location"]


@contextmanager
def demo_identity_providers(settings_for_idp: Settings) -> Iterator[str]:
    """The demo identity providers on a loopback socket, with the broker as their client."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    options = DemoIdpOptions(base_url=url, password_profile="benchmark")
    options.register(broker_as_client(settings_for_idp, ISSUER))
    server = uvicorn.Server(
        uvicorn.Config(create_demo_idp_app(options), log_config=None, access_log=False)
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def report(meter: Meter, flows: int) -> None:
    columns = (
        "statements",
        "transactions",
        "commits",
        "rollbacks",
        "checkouts",
        "resets",
        "pre_pings",
        "redis",
    )
    total = Counts()
    print(f"{'step':20s} " + " ".join(f"{c:>12s}" for c in columns) + f" {'round trips':>12s}")
    for name, counts in meter.steps.items():
        if name == "(after)":
            continue
        values = [getattr(counts, c) / flows for c in columns]
        for column in columns:
            setattr(total, column, getattr(total, column) + getattr(counts, column))
        total.by_statement.update(counts.by_statement)
        print(
            f"{name:20s} "
            + " ".join(f"{v:12.1f}" for v in values)
            + f" {counts.round_trips / flows:12.1f}"
        )
    print(
        f"{'per flow':20s} "
        + " ".join(f"{getattr(total, c) / flows:12.1f}" for c in columns)
        + f" {total.round_trips / flows:12.1f}"
    )
    print("\nstatements per flow:")
    for statement, count in total.by_statement.most_common():
        print(f"  {count / flows:5.1f}  {statement}")


def fresh_database(postgres: str | None, workdir: Path) -> tuple[str, callable]:
    if not postgres:
        return f"sqlite:///{workdir / 'roundtrips.db'}", lambda: None
    server = make_url(normalise_url(postgres))
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"roundtrips_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="a PostgreSQL server URL (a database is created)")
    parser.add_argument("--redis", help="a Redis URL: the flow state lives there")
    parser.add_argument("--flows", type=int, default=5, help="flows measured (after one warm-up)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        url, drop = fresh_database(args.postgres, workdir)
        try:
            migrate.upgrade(url)
            db = Database(url)
            base = Settings(
                database_url=url,
                issuer=ISSUER,
                var_dir=workdir / "var",
                key_encryption_secret="x" * 48,
                log_level="WARNING",
                redis_url=args.redis or "",
            )
            idps = stack.enter_context(demo_identity_providers(base))
            with db.transaction() as session:
                seed(session, base.model_copy(update={"demo_idp_url": idps}), SERVICE_URL)
                client = add_client(
                    session,
                    ClientRegistration(
                        name="Round trips", redirect_uris=[REDIRECT_URI], scope="openid profile"
                    ),
                )
            settings = base.model_copy(update={"demo_idp_url": idps})
            state = build_state(settings, db)
            state.keys.ensure_keys()
            app = create_asgi_app(settings, state)
            meter = Meter(db.engine, pre_ping=bool(db.engine.pool._pre_ping))
            if args.redis:
                meter.count_redis()

            async def flows() -> None:
                # One event loop for every flow: the broker's connections to the identity
                # provider belong to it.
                await one_flow(app, meter, client["client_id"], client["client_secret"])
                meter.steps.clear()
                for _ in range(args.flows):
                    await one_flow(app, meter, client["client_id"], client["client_secret"])
                await state.federation_http.aclose()

            asyncio.run(flows())
            print(
                f"database: {make_url(url).get_backend_name()}, flow state: "
                f"{state.context.flow_state.kind}, {args.flows} flows\n"
            )
            report(meter, args.flows)
            asyncio.run(state.background.client.aclose())
            state.context.flow_state.close()
            db.dispose()
        finally:
            drop()


if __name__ == "__main__":
    main()
