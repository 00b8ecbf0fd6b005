"""Usage roll-ups (broker.admin.usage, broker.admin.service_usage) and the figures read from
them (broker.admin.usage_report, broker.admin.service_usage_report), on SQLite and on
PostgreSQL: incremental, idempotent, chunked, one at a time; errors, latency percentiles,
identity releases, consent kinds; calls per calling service with their outcomes."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from broker.admin import usage
from broker.admin.service_usage_report import service_report
from broker.admin.usage_report import (
    ConsentKind,
    Figures,
    Granularity,
    Latency,
    percentile,
    usage_report,
)
from broker.catalogue.products import product
from broker.core.db import Database, table_of
from broker.demo.seed import DEMO_CLIENT_ID, DEMO_SERVICE_NAME
from broker.resources.journal import CallRecord, write_journal
from broker.store.data_access_store import INSERT_JOURNAL
from broker.store.models import Citizen, OAuthClient, Service
from broker.store.portal_models import ConsentDay, RollupCursor, UsageDay, UsageServiceDay
from consent.models import ConsentEvent, ConsentGrant
from tests.conftest import make_settings
from tests.databases import PostgresFactory, SqliteFactory, backend_url

DAY = 86_400
# 2026-12-07 12:00 UTC, a Monday (ISO week 50).
NOW = int(datetime(2026, 12, 7, 12, tzinfo=UTC).timestamp())
LATER = NOW + usage.SETTLE_SECONDS + 1  # when every row written by NOW has settled
POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_server() -> str | None:
    server = make_url(backend_url() or POSTGRES_SERVER).set(database="postgres")
    try:
        psycopg.connect(
            server.set(drivername="postgresql").render_as_string(hide_password=False),
            connect_timeout=3,
        ).close()
    except psycopg.OperationalError:
        return None
    return server.render_as_string(hide_password=False)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def factory(request, tmp_path_factory) -> Iterator[SqliteFactory | PostgresFactory]:
    """A migrated and seeded template per backend, whatever backend the suite runs on."""
    workdir = tmp_path_factory.mktemp("usage")
    built: SqliteFactory | PostgresFactory
    if request.param == "sqlite":
        built = SqliteFactory(workdir)
    else:
        server = postgres_server()
        if server is None:
            pytest.skip("no PostgreSQL server answers")
        built = PostgresFactory(server, f"usage_{uuid.uuid4().hex[:6]}")
    built.build_template(
        make_settings("sqlite://", workdir / "var", "http://127.0.0.1:8000", "http://127.0.0.1:9")
    )
    yield built
    if isinstance(built, PostgresFactory):
        built.close()


@pytest.fixture
def db(factory) -> Iterator[Database]:
    url = factory.create()
    database = Database(url)
    yield database
    database.dispose()
    factory.drop(url)


def journal(db: Database, *rows: dict) -> None:
    """Rows as the data API writes them (its own compiled INSERT), with the given fields."""
    with db.begin() as conn:
        for fields in rows:
            conn.execute(INSERT_JOURNAL, journal_row(**fields))


def journal_row(**fields) -> dict:
    row = {
        "at": NOW - 3600,
        "request_id": uuid.uuid4().hex,
        "service_id": "svc-villebourg",
        "habilitation_id": "hab-1",
        "credential": "api_key",
        "credential_id": "key-1",
        "client_id": None,
        "citizen_id": "citizen-secret-id",
        "subject": "pairwise-subject",
        "identity_digest": "d" * 64,
        "product": "dss/quotient_familial",
        "mode": "identite",
        "scopes": ["cnaf_quotient_familial"],
        "recipient": "21730001500013",
        "outcome": "ok",
        "status": 200,
        "error_code": None,
        "cached": False,
        "latency_ms": 40,
    }
    row.update(fields)
    return row


def roll_up(db: Database, now: int = LATER) -> int:
    with db.transaction() as session:
        return usage.roll_up(session, now)


def usage_rows(db: Database) -> dict[tuple[str, str], tuple]:
    table = table_of(UsageDay)
    with db.connect() as conn:
        return {
            (r.day, r.product): (r.provider, r.calls, r.errors, list(r.latency_buckets))
            for r in conn.execute(select(table))
        }


def service_rows(db: Database) -> dict[tuple[str, str, str], tuple]:
    table = table_of(UsageServiceDay)
    with db.connect() as conn:
        return {
            (r.day, r.product, r.service_id): (r.provider, r.calls, r.errors, dict(r.outcomes))
            for r in conn.execute(select(table))
        }


def consent_rows(db: Database) -> dict[tuple[str, str], int]:
    table = table_of(ConsentDay)
    with db.connect() as conn:
        return {(r.day, r.kind): r.count for r in conn.execute(select(table))}


def buckets(**counts: int) -> list[int]:
    """A histogram from bucket bounds: ``buckets(le50=2, beyond=1)``."""
    values = [0] * usage.BUCKET_COUNT
    for name, count in counts.items():
        index = (
            len(usage.LATENCY_BUCKETS_MS)
            if name == "beyond"
            else usage.LATENCY_BUCKETS_MS.index(int(name[2:]))
        )
        values[index] = count
    return values


def test_calls_errors_and_latency_per_day_and_product(db):
    journal(
        db,
        {"latency_ms": 40},
        {"latency_ms": 50},  # a bound belongs to its bucket
        {"latency_ms": 51, "status": 504, "outcome": "timeout", "error_code": "01504"},
        {"at": NOW - DAY, "latency_ms": 12_000},
        {"product": "cnous/etudiant_boursier", "latency_ms": 3},
    )
    assert roll_up(db) == 5
    assert usage_rows(db) == {
        ("2026-12-07", "dss/quotient_familial"): ("cnaf", 3, 1, buckets(le50=2, le100=1)),
        ("2026-12-06", "dss/quotient_familial"): ("cnaf", 1, 0, buckets(beyond=1)),
        ("2026-12-07", "cnous/etudiant_boursier"): ("cnous", 1, 0, buckets(le10=1)),
    }


def test_answers_to_the_caller_are_not_errors_failures_are(db):
    answers = [
        (404, "not_found"),  # no record about this person: an answer
        (401, "unauthorized"),
        (403, "forbidden"),
        (422, "invalid_parameters"),
        (422, "provider_invalid_input"),
        (429, "rate_limited"),
    ]
    failures = [
        (500, "server_error"),
        (502, "provider_error"),
        (503, "maintenance"),
        (503, "unavailable"),
        (503, "store_unavailable"),
        (504, "timeout"),
    ]
    journal(db, *({"status": s, "outcome": o} for s, o in answers + failures))
    roll_up(db)
    (row,) = usage_rows(db).values()
    assert row[1:3] == (len(answers) + len(failures), len(failures))


def test_identity_releases_are_not_data_api_calls(db):
    journal(
        db,
        {"product": "identity", "mode": "openid", "credential": "userinfo"},
        {"product": "identity", "mode": "openid", "credential": "userinfo"},
        {},
    )
    assert roll_up(db) == 3  # read, and passed: not read again
    assert list(usage_rows(db)) == [("2026-12-07", "dss/quotient_familial")]
    assert roll_up(db) == 0


def test_roll_up_is_incremental_and_idempotent(db):
    journal(db, {}, {"status": 503, "outcome": "maintenance"})
    assert roll_up(db) == 2
    first = usage_rows(db)
    assert roll_up(db) == 0
    assert roll_up(db) == 0
    assert usage_rows(db) == first

    journal(db, {"latency_ms": 700}, {"at": NOW - 2 * DAY})
    assert roll_up(db) == 2
    rows = usage_rows(db)
    assert rows[("2026-12-07", "dss/quotient_familial")] == (
        "cnaf",
        3,
        1,
        buckets(le50=2, le1000=1),
    )
    assert rows[("2026-12-05", "dss/quotient_familial")][1] == 1


def test_rolled_back_roll_up_leaves_nothing_behind(db):
    journal(db, {}, {})
    with pytest.raises(RuntimeError), db.transaction() as session:
        assert usage.roll_up(session, LATER) == 2
        raise RuntimeError("the caller failed after the roll-up")
    assert usage_rows(db) == {}
    assert service_rows(db) == {}
    assert roll_up(db) == 2  # read again, counted once
    assert usage_rows(db)[("2026-12-07", "dss/quotient_familial")][1] == 2
    assert service_rows(db)[("2026-12-07", "dss/quotient_familial", "svc-villebourg")][1] == 2


def test_rows_are_read_in_bounded_chunks(db, monkeypatch):
    monkeypatch.setattr(usage, "CHUNK_ROWS", 3)
    chunk_sizes: list[int] = []
    real_chunk = usage.settled_chunk

    def counting_chunk(*args, **kwargs):
        rows, more = real_chunk(*args, **kwargs)
        chunk_sizes.append(len(rows))
        return rows, more

    monkeypatch.setattr(usage, "settled_chunk", counting_chunk)
    journal(db, *({"latency_ms": n} for n in range(10)))
    assert roll_up(db) == 10
    assert max(chunk_sizes) == 3
    assert sum(chunk_sizes) == 10
    assert usage_rows(db)[("2026-12-07", "dss/quotient_familial")][1] == 10
    with db.connect() as conn:
        cursor = conn.execute(
            select(table_of(RollupCursor).c.last_id).where(
                table_of(RollupCursor).c.name == usage.JOURNAL_CURSOR
            )
        ).scalar()
        last_id = conn.execute(select(func.max(usage.JOURNAL.c.id))).scalar()
    assert cursor == last_id


def test_rows_not_settled_yet_wait_for_the_next_run(db):
    journal(db, {"at": NOW - 600}, {"at": NOW - 10}, {"at": NOW - 700})
    # The second row is too recent: the run stops before it, even though a later id is old.
    assert roll_up(db, now=NOW) == 1
    assert usage_rows(db)[("2026-12-07", "dss/quotient_familial")][1] == 1
    assert roll_up(db, now=NOW + usage.SETTLE_SECONDS) == 2
    assert usage_rows(db)[("2026-12-07", "dss/quotient_familial")][1] == 3


def test_rows_written_by_the_real_journal_writer(db):
    call = CallRecord(
        product=product("mesri/statut_etudiant"),
        mode="ine",
        request_id="req-1",
        started=time.perf_counter(),
    )
    assert write_journal(db, call, "not_found", 404, "04003")
    assert write_journal(db, call, "timeout", 504, "04504")
    assert roll_up(db, now=int(time.time()) + usage.SETTLE_SECONDS + 1) == 2
    ((_, provider_calls_errors),) = [
        (key, row[:3]) for key, row in usage_rows(db).items() if key[1] == "mesri/statut_etudiant"
    ]
    assert provider_calls_errors == ("mesri", 2, 1)


def test_the_provider_comes_from_the_catalogue():
    assert usage.provider_of("dss/quotient_familial") == "cnaf"  # served by the CNAF
    assert usage.provider_of("dss/prime_activite") == "dss"
    assert usage.provider_of("retired/product") == "retired"


def test_concurrent_roll_ups_count_each_row_once(db):
    journal(db, *({} for _ in range(50)))
    results: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def run() -> None:
        try:
            start.wait()
            results.append(roll_up(db))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == [0, 0, 50]
    assert usage_rows(db)[("2026-12-07", "dss/quotient_familial")][1] == 50
    assert service_rows(db)[("2026-12-07", "dss/quotient_familial", "svc-villebourg")][1] == 50


# -- percentiles ---------------------------------------------------------------------------


def test_percentiles_are_the_upper_bound_of_their_bucket():
    histogram = buckets(le10=50, le100=40, le1000=9, le5000=1)  # 100 calls
    assert percentile(histogram, 0.50) == Latency(10)  # the 50th call is in the first bucket
    assert percentile(histogram, 0.51) == Latency(100)
    assert percentile(histogram, 0.95) == Latency(1000)
    assert percentile(histogram, 0.99) == Latency(1000)
    assert percentile(histogram, 1.0) == Latency(5000)
    assert percentile(buckets(), 0.5) is None
    assert percentile(buckets(le25=1, beyond=19), 0.95) == Latency(10_000, beyond=True)
    figures = Figures(calls=100, errors=5, buckets=tuple(histogram))
    assert (figures.p50, figures.p95, figures.error_share) == (Latency(10), Latency(1000), 0.05)


def test_figures_add_up_across_days_and_products(db):
    journal(
        db,
        *({"latency_ms": 5} for _ in range(19)),
        {"at": NOW - DAY, "latency_ms": 9000, "product": "dss/prime_activite"},
    )
    roll_up(db)
    with db.reader() as session:
        report = usage_report(session, now=NOW, granularity=Granularity.DAY)
    assert report.total.calls == 20
    assert report.total.p50 == Latency(10)
    assert report.total.p95 == Latency(10)  # the 19th of 20 calls
    assert [(line.key, line.figures.calls) for line in report.providers] == [
        ("cnaf", 19),
        ("dss", 1),
    ]
    assert report.providers[1].figures.p95 == Latency(10_000)


# -- reports -------------------------------------------------------------------------------


def test_report_per_day_covers_the_last_30_days(db):
    journal(db, {}, {"at": NOW - 29 * DAY}, {"at": NOW - 30 * DAY}, {"at": NOW - 31 * DAY})
    roll_up(db)
    with db.reader() as session:
        report = usage_report(session, now=NOW, granularity=Granularity.DAY)
    assert len(report.periods) == 30
    assert (report.periods[0].key, report.periods[-1].key) == ("2026-11-08", "2026-12-07")
    assert report.per_period[0].calls == 1 and report.per_period[-1].calls == 1
    assert report.total.calls == 2  # the two older days are out of range


def test_report_per_iso_week_covers_the_last_12_weeks(db):
    sunday = NOW - DAY  # 2026-12-06, the last day of ISO week 49
    journal(
        db,
        {},
        {"at": sunday},
        {"at": sunday - 6 * DAY},  # Monday 2026-11-30, still week 49
        {"at": NOW - 11 * 7 * DAY},  # Monday of week 39, the first week shown
        {"at": NOW - 12 * 7 * DAY},  # week 38: out of range
    )
    roll_up(db)
    with db.reader() as session:
        report = usage_report(session, now=NOW, granularity=Granularity.WEEK)
    keys = [p.key for p in report.periods]
    assert len(keys) == 12 and keys[0] == "2026-W39" and keys[-1] == "2026-W50"
    calls = dict(zip(keys, (f.calls for f in report.per_period), strict=True))
    assert (calls["2026-W50"], calls["2026-W49"], calls["2026-W39"]) == (1, 2, 1)
    assert report.total.calls == 4


def test_report_for_a_data_provider_holds_only_its_products(db):
    journal(
        db,
        {"product": "dss/quotient_familial"},  # CNAF
        {"product": "dss/prime_activite"},  # DSS
        {"product": "cnous/etudiant_boursier"},
    )
    roll_up(db)
    with db.reader() as session:
        report = usage_report(
            session, now=NOW, granularity=Granularity.DAY, providers=frozenset({"dss"})
        )
    assert [line.key for line in report.products] == ["dss/prime_activite"]
    assert [line.key for line in report.providers] == ["dss"]
    assert report.total.calls == 1
    assert report.consents == []  # consents are the platform's, not a provider's


# -- per calling service ---------------------------------------------------------------------


def test_calls_per_service_and_outcome_in_the_same_pass(db):
    journal(
        db,
        {},
        {"status": 404, "outcome": "not_found", "error_code": "01003"},
        {"status": 504, "outcome": "timeout", "error_code": "01504"},
        {"service_id": "svc-val-fleuri"},
        {"at": NOW - DAY},
        {"product": "cnous/etudiant_boursier", "service_id": "svc-val-fleuri"},
        {"service_id": None, "status": 401, "outcome": "unauthorized"},  # caller unknown
        {"product": "identity", "mode": "openid", "credential": "userinfo"},  # not counted
    )
    assert roll_up(db) == 8
    assert service_rows(db) == {
        ("2026-12-07", "dss/quotient_familial", "svc-villebourg"): (
            "cnaf", 3, 1, {"ok": 1, "not_found": 1, "timeout": 1},
        ),
        ("2026-12-06", "dss/quotient_familial", "svc-villebourg"): ("cnaf", 1, 0, {"ok": 1}),
        ("2026-12-07", "dss/quotient_familial", "svc-val-fleuri"): ("cnaf", 1, 0, {"ok": 1}),
        ("2026-12-07", "cnous/etudiant_boursier", "svc-val-fleuri"): ("cnous", 1, 0, {"ok": 1}),
        ("2026-12-07", "dss/quotient_familial", ""): ("cnaf", 1, 0, {"unauthorized": 1}),
    }  # fmt: skip
    # The per-service rows add up to the public figures, day by day and product by product.
    added_up: dict[tuple[str, str], tuple[int, int]] = {}
    for (day, product_key, _), (_, calls, errors, outcomes) in service_rows(db).items():
        assert sum(outcomes.values()) == calls
        before = added_up.get((day, product_key), (0, 0))
        added_up[(day, product_key)] = (before[0] + calls, before[1] + errors)
    assert added_up == {key: row[1:3] for key, row in usage_rows(db).items()}


def test_outcomes_of_a_service_add_up_across_runs(db):
    journal(db, {}, {"status": 503, "outcome": "maintenance"})
    roll_up(db)
    journal(
        db, {}, {"status": 404, "outcome": "not_found"}, {"status": 503, "outcome": "maintenance"}
    )
    assert roll_up(db) == 3
    assert roll_up(db) == 0
    assert service_rows(db) == {
        ("2026-12-07", "dss/quotient_familial", "svc-villebourg"): (
            "cnaf", 5, 2, {"ok": 2, "maintenance": 2, "not_found": 1},
        )
    }  # fmt: skip


def demo_service_id(db: Database) -> str:
    services = table_of(Service)
    with db.connect() as conn:
        return conn.execute(
            select(services.c.id).where(services.c.name == DEMO_SERVICE_NAME)
        ).scalar_one()


def test_service_report_names_the_callers_of_a_providers_products(db):
    villebourg = demo_service_id(db)
    journal(
        db,
        *({"service_id": villebourg} for _ in range(3)),
        {"service_id": villebourg, "status": 504, "outcome": "timeout"},
        {"service_id": villebourg, "status": 404, "outcome": "not_found", "at": NOW - 5 * DAY},
        {"service_id": villebourg, "at": NOW - 30 * DAY},  # out of the 30 days shown
        {"service_id": "svc-removed"},  # no such service any more
        {"service_id": None, "status": 401, "outcome": "unauthorized"},
        {"service_id": villebourg, "product": "dss/prime_activite"},  # the DSS's
        {"service_id": villebourg, "product": "cnous/etudiant_boursier"},
    )
    roll_up(db)
    with db.reader() as session:
        report = service_report(
            session, now=NOW, granularity=Granularity.DAY, providers=frozenset({"cnaf"})
        )
        everything = service_report(session, now=NOW, granularity=Granularity.WEEK)
    assert [
        (line.service_name, line.product, line.calls, line.errors, line.outcomes)
        for line in report.lines
    ] == [
        (DEMO_SERVICE_NAME, "dss/quotient_familial", 5, 1, {"ok": 3, "not_found": 1, "timeout": 1}),
        (None, "dss/quotient_familial", 1, 0, {"ok": 1}),  # removed: named by its id on the page
        (None, "dss/quotient_familial", 1, 0, {"unauthorized": 1}),
    ]  # fmt: skip
    assert [line.identified for line in report.lines] == [True, True, False]
    assert report.lines[0].error_share == 0.2
    assert report.outcomes == {"ok": 4, "not_found": 1, "timeout": 1, "unauthorized": 1}
    assert report.calls == 7
    # An administrator's view: every provider; the week view reaches back 12 weeks.
    assert {line.provider for line in everything.lines} == {"cnaf", "dss", "cnous"}
    assert everything.calls == 10


# -- consents ------------------------------------------------------------------------------


def consent_events(db: Database, *events: tuple[str, int]) -> None:
    """Events of a grant of the demo service, inserted as the ledger writes them."""
    grant_id = uuid.uuid4().hex
    with db.begin() as conn:
        client = conn.execute(
            select(table_of(OAuthClient)).where(table_of(OAuthClient).c.client_id == DEMO_CLIENT_ID)
        ).one()
        citizen_id = uuid.uuid4().hex
        conn.execute(
            insert(table_of(Citizen)).values(
                id=citizen_id, idp="demo", idp_subject=citizen_id, given_name="Camille",
                family_name="Martin", birthdate="1990-01-01", gender="female",
                birthcountry="99100", created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
        conn.execute(
            insert(table_of(ConsentGrant)).values(
                id=grant_id, citizen_id=citizen_id, client_id=DEMO_CLIENT_ID,
                service_id=client.service_id, status="active", mode="recurring",
                created_at=NOW,
            )
        )  # fmt: skip
        for kind, at in events:
            conn.execute(
                insert(table_of(ConsentEvent)).values(
                    grant_id=grant_id, kind=kind, scopes=[], wording={}, at=at
                )
            )


def test_consent_events_are_rolled_up_per_day_and_kind(db):
    consent_events(db, ("granted", NOW - 100), ("narrowed", NOW - 50), ("revoked", NOW - 40))
    consent_events(db, ("refused", NOW - DAY))
    consent_events(db, ("granted", NOW - DAY), ("expired", NOW - 30))
    assert roll_up(db) == 6
    assert consent_rows(db) == {
        ("2026-12-07", "granted"): 1,
        ("2026-12-07", "narrowed"): 1,
        ("2026-12-07", "revoked"): 1,
        ("2026-12-07", "expired"): 1,
        ("2026-12-06", "refused"): 1,
        ("2026-12-06", "granted"): 1,
    }
    consent_events(db, ("granted", NOW - 20))
    assert roll_up(db) == 1
    assert consent_rows(db)[("2026-12-07", "granted")] == 2
    with db.reader() as session:
        report = usage_report(session, now=NOW, granularity=Granularity.DAY)
    assert report.consent_totals == {
        ConsentKind.GRANTED: 3,
        ConsentKind.REFUSED: 1,
        ConsentKind.REVOKED: 1,  # shown as withdrawn: narrowed and expired stay apart
        ConsentKind.NARROWED: 1,
        ConsentKind.EXPIRED: 1,
    }
    assert report.consents[-1][ConsentKind.GRANTED] == 2
