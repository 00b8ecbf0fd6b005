"""Shared helpers of the data API end-to-end tests (``test_data_api_*.py``).

Servers: :func:`live_broker` starts a real broker on its own copy of the migrated and seeded
database (the test modules keep one per module, for speed: every test registers its own
services, habilitations and keys under unique names, and finds its journal rows by request
id, so no test depends on another one's data); :func:`live_data_api` starts the data API
against it and the provider simulators, as the ``data_api_factory`` fixture does.

Callers: :func:`api_key` (a habilitation of a new service and one API key for it) and
:func:`access_token` (a real sign-in at the broker, consent and code redemption).

Citizens: :func:`identite_params` turns a demo or scenario citizen into the identity
parameters of the ``identite`` mode.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import select

from broker.admin.api_keys import issue_by_operator
from broker.admin.habilitations import HabilitationRequest, add_habilitation
from broker.catalogue.products import product
from broker.catalogue.scopes import REGISTRY, fields_for
from broker.demo.accounts import DEMO_ACCOUNTS
from broker.demo.citizens import COG_FRANCE, DemoCitizen
from broker.resources.app import build_resource_state, create_resource_asgi_app
from broker.resources.ratelimit import WINDOW, window_of
from broker.store.data_access_models import AccessJournal
from tests.conftest import PROVIDER_READ_TIMEOUT, make_settings
from tests.helpers import AuthorizationRequest, Browser, habilitate, redeem, register_client
from tests.servers import LiveServer, start_asgi, start_server

DINUM = "13002526500013"  # SIRET of DINUM: the recipient of API-key calls
SCENARIO_MEN_PARAMS = {"codeEtablissement": "0440021J", "anneeScolaire": "2026-2027"}
GENDERS = {"female": "F", "male": "M"}
DATA_SCOPES = frozenset(s.name for s in REGISTRY.data_scopes())


# -- servers -----------------------------------------------------------------------------------


@contextlib.contextmanager
def live_broker(db_factory, var_dir: Path, demo_idp) -> Iterator[LiveServer]:
    """A broker on a loopback socket with its own freshly copied database, registered at the
    demo identity providers."""
    var_dir.mkdir(parents=True, exist_ok=True)
    url = db_factory.create()

    def settings_for(issuer: str):
        settings = make_settings(url, var_dir, issuer, demo_idp.url)
        demo_idp.register_broker(settings)
        return settings

    try:
        with start_server(settings_for) as server:
            yield server
    finally:
        db_factory.drop(url)


@contextlib.contextmanager
def live_data_api(broker: LiveServer, providers_url: str, **overrides) -> Iterator[LiveServer]:
    """The data API over a socket, on the broker's database, pointed at ``providers_url``."""
    values: dict[str, Any] = {
        "providers_url": providers_url,
        "provider_read_timeout": PROVIDER_READ_TIMEOUT,
        "provider_connect_timeout": 0.5,
        "redis_url": "",  # rate limits in the process unless a test shares them
    }
    values.update(overrides)
    settings = broker.settings.model_copy(update=values)
    state = build_resource_state(settings)
    try:
        with start_asgi(create_resource_asgi_app(settings, state)) as url:
            yield LiveServer(url=url, state=state)
    finally:
        state.db.dispose()


# -- callers ---------------------------------------------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix} {secrets.token_hex(4)}"


@dataclass(frozen=True)
class Key:
    secret: str
    id: str
    habilitation_id: str
    service_id: str


def api_key(
    broker: LiveServer,
    scopes: str | list[str],
    *,
    service: str | None = None,
    rate_limit: int | None = None,
) -> Key:
    """A new habilitation for ``scopes`` (of a new service unless named), its data sent to
    DINUM, and one key for it."""
    [key] = api_keys(broker, [scopes], service=service, rate_limit=rate_limit)
    return key


def api_keys(
    broker: LiveServer,
    scope_sets: list[str | list[str]],
    *,
    service: str | None = None,
    rate_limit: int | None = None,
) -> list[Key]:
    """One habilitation and one key per set of scopes, all in one transaction."""
    keys = []
    with broker.state.db.transaction() as session:
        for scopes in scope_sets:
            created = add_habilitation(
                session,
                HabilitationRequest(
                    service=service or unique("Service"),
                    scopes=scopes if isinstance(scopes, str) else " ".join(scopes),
                    purpose="Tarification sociale de la cantine scolaire",
                    legal_basis="Code de l'éducation, article L. 131-13",
                    rate_limit=rate_limit,
                    create_service=True,
                    recipients=(DINUM,),  # the recipient call() sends
                ),
            )
            issued = issue_by_operator(
                session, "test:e2e", created["id"], "Clé de test", int(time.time())
            )
            keys.append(Key(issued.secret, issued.key.id, created["id"], created["service_id"]))
    return keys


@dataclass(frozen=True)
class Token:
    access_token: str
    id_token: str
    scope: str
    client_id: str


