"""The status checks over real HTTP: the data API and the provider simulators on sockets (a
relay between them puts a provider in maintenance, takes it down or slows it), the demo
identity providers, and identity providers that do not answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import select

from broker.admin.identity_providers import ProviderRegistration, add_provider, set_enabled
from broker.admin.status import DEGRADED, DOWN, MAINTENANCE, UP, check_all
from broker.admin.status_details import detail_words
from broker.catalogue.scopes import REGISTRY
from broker.core.db import Database
from broker.demo.simulators import SimulatorOptions, create_all_app
from broker.keys.vault import KeyVault
from broker.store.portal_models import StatusCheck, StatusIncident
from tests.broker.admin.status_support import ProviderRelay, closed_port_url, running_data_api
from tests.conftest import make_settings
from tests.servers import start_asgi

PROVIDERS = [PROVIDER.key for PROVIDER in REGISTRY.providers()]
RETRY_IN = 120
T0 = 1_900_000_000


@pytest.fixture(scope="module")
def maintenance_simulators() -> Iterator[str]:
    options = SimulatorOptions(maintenance=True, maintenance_retry_in=RETRY_IN)
    with start_asgi(create_all_app(options)) as url:
        yield url


@pytest.fixture
def relay(simulators) -> Iterator[ProviderRelay]:
    relay = ProviderRelay(simulators)
    yield relay
    relay.close()


@pytest.fixture
def db(database_url) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def checker(database_url, var_dir, demo_idp, relay, db):
    """``check(now, **options)``: runs ``check_all`` against the data API in front of the
    relay; returns the status rows by target."""
    with running_data_api(database_url, var_dir, demo_idp.url, relay.url) as api_url:
        settings = make_settings(
            database_url, var_dir, "http://127.0.0.1:8000", demo_idp.url, data_api_url=api_url
        )

        def check(now: int, **options) -> dict[str, StatusCheck]:
            async def run() -> None:
                async with httpx.AsyncClient() as client:
                    await check_all(db, client, settings, now, **options)

            asyncio.run(run())
            return checks(db)

        yield check


def checks(db: Database) -> dict[str, StatusCheck]:
    with db.reader() as session:
        return {row.target: row for row in session.exec(select(StatusCheck)).all()}


def incidents(db: Database, target: str) -> list[StatusIncident]:
    with db.reader() as session:
        return list(
            session.exec(
                select(StatusIncident)
                .where(StatusIncident.target == target)
                .order_by(StatusIncident.started_at)
            ).all()
        )


def demo_idp_targets(db: Database) -> list[str]:
    from broker.store.federation_models import IdentityProviderRecord

    with db.reader() as session:
        return [f"idp:{r.id}" for r in session.exec(select(IdentityProviderRecord)).all()]


def test_every_provider_and_identity_provider_is_up(checker, db):
    board = checker(T0)
    idps = demo_idp_targets(db)
    assert idps, "the seed registers the demo identity providers"
    assert set(board) == {f"provider:{key}" for key in PROVIDERS} | set(idps)
    for row in board.values():
        assert (row.state, row.checked_at, row.since) == (UP, T0, T0), row
        assert row.latency_ms is not None and row.label
    assert board["provider:cnaf"].label.startswith("Caisse nationale des allocations familiales")
    with db.reader() as session:
        assert session.exec(select(StatusIncident)).all() == []


def test_maintenance_opens_an_incident_closed_when_the_provider_comes_back(
    checker, db, relay, maintenance_simulators
):
    checker(T0)
    relay.upstreams["cnaf"] = maintenance_simulators
    board = checker(T0 + 60)
    cnaf = board["provider:cnaf"]
    assert (cnaf.state, cnaf.since, cnaf.detail) == (MAINTENANCE, T0 + 60, f"retry in {RETRY_IN} s")
    assert board["provider:dss"].state == UP, "the other providers are not affected"
    [opened] = incidents(db, "provider:cnaf")
    assert (opened.state, opened.started_at, opened.ended_at) == (MAINTENANCE, T0 + 60, None)

    checker(T0 + 120)  # still in maintenance: the same incident, the same since
    assert checks(db)["provider:cnaf"].since == T0 + 60
    assert len(incidents(db, "provider:cnaf")) == 1

    del relay.upstreams["cnaf"]
    board = checker(T0 + 180)
    assert (board["provider:cnaf"].state, board["provider:cnaf"].since) == (UP, T0 + 180)
    [closed] = incidents(db, "provider:cnaf")
    assert (closed.started_at, closed.ended_at) == (T0 + 60, T0 + 180)


def test_provider_down_keeps_one_incident_with_its_worst_state(
    checker, db, relay, maintenance_simulators
):
    relay.upstreams["dgfip"] = maintenance_simulators
    assert checker(T0)["provider:dgfip"].state == MAINTENANCE
    relay.upstreams["dgfip"] = closed_port_url()  # its backend dies: its gateway answers 502
    board = checker(T0 + 60)
    dgfip = board["provider:dgfip"]
    assert (dgfip.state, dgfip.since) == (DOWN, T0 + 60)
    assert dgfip.detail == "HTTP 504 03001", "the data API's 'provider unavailable' error"
    relay.upstreams["dgfip"] = maintenance_simulators
    assert checker(T0 + 120)["provider:dgfip"].state == MAINTENANCE
    [incident] = incidents(db, "provider:dgfip")
    assert (incident.state, incident.ended_at) == (DOWN, None), "the worst state it reached"
    del relay.upstreams["dgfip"]
    checker(T0 + 180)
    [incident] = incidents(db, "provider:dgfip")
    assert (incident.started_at, incident.ended_at) == (T0, T0 + 180)
    # A new outage is a new incident.
    relay.upstreams["dgfip"] = closed_port_url()
    checker(T0 + 240)
    assert [(i.started_at, i.ended_at) for i in incidents(db, "provider:dgfip")] == [
        (T0, T0 + 180),
        (T0 + 240, None),
    ]


def test_slow_provider_is_degraded(checker, relay):
    checker(T0 - 60)  # the data API's connections to the relay are open: no set-up time
    relay.delays["cnous"] = 1.0  # under the data API's own timeout to the provider
    board = checker(T0, slow_ms=600)
    assert board["provider:cnous"].state == DEGRADED
    assert board["provider:cnous"].latency_ms >= 1000
    assert board["provider:mesri"].state == UP


def test_provider_answering_too_late_is_down(checker, relay):
    relay.delays["men"] = 3.0
    started = time.monotonic()
    board = checker(T0, timeout=0.5)
    assert time.monotonic() - started < 2.5, "the pings run at once, each within the timeout"
    assert board["provider:men"].state == DOWN
    assert board["provider:men"].detail == "no answer within 0.5 s"


def test_identity_provider_without_discovery_is_down_and_disabled_one_in_maintenance(
    checker, db, database_url, var_dir, demo_idp
):
    settings = make_settings(database_url, var_dir, "http://127.0.0.1:8000", demo_idp.url)
    with db.transaction() as session:
        gone = add_provider(
            session,
            KeyVault(settings.secret),
            ProviderRegistration(
                name="Fournisseur éteint",
                issuer=closed_port_url(),
                client_id="x",
                client_secret="s",
            ),
            settings.issuer_url,
        )
        paused = add_provider(
            session,
            KeyVault(settings.secret),
            ProviderRegistration(
                name="Fournisseur en pause",
                issuer=closed_port_url(),
                client_id="y",
                client_secret="s",
            ),
            settings.issuer_url,
        )
        set_enabled(session, paused["id"], False, "Migration en cours", settings.issuer_url)
    board = checker(T0)
    down = board[f"idp:{gone['id']}"]
    assert (down.state, down.label) == (DOWN, "Fournisseur éteint")
    assert down.detail.startswith("unreachable")
    paused_row = board[f"idp:{paused['id']}"]
    assert (paused_row.state, paused_row.detail) == (MAINTENANCE, "Migration en cours")
    assert [i.state for i in incidents(db, f"idp:{gone['id']}")] == [DOWN]
    for target in demo_idp_targets(db):
        if target not in (f"idp:{gone['id']}", f"idp:{paused['id']}"):
            assert board[target].state == UP


def test_identity_provider_answering_something_else_is_down(checker, db, relay):
    with db.transaction() as session:
        from broker.store.federation_models import IdentityProviderRecord

        record = session.get(IdentityProviderRecord, demo_idp_targets(db)[0].removeprefix("idp:"))
        record.issuer = relay.url + "/cnaf"  # a server, but not an identity provider
        session.add(record)
    board = checker(T0)
    assert board[f"idp:{record.id}"].state == DOWN
    assert board[f"idp:{record.id}"].detail.startswith("HTTP 404")


def test_unreachable_data_api_puts_every_provider_down(db, database_url, var_dir, demo_idp):
    settings = make_settings(
        database_url, var_dir, "http://127.0.0.1:8000", demo_idp.url, data_api_url=closed_port_url()
    )

    async def run() -> None:
        async with httpx.AsyncClient() as client:
            await check_all(db, client, settings, T0)

    asyncio.run(run())
    board = checks(db)
    assert {board[f"provider:{key}"].state for key in PROVIDERS} == {DOWN}
    assert board["provider:cnaf"].detail == "unreachable (ConnectError)"


def test_target_no_longer_checked_leaves_the_board_and_its_incident_closes(checker, db):
    with db.transaction() as session:
        session.add(
            StatusCheck(target="idp:removed", label="Ancien", state=DOWN, checked_at=T0, since=T0)
        )
        session.add(StatusIncident(target="idp:removed", state=DOWN, started_at=T0))
    board = checker(T0 + 60)
    assert "idp:removed" not in board
    [incident] = incidents(db, "idp:removed")
    assert incident.ended_at == T0 + 60


def test_checks_running_at_once_leave_one_open_incident(
    database_url, var_dir, demo_idp, relay, db, maintenance_simulators
):
    """Two portal processes check at the same minute: still one incident per target."""
    relay.upstreams["cnaf"] = maintenance_simulators
    with running_data_api(database_url, var_dir, demo_idp.url, relay.url) as api_url:
        settings = make_settings(
            database_url, var_dir, "http://127.0.0.1:8000", demo_idp.url, data_api_url=api_url
        )
        other = Database(database_url, offload=True)  # another process's pool, off the loop

        async def run() -> None:
            async with httpx.AsyncClient() as client:
                await asyncio.gather(
                    *(check_all(database, client, settings, T0) for database in (db, other) * 2)
                )

        try:
            asyncio.run(run())
        finally:
            other.dispose()
    assert [(i.state, i.ended_at) for i in incidents(db, "provider:cnaf")] == [(MAINTENANCE, None)]


@pytest.mark.parametrize(
    ("detail", "message", "params"),
    [
        ("retry in 600 s", "nouvel essai dans %(seconds)s s", {"seconds": "600"}),
        ("maintenance", "maintenance", {}),
        ("disabled", "désactivé", {}),
        ("HTTP 504 03001", "réponse HTTP %(status)s", {"status": "504", "code": "03001"}),
        ("HTTP 404", "réponse HTTP %(status)s", {"status": "404"}),
        ("no answer within 0.5 s", "pas de réponse en %(seconds)s s", {"seconds": "0.5"}),
        ("unreachable (ConnectError)", "injoignable", {}),
        ("discovery document is not JSON", "document de découverte illisible", {}),
    ],
)
def test_each_detail_the_checks_write_has_words(detail, message, params):
    words = detail_words(detail)
    assert (words.message, words.params, words.translatable) == (message, params, True)
    assert message % params  # the page formats it with its parameters


def test_an_unknown_detail_is_shown_as_written():
    words = detail_words("Migration en cours %(x)s")
    assert not words.translatable and words.message == "Migration en cours %(x)s"
