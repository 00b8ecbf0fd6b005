"""The citizen space's reads of the access journal (``consent.space.journal``), on the
database the tests run on (SQLite, or PostgreSQL with BROKER_DATABASE_URL): each one starts
from an index by person, service and time; a consent's last access is its own (not its
client's, not an earlier consent's); the export walks the whole journal in chunks.

Rows are written here directly: two habilitations of one client, rows an hour apart, a
thousand rows are not worth real flows."""

from __future__ import annotations

import itertools
import secrets

import pytest
from sqlalchemy import Connection, Select, func, insert, select

from broker.core.db import table_of
from broker.store.data_access_models import AccessJournal
from consent.space import journal
from consent.space.journal import ConsentUse

JOURNAL = table_of(AccessJournal)
CITIZEN, OTHER = "citizen-a", "citizen-b"
DIGEST = "d" * 64
NOW = 1_800_000_000
IDS = itertools.count(1)


def row(**fields) -> dict:
    return {
        "at": NOW,
        "request_id": secrets.token_hex(8),
        "service_id": "svc-canteen",
        "habilitation_id": "hab-1",
        "credential": "access_token",
        "credential_id": None,
        "client_id": "client-1",
        "citizen_id": CITIZEN,
        "subject": "pairwise-subject",
        "identity_digest": None,
        "product": "dss/quotient_familial",
        "mode": "france_connect",
        "scopes": ["cnaf_quotient_familial"],
        "recipient": None,
        "outcome": "ok",
        "status": 200,
        "error_code": None,
        "cached": False,
        "latency_ms": 1,
        **fields,
    }


def plan(conn: Connection, statement: Select) -> str:
    """The database's plan for ``statement``. PostgreSQL is told to avoid sequential scans: on
    a near-empty table it rightly prefers them, and the question is whether an index serves."""
    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        return "\n".join(r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))


def scans_the_whole_journal(text: str) -> bool:
    return "SCAN access_journal" in text or "Seq Scan on access_journal" in text


BY_CITIZEN = "ix_access_journal_citizen_service_at"
BY_DIGEST = "ix_access_journal_identity_service_at"


@pytest.mark.parametrize("service", [None, "svc-canteen"])
def test_the_journal_reads_ride_both_indexes(state, service):
    about = journal.matching(CITIZEN, DIGEST, service)
    with state.db.begin() as conn:
        statements = [
            journal.rows_of(about).limit(20),
            select(func.count()).select_from(about),
            journal.rows_of(journal.matching(CITIZEN, DIGEST, service, (NOW, 10))).limit(500),
        ]
        for statement in statements:
            text = plan(conn, statement)
            assert BY_CITIZEN in text and BY_DIGEST in text, text
            assert "ix_access_journal_service_at" not in text, text  # every citizen's rows
            assert not scans_the_whole_journal(text), text


def test_the_services_of_the_filter_ride_both_indexes(state):
    about = journal.matching(CITIZEN, DIGEST)
    with state.db.begin() as conn:
        text = plan(conn, select(about.c.service_id).distinct())
    assert BY_CITIZEN in text and BY_DIGEST in text and not scans_the_whole_journal(text), text


def test_the_last_accesses_ride_the_citizen_index(state):
    uses = [
        ConsentUse("svc-canteen", "client-1", "hab-1", NOW - 100),
        ConsentUse("svc-grant", "client-2", "hab-2", NOW - 50),
    ]
    with state.db.begin() as conn:
        text = plan(conn, journal.last_access_query(CITIZEN, uses))
    assert BY_CITIZEN in text and not scans_the_whole_journal(text), text


def test_a_last_access_is_the_consents_own(state):
    first = ConsentUse("svc-canteen", "client-1", "hab-1", NOW - 3600)
    second = ConsentUse("svc-canteen", "client-1", "hab-2", NOW - 3600)  # same client
    again = ConsentUse("svc-canteen", "client-1", "hab-3", NOW)  # given after the others
    unused = ConsentUse("svc-canteen", "client-9", "hab-1", NOW - 3600)  # another client
    rows = [
        row(at=NOW - 60, habilitation_id="hab-1"),
        row(at=NOW - 30, habilitation_id="hab-2"),
        row(at=NOW - 10, habilitation_id="hab-3"),  # before ``again`` was given
        row(at=NOW - 20, habilitation_id=None, product="identity", credential="userinfo"),
        # Never an access: refused, by API key (nobody named), another citizen's, another
        # service's, before the consent.
        row(at=NOW + 5, habilitation_id="hab-1", status=403),
        row(at=NOW + 6, citizen_id=None, identity_digest=DIGEST, credential="api_key"),
        row(at=NOW + 7, citizen_id=OTHER),
        row(at=NOW + 8, service_id="svc-other"),
        row(at=NOW - 7200, client_id="client-9"),
    ]
    with state.db.begin() as conn:
        conn.execute(insert(JOURNAL), rows)
        found = journal.last_accesses(conn, CITIZEN, [first, second, again, unused])
    # The identity release (20 s ago) counts for every consent of its client; data reads only
    # for their own habilitation.
    assert found == {first: NOW - 20, second: NOW - 20}
    with state.db.begin() as conn:
        conn.execute(insert(JOURNAL), [row(at=NOW + 1, habilitation_id="hab-3")])
        found = journal.last_accesses(conn, CITIZEN, [first, second, again, unused])
    assert found == {first: NOW - 20, second: NOW - 20, again: NOW + 1}


def test_the_export_walks_the_whole_journal_in_chunks(state):
    # Many rows share a second: the walk goes by (at, id), never skipping nor repeating one.
    mine = [
        row(at=NOW - n // 7, citizen_id=CITIZEN if n % 3 else None, identity_digest=DIGEST)
        for n in range(2 * 50 + 13)
    ]
    theirs = [row(at=NOW - n, citizen_id=OTHER, identity_digest="e" * 64) for n in range(20)]
    with state.db.begin() as conn:
        conn.execute(insert(JOURNAL), mine + theirs)
        walked, before, chunks = [], None, 0
        while True:
            rows, before = journal.chunk(conn, CITIZEN, DIGEST, before, size=50)
            walked += rows
            chunks += 1
            if before is None:
                break
        everything = conn.execute(journal.rows_of(journal.matching(CITIZEN, DIGEST))).all()
    assert chunks == 3
    assert [r["request_id"] for r in walked] == [r.request_id for r in everything]
    assert sorted(r["request_id"] for r in walked) == sorted(r["request_id"] for r in mine)
    assert [r["at"] for r in walked] == sorted((r["at"] for r in walked), reverse=True)


def test_attack_a_shared_digest_shows_no_other_citizens_rows(state):
    # Two accounts whose identities fold to one digest (looser folding than the citizen's
    # pivot digest, or an account from before it): the other's token calls stay theirs; the
    # calls by API key, which name no citizen, are found by the digest.
    by_key = row(citizen_id=None, identity_digest=DIGEST, credential="api_key")
    mine = row(identity_digest=DIGEST)
    theirs = row(citizen_id=OTHER, identity_digest=DIGEST)
    with state.db.begin() as conn:
        conn.execute(insert(JOURNAL), [by_key, mine, theirs])
        found = conn.execute(journal.rows_of(journal.matching(CITIZEN, DIGEST))).all()
        page = journal.page_of(conn, CITIZEN, DIGEST, 1)
    assert sorted(r.request_id for r in found) == sorted([by_key["request_id"], mine["request_id"]])
    assert theirs["request_id"] not in {r["request_id"] for r in page.rows}