def access_token(
    broker: LiveServer,
    login: str,
    scope: str,
    *,
    service: str | None = None,
    habilitation: str | None = None,
    rate_limit: int | None = None,
    habilitated: bool = False,
) -> Token:
    """A citizen's access token, through a real sign-in (login, consent, code redemption),
    for a new client of ``service`` (a new service unless named).

    ``scope`` is the client's and the request's; the service gets a new habilitation for its
    data scopes, or for ``habilitation`` (a wider set) when given, with ``rate_limit`` if given;
    ``habilitated``: the service has one already, add none."""
    name = service or unique("Service FC")
    if not scope.startswith("openid"):
        scope = "openid " + scope
    client = register_client(broker.state, name=name, scope=scope, habilitated=False)
    data_scopes = habilitation or " ".join(s for s in scope.split() if s in DATA_SCOPES)
    if data_scopes and not habilitated:
        kwargs: dict[str, Any] = {"recipients": (DINUM,)}  # the recipient call() sends
        if rate_limit is not None:
            kwargs["rate_limit"] = rate_limit
        habilitate(broker.state, name, data_scopes, **kwargs)
    request = AuthorizationRequest(client)
    browser = Browser(broker.url)
    try:
        received = browser.sign_in(request, login=login)
    finally:
        browser.close()
    response = redeem(broker.url, client, received["code"], request.verifier)
    assert response.status_code == 200, response.text
    tokens = response.json()
    return Token(
        tokens["access_token"], tokens["id_token"], tokens.get("scope", scope), client.client_id
    )


# -- calls -----------------------------------------------------------------------------------


def call(
    api: LiveServer,
    path: str,
    credential: str | None = None,
    *,
    header: str = "authorization",
    recipient: str | None = DINUM,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    **more: Any,
) -> httpx.Response:
    """GET ``path`` with ``credential`` as ``Authorization: Bearer`` or ``X-Api-Key``.

    ``recipient`` is sent unless None (API-key mode requires it)."""
    headers = dict(headers or {})
    if credential is not None:
        headers.update(
            {"Authorization": f"Bearer {credential}"}
            if header == "authorization"
            else {"X-Api-Key": credential}
        )
    query: dict[str, Any] = dict(params or {})
    query.update(more)
    if recipient is not None:
        query["recipient"] = recipient
    return httpx.get(api.url + path, headers=headers, params=query, timeout=10)


