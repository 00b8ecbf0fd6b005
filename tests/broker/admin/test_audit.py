"""The audit trail: entries chained by digests, written in the caller's transaction, refused
to UPDATE and DELETE by the database, and any edit, deletion or insertion made by someone who
bypasses that (raw SQL, triggers dropped) found by ``verify`` at the entry where it happened."""

from __future__ import annotations

import datetime
import hashlib
import json
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from broker.admin import audit
from broker.admin.audit import GENESIS_DIGEST, AuditError, Break, record, verify
from broker.core.db import Database
from tests.databases import backend_url


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def head(db: Database) -> int:
    with db.reader() as session:
        return session.execute(text("SELECT COALESCE(MAX(seq), 0) FROM audit_entry")).scalar_one()


def append(db: Database, count: int, action: str = "client.update") -> list[int]:
    """``count`` entries, one transaction each; their seqs."""
    start = head(db)
    for n in range(count):
        with db.transaction() as session:
            record(
                session,
                actor="agent:a1 alice@villebourg.fr",
                action=action,
                target_type="client",
                target_id=f"client-{n}",
                before={"redirect_uris": ["https://a.example/cb"], "name": "Cantine"},
                after={"redirect_uris": ["https://b.example/cb"], "name": "Cantine é"},
            )
    return list(range(start + 1, start + count + 1))


def rows(db: Database) -> list[dict]:
    with db.reader() as session:
        result = session.execute(text("SELECT * FROM audit_entry ORDER BY seq"))
        return [dict(row._mapping) for row in result]


def tamper(db: Database, *statements: str) -> None:
    """What someone owning the database can do: switch the append-only triggers off and
    run raw SQL."""
    with db.begin() as conn:
        if db.networked:
            conn.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_entry_no_delete"))
        for statement in statements:
            conn.execute(text(statement))


def as_json(value) -> object:
    return json.loads(value) if isinstance(value, str) else value


def test_chain_built_right(db):
    seqs = append(db, 3)
    entries = [row for row in rows(db) if row["seq"] in seqs]
    previous = GENESIS_DIGEST if seqs[0] == 1 else rows(db)[seqs[0] - 2]["digest"]
    for row in entries:
        assert row["previous_digest"] == previous
        fields = {
            name: as_json(row[name]) if name in ("before", "after") else row[name]
            for name in (
                "seq", "at", "actor", "action", "target_type", "target_id",
                "before", "after", "previous_digest",
            )
        }  # fmt: skip
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert row["digest"] == hashlib.sha256(canonical.encode()).hexdigest()
        previous = row["digest"]
    assert [row["seq"] for row in entries] == seqs
    assert as_json(entries[0]["after"])["name"] == "Cantine é"
    result = verify_now(db)
    assert result.intact and result.checked == seqs[-1]
    assert (result.head_seq, result.head_digest) == (seqs[-1], previous)


def verify_now(db: Database) -> audit.VerifyResult:
    with db.reader() as session:
        return verify(session)


def test_first_entry_chains_to_genesis(db):
    tamper(db, "DELETE FROM audit_entry")  # whatever the seed wrote, for a trail from zero
    assert verify_now(db).checked == 0
    append(db, 1)
    assert rows(db)[0]["seq"] == 1
    assert rows(db)[0]["previous_digest"] == GENESIS_DIGEST


def test_entry_rolled_back_with_the_change(db):
    before = head(db)
    with pytest.raises(RuntimeError), db.transaction() as session:
        record(
            session,
            actor="cli:root",
            action="client.update",
            target_type="client",
            target_id="c1",
            before=None,
            after={"name": "x"},
        )
        raise RuntimeError("the change failed after its entry was written")
    assert head(db) == before


def test_attack_edited_audit_row_detected(db):
    seqs = append(db, 4)
    edited = seqs[2]
    tamper(db, f"""UPDATE audit_entry SET after = '{{"name": "Forged"}}' WHERE seq = {edited}""")
    assert as_json(rows(db)[edited - 1]["after"]) == {"name": "Forged"}
    result = verify_now(db)
    assert (result.broken_seq, result.reason) == (edited, Break.EDITED)
    assert result.checked == edited - 1
    assert "broken at seq" in result.describe()


def test_attack_edited_actor_detected(db):
    seqs = append(db, 2)
    tamper(db, f"UPDATE audit_entry SET actor = 'cli:someone-else' WHERE seq = {seqs[0]}")
    assert verify_now(db).broken_seq == seqs[0]


def test_attack_deleted_audit_row_detected(db):
    seqs = append(db, 4)
    tamper(db, f"DELETE FROM audit_entry WHERE seq = {seqs[1]}")
    result = verify_now(db)
    assert (result.broken_seq, result.reason) == (seqs[2], Break.GAP)


