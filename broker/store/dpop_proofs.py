"""DPoP proofs already presented (RFC 9449 §11.1), in the ``dpop_proof`` table: a proof is
accepted once, whichever worker or process receives it.

A row is a digest of the proof's key thumbprint and ``jti``, kept until the proof's ``iat``
window closes; after that the proof fails on ``iat`` alone and the row can go
(``purge_expired``, run by ``broker db purge``), ``MAX_SKEW`` seconds later still: the host
that purges and the hosts that check proofs may not read the same time. Recording is one
statement, an insert that does nothing on a conflict: a replay costs no savepoint and no
exception."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite

from broker.core.db import table_of
from broker.oidc.dpop import MAX_SKEW
from broker.store.models import DpopProof

PROOF = table_of(DpopProof)
# RETURNING says whether a row went in (the driver's rowcount is not reliable here).
INSERTS = {
    name: dialect.insert(PROOF)
    .on_conflict_do_nothing(index_elements=["proof_digest"])
    .returning(PROOF.c.proof_digest)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
PURGE = delete(PROOF).where(PROOF.c.expires_at < bindparam("now"))


def remember(conn: Connection, proof_digest: str, expires_at: int) -> bool:
    """Record the proof; False if it already was (in this transaction or a committed one).
    On PostgreSQL a concurrent insert of the same proof waits for the first to commit, then
    does nothing: exactly one of them is told True."""
    statement = INSERTS[conn.dialect.name]
    result = conn.execute(statement, {"proof_digest": proof_digest, "expires_at": expires_at})
    return result.first() is not None


def purge_expired(conn: Connection, now: int) -> int:
    """Rows of proofs that can no longer be accepted anyway, even by a host whose clock is
    ``MAX_SKEW`` behind ``now``; the number deleted."""
    return conn.execute(PURGE, {"now": now - MAX_SKEW}).rowcount