def timed(send: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = send()
    return response, time.perf_counter() - started


def route(key: str, mode: str) -> str:
    found = product(key)
    assert found is not None and mode in found.modes, (key, mode)
    return found.route(mode)


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    """A JSON:API error of ``status`` whose first item has ``code``; returns that item."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("x-request-id")
    body = response.json()
    assert set(body) == {"errors"}, body
    error = body["errors"][0]
    assert error["code"] == code, error
    assert error["title"] and error["detail"]
    assert set(error) == {"code", "title", "detail", "source", "meta"}
    return error


def assert_ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    assert response.headers.get("x-request-id")
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"data", "links", "meta"}, body
    return body["data"]


# -- journal ---------------------------------------------------------------------------------


def journal_row(api: LiveServer, response: httpx.Response) -> AccessJournal:
    """The one journal row of the call that gave ``response`` (found by its request id)."""
    request_id = response.headers["x-request-id"]
    with api.state.db.reader() as session:
        rows = list(
            session.exec(select(AccessJournal).where(AccessJournal.request_id == request_id)).all()
        )
    assert len(rows) == 1, f"{len(rows)} journal rows for request {request_id}"
    return rows[0]


def row_values(row: AccessJournal) -> dict[str, Any]:
    return {column: getattr(row, column) for column in AccessJournal.model_fields}


# -- citizens --------------------------------------------------------------------------------


def citizen(login: str) -> DemoCitizen:
    for account in DEMO_ACCOUNTS:
        if account.login == login:
            return account
    raise KeyError(login)


def identite_params(login: str) -> dict[str, Any]:
    """The ``identite`` mode's identity parameters of a demo or scenario citizen: every given
    name, the known parts of the birth date, and the birth commune when born in France."""
    person = citizen(login)
    year, month, day = person.birthdate.split("-")
    params: dict[str, Any] = {
        "nomNaissance": person.family_name,
        "prenoms[]": person.given_name.split(),
        "anneeDateNaissance": year,
        "sexeEtatCivil": GENDERS[person.gender],
        "codeCogInseePaysNaissance": person.birthcountry,
    }
    if month != "00":
        params["moisDateNaissance"] = str(int(month))
    if day != "00":
        params["jourDateNaissance"] = str(int(day))
    if person.birthcountry == COG_FRANCE:
        params["codeCogInseeCommuneNaissance"] = person.birthplace
    if person.preferred_username:
        params["nomUsage"] = person.preferred_username
    return params


# -- scopes and fields -----------------------------------------------------------------------


def scopes_of(product_key: str) -> list[str]:
    """The data scopes of a product, in registry order (read from the registry directly)."""
    found = product(product_key)
    assert found is not None, product_key
    return [s.name for s in REGISTRY.data_scopes() if found.path in s.products]


def registry_fields(scopes: list[str], product_key: str) -> set[str]:
    """The fields ``scopes`` release in this product (in its version: ``fields_for``)."""
    found = product(product_key)
    assert found is not None, product_key
    path = found.path
    fields: set[str] = set()
    for name in scopes:
        scope = REGISTRY.get(name)
        if scope is not None and path in scope.products:
            fields.update(fields_for(scope, path))
    return fields


def field_paths(data: Any, prefix: str = "") -> tuple[set[str], set[str]]:
    """(every path, leaf paths) in ``data``, in the registry's notation (``a.b``, ``l[].x``).

    A null, a scalar, a list of scalars, an empty list or an empty object is a leaf."""
    every: set[str] = set()
    leaves: set[str] = set()
    if isinstance(data, dict) and data:
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, list) and (not value or isinstance(value[0], dict)):
                path += "[]"  # a list of objects; a list of strings is one field
            every.add(path)
            sub_every, sub_leaves = field_paths(value, path)
            every |= sub_every
            leaves |= sub_leaves or {path}
    elif isinstance(data, list) and prefix.endswith("[]"):
        for item in data:
            if isinstance(item, dict) and item:
                sub_every, sub_leaves = field_paths(item, prefix)
                every |= sub_every
                leaves |= sub_leaves
    return every, leaves


def _covered(leaf: str, fields: set[str]) -> bool:
    """``leaf`` is a released field, inside a released object, or a (null or empty) object
    or list some released field lies in."""
    for field in fields:
        if leaf == field or leaf.startswith((field + ".", field + "[]")):
            return True
        if field.startswith((leaf + ".", leaf + "[].")):
            return True
    return False


def assert_exactly_fields(data: dict, fields: set[str]) -> None:
    """``data`` holds every field of ``fields`` and nothing outside them."""
    every, leaves = field_paths(data)
    top = {f.split(".")[0].removesuffix("[]") for f in fields}
    assert set(data) == top, f"top-level keys {sorted(data)} != {sorted(top)}"
    missing = {f for f in fields if f not in every}
    assert not missing, f"fields missing: {sorted(missing)}"
    extra = {leaf for leaf in leaves if not _covered(leaf, fields)}
    assert not extra, f"fields beyond the scopes: {sorted(extra)}"


def pick(data: Any, path: str) -> Any:
    """``pick(data, "enfants.1.prenoms")``: dotted keys, list indexes as numbers."""
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def products_and_modes() -> set[tuple[str, str]]:
    from broker.catalogue.products import PRODUCTS

    return {(p.key, mode) for p in PRODUCTS for mode in p.modes}


# -- rate-limit windows ----------------------------------------------------------------------


def in_one_window(
    send_all: Callable[[Any], Any],
    prepare: Callable[[], Any] = lambda: None,
    attempts: int = 4,
    margin: float = 0.5,
) -> Any:
    """``send_all(prepare())``, started with at least ``margin`` s left in the limiter's
    current window and retried (with a new ``prepare()``) until it starts and ends within the
    same window: then all its requests fell in one window of the limiter (fixed windows of
    ``ratelimit.WINDOW`` s on the clock, read on the same machine)."""
    for _ in range(attempts):
        context = prepare()
        now = time.time()
        window_end = window_of(now) + WINDOW
        if window_end - now < margin:
            time.sleep(window_end - now + 0.005)
        started = time.time()
        responses = send_all(context)
        if window_of(time.time()) == window_of(started):
            return responses
    raise AssertionError(f"could not send the requests within one window in {attempts} tries")


def concurrently(send: Callable[[], httpx.Response], count: int) -> list[httpx.Response]:
    """``count`` calls of ``send`` at once (a burst, without the client's per-request wait)."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: send(), range(count)))


# -- a counting relay in front of the simulators ---------------------------------------------


class CountingRelay:
    """A plain HTTP relay between the data API and the simulators that counts the requests
    reaching each path: the way to see, from outside, retries and an open circuit breaker."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.requests: list[tuple[str, str]] = []  # (method, path without query)
        self._lock = threading.Lock()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _relay(self) -> None:
                with relay._lock:
                    relay.requests.append((self.command, self.path.split("?")[0]))
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length", "connection")
                }
                try:
                    answer = httpx.request(
                        self.command,
                        relay.target + self.path,
                        headers=headers,
                        content=body,
                        timeout=30,
                    )
                    self.send_response(answer.status_code)
                    for name, value in answer.headers.items():
                        if name.lower() not in (
                            "content-length",
                            "transfer-encoding",
                            "connection",
                            "content-encoding",
                        ):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.content)))
                    self.end_headers()
                    self.wfile.write(answer.content)
                except OSError:
                    pass  # the data API gave up (slow scenario): nobody is listening

            do_GET = do_POST = _relay  # noqa: N815 - http.server's method names

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def count(self, path_part: str) -> int:
        with self._lock:
            return sum(1 for _, path in self.requests if path_part in path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