def test_attack_deleted_row_and_renumbered_detected(db):
    """Closing the gap left by a deleted row: the next entry no longer follows its neighbour."""
    seqs = append(db, 4)
    tamper(
        db,
        f"DELETE FROM audit_entry WHERE seq = {seqs[1]}",
        f"UPDATE audit_entry SET seq = seq + 100000 WHERE seq > {seqs[1]}",
        "UPDATE audit_entry SET seq = seq - 100001 WHERE seq > 100000",
    )
    result = verify_now(db)
    assert (result.broken_seq, result.reason) == (seqs[1], Break.UNLINKED)


def test_attack_deleted_first_row_detected(db):
    tamper(db, "DELETE FROM audit_entry")
    append(db, 3)
    tamper(db, "DELETE FROM audit_entry WHERE seq = 1")
    result = verify_now(db)
    assert (result.broken_seq, result.reason, result.checked) == (2, Break.GAP, 0)


def test_attack_inserted_forged_row_detected(db):
    """A forged entry slipped in the middle, its digest rightly computed over the entry
    before it: the entry after it was chained to another digest."""
    seqs = append(db, 3)
    first = rows(db)[seqs[0] - 1]
    forged_seq = seqs[1]
    forged = audit.entry_digest(
        seq=forged_seq,
        at=first["at"],
        actor="cli:root",
        action="habilitation.approve",
        target_type="habilitation",
        target_id="h-forged",
        before=None,
        after={"status": "approved"},
        previous_digest=first["digest"],
    )
    tamper(
        db,
        f"UPDATE audit_entry SET seq = seq + 100000 WHERE seq >= {forged_seq}",
        "UPDATE audit_entry SET seq = seq - 99999 WHERE seq > 100000",
        "INSERT INTO audit_entry (seq, at, actor, action, target_type, target_id, before, "
        f"after, previous_digest, digest) VALUES ({forged_seq}, {first['at']}, 'cli:root', "
        "'habilitation.approve', 'habilitation', 'h-forged', NULL, "
        f"""'{{"status": "approved"}}', '{first["digest"]}', '{forged}')""",
    )
    result = verify_now(db)
    assert (result.broken_seq, result.reason) == (forged_seq + 1, Break.UNLINKED)


def test_attack_forged_row_appended_with_a_wrong_digest_detected(db):
    seqs = append(db, 2)
    last = rows(db)[-1]
    tamper(
        db,
        "INSERT INTO audit_entry (seq, at, actor, action, target_type, target_id, before, "
        f"after, previous_digest, digest) VALUES ({seqs[-1] + 1}, 1, 'cli:root', 'x.y', 't', "
        f"""'i', NULL, NULL, '{last["digest"]}', '{"f" * 64}')""",
    )
    assert (verify_now(db).broken_seq, verify_now(db).reason) == (seqs[-1] + 1, Break.EDITED)


@pytest.mark.parametrize(
    "statement",
    [
        """UPDATE audit_entry SET after = '{"name": "Forged"}'""",
        "UPDATE audit_entry SET digest = digest",
        "DELETE FROM audit_entry",
    ],
)
def test_attack_audit_update_refused_by_database(db, statement):
    seqs = append(db, 2)
    before = rows(db)
    with pytest.raises(DBAPIError, match="append-only"), db.begin() as conn:
        conn.execute(text(statement))
    assert rows(db) == before
    assert verify_now(db).head_seq == seqs[-1]


@pytest.mark.parametrize(
    "after",
    [
        {"client_secret": "s3cr3t"},
        {"jwks": {"keys": [{"kid": "k1", "private_key": "..."}]}},
        {"api_key": "ak_123"},
        {"Password": "hunter2"},
        {"secret_digest": "ab" * 32},
        {"keys": [{"key_digest": "ab"}]},
    ],
)
def test_secrets_refused(db, after):
    before = head(db)
    with pytest.raises(AuditError, match="looks like a secret"), db.transaction() as session:
        record(
            session,
            actor="cli:root",
            action="client.update",
            target_type="client",
            target_id="c1",
            before=None,
            after=after,
        )
    assert head(db) == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"after": {"when": datetime.date(2026, 12, 6)}}, "plain JSON"),
        ({"before": {"logo": b"\x89PNG"}}, "plain JSON"),
        ({"after": {"ratio": float("nan")}}, "plain JSON"),
        ({"after": ["not", "a", "dict"]}, "must be a dict"),
        ({"actor": ""}, "actor must be a non-empty string"),
        ({"target_id": "x" * 65}, "target_id is longer than 64"),
    ],
)
def test_entry_that_is_not_plain_data_refused(db, fields, message):
    values = {
        "actor": "cli:root",
        "action": "client.update",
        "target_type": "client",
        "target_id": "c1",
        "before": None,
        "after": None,
    } | fields
    with pytest.raises(AuditError, match=message), db.transaction() as session:
        record(session, **values)


def test_verify_walks_the_chain_in_chunks(db, monkeypatch):
    monkeypatch.setattr(audit, "VERIFY_CHUNK", 2)
    seqs = append(db, 7)
    assert verify_now(db).checked == seqs[-1]
    tamper(db, f"""UPDATE audit_entry SET before = '{{}}' WHERE seq = {seqs[5]}""")
    assert verify_now(db).broken_seq == seqs[5]


def test_entries_newest_first_filtered_and_paged(db):
    append(db, 3, action="client.update")
    append(db, 2, action="client.rotate_secret")
    append(db, 1, action="api_key.issue")
    top = head(db)
    with db.reader() as session:
        page = audit.entries(session, limit=2, before_seq=None)
        assert [e.seq for e in page] == [top, top - 1]
        following = audit.entries(session, limit=2, before_seq=page[-1].seq)
        assert [e.seq for e in following] == [top - 2, top - 3]
        family = audit.entries(session, limit=10, before_seq=None, action="client")
        assert len(family) == 5
        assert {e.action for e in family} == {"client.update", "client.rotate_secret"}
        exact = audit.entries(session, limit=10, before_seq=None, action="client.update")
        assert len(exact) == 3
        assert audit.entries(session, limit=10, before_seq=None, action="client_") == []
        by_id = audit.entries(session, limit=10, before_seq=None, target="client-1")
        assert len(by_id) == 2
        typed = audit.entries(session, limit=10, before_seq=None, target="client:client-0")
        assert len(typed) == 3
        assert audit.entries(session, limit=10, before_seq=None, target="key:client-0") == []
        assert {"api_key.issue", "client.update"} <= set(audit.actions(session))


@pytest.mark.skipif(backend_url() is None, reason="concurrent writers: PostgreSQL")
def test_concurrent_appends_keep_one_chain(db):
    """Two connections appending at once, each holding its transaction open a moment after
    its entry: without the advisory lock both would read the same head and one would fail."""
    start = head(db)
    per_thread = 8
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def writer(name: str) -> None:
        barrier.wait()
        try:
            for n in range(per_thread):
                with db.transaction() as session:
                    record(
                        session,
                        actor=f"cli:{name}",
                        action="client.update",
                        target_type="client",
                        target_id=f"{name}-{n}",
                        before=None,
                        after={"n": n},
                    )
                    time.sleep(0.02)
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    result = verify_now(db)
    assert result.intact
    assert result.head_seq == start + 2 * per_thread
    assert len({row["previous_digest"] for row in rows(db)}) == len(rows(db))


@pytest.mark.skipif(backend_url() is None, reason="TRUNCATE: PostgreSQL (SQLite has none)")
def test_attack_audit_truncate_refused_by_database(db):
    """TRUNCATE skips DELETE triggers and would empty the trail without breaking a link."""
    seqs = append(db, 2)
    before = rows(db)
    with pytest.raises(DBAPIError, match="append-only"), db.begin() as conn:
        conn.execute(text("TRUNCATE audit_entry"))
    assert rows(db) == before
    assert verify_now(db).head_seq == seqs[-1]


def verify_with_head(db: Database, digest: str) -> audit.VerifyResult:
    with db.reader() as session:
        return verify(session, head=digest)


def test_head_noted_earlier_is_found_while_the_trail_only_grows(db):
    append(db, 2)
    noted = verify_now(db).head_digest
    append(db, 2)
    result = verify_with_head(db, noted)
    assert result.intact and result.head_found is True and result.trusted
    assert verify_now(db).head_found is None  # no anchor asked


def test_attack_truncated_tail_fails_against_the_noted_head(db):
    """Deleting the newest entries leaves an intact chain: only the noted head shows it."""
    seqs = append(db, 3)
    noted = verify_now(db).head_digest
    tamper(db, f"DELETE FROM audit_entry WHERE seq >= {seqs[1]}")
    result = verify_with_head(db, noted)
    assert result.intact and result.head_found is False and not result.trusted
    assert "cut off or rewritten" in result.describe()


def test_attack_rewritten_tail_fails_against_the_noted_head(db):
    """The newest entry replaced by another, rightly chained and digested: intact, yet the
    noted head is gone."""
    seqs = append(db, 2)
    noted = verify_now(db).head_digest
    last = rows(db)[-1]
    forged = audit.entry_digest(
        seq=seqs[-1],
        at=last["at"],
        actor="cli:root",
        action="habilitation.approve",
        target_type="habilitation",
        target_id="h-forged",
        before=None,
        after=None,
        previous_digest=last["previous_digest"],
    )
    tamper(
        db,
        f"DELETE FROM audit_entry WHERE seq = {seqs[-1]}",
        "INSERT INTO audit_entry (seq, at, actor, action, target_type, target_id, before, "
        f"after, previous_digest, digest) VALUES ({seqs[-1]}, {last['at']}, 'cli:root', "
        "'habilitation.approve', 'habilitation', 'h-forged', NULL, NULL, "
        f"""'{last["previous_digest"]}', '{forged}')""",
    )
    assert verify_now(db).intact
    assert verify_with_head(db, noted).head_found is False
