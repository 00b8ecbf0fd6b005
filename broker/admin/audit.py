"""The audit trail: every change made through the portal or the CLI, append-only and chained.

Each entry's digest is a SHA-256 over a canonical JSON of its fields and of the previous
entry's digest, so that editing, deleting or inserting a row in the middle of the trail breaks
the chain at that row, even for someone who can bypass the database's append-only triggers.
A chain alone cannot show a truncated tail, or a tail rewritten from some entry on:
``VerifyResult.head_digest`` is what an operator copies elsewhere to anchor it, and
``verify(session, head=DIGEST)`` later fails unless that digest is still in the intact chain.
(On PostgreSQL the database also refuses TRUNCATE; SQLite has no such statement.)
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, insert, or_, text
from sqlmodel import Session, col, select

from broker.core.db import table_of
from broker.store.portal_models import AuditEntry

GENESIS_DIGEST = "0" * 64
# Any fixed 64-bit number: the key of the PostgreSQL advisory lock that serialises appends.
APPEND_LOCK_KEY = 0x6175_6469_745F_7472  # "audit_tr"
VERIFY_CHUNK = 500
SECRET_KEY_WORDS = ("secret", "api_key", "password", "digest", "private")
FIELD_LIMITS = {"actor": 200, "action": 60, "target_type": 40, "target_id": 64}


class AuditError(ValueError):
    """An entry that must not be written (a secret in it, data that is not plain JSON)."""


class Break(StrEnum):
    """Why the chain breaks at an entry."""

    EDITED = "edited"  # its digest does not match its content: the row was changed
    UNLINKED = "unlinked"  # it does not follow the previous entry: a row deleted or inserted
    GAP = "gap"  # its seq does not follow the previous one: a row deleted


@dataclass(frozen=True)
class VerifyResult:
    checked: int  # entries found intact before the break (all of them when intact)
    broken_seq: int | None = None
    reason: Break | None = None
    head_seq: int = 0
    head_digest: str = GENESIS_DIGEST
    # The anchor asked for (``verify(head=…)``) found among the intact entries; None: none asked.
    head_found: bool | None = None

    @property
    def intact(self) -> bool:
        return self.broken_seq is None

    @property
    def trusted(self) -> bool:
        """Intact, and still holding the anchor when one was given."""
        return self.intact and self.head_found is not False

    def describe(self) -> str:
        if not self.intact:
            return f"chain broken at seq {self.broken_seq}: {self.reason}"
        if self.head_found is False:
            return (
                f"chain intact ({self.checked} entries) but the given head digest is not in it: "
                "its tail was cut off or rewritten"
            )
        return f"chain intact: {self.checked} entries verified"


def cli_actor() -> str:
    """How the trail names whoever runs a ``broker`` command: their operating system user."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment nor the user database
        user = "unknown"
    return f"cli:{user}"[: FIELD_LIMITS["actor"]]


def canonical_json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def entry_digest(
    *,
    seq: int,
    at: int,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    previous_digest: str,
) -> str:
    fields = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "before": before,
        "after": after,
        "previous_digest": previous_digest,
    }
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


def digest_of(entry: AuditEntry) -> str:
    return entry_digest(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        before=entry.before,
        after=entry.after,
        previous_digest=entry.previous_digest,
    )


def refuse_secrets(value: Any, path: str) -> None:
    """Refuses keys that name a secret, at any depth: a secret must never reach the trail,
    not even its digest (the trail cannot be cleaned afterwards)."""
    if isinstance(value, dict):
        for key, item in value.items():
            lowered = str(key).lower()
            word = next((w for w in SECRET_KEY_WORDS if w in lowered), None)
            if word is not None:
                raise AuditError(
                    f"audit {path}: key {key!r} looks like a secret ({word!r}); "
                    "record that it changed (e.g. 'rotated': true), never its value"
                )
            refuse_secrets(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            refuse_secrets(item, f"{path}[{index}]")


def plain_data(value: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    """``value`` as it will read back from the database (JSON round trip), so that the digest
    computed now is the digest verified later."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise AuditError(f"audit {name} must be a dict or None, not {type(value).__name__}")
    refuse_secrets(value, name)
    try:
        loaded: dict[str, Any] = json.loads(canonical_json(value))
    except (TypeError, ValueError) as exc:
        raise AuditError(f"audit {name} must be plain JSON data: {exc}") from exc
    return loaded


def check_fields(fields: dict[str, str]) -> None:
    for name, limit in FIELD_LIMITS.items():
        value = fields[name]
        if not isinstance(value, str) or not value.strip():
            raise AuditError(f"audit {name} must be a non-empty string")
        if len(value) > limit:
            raise AuditError(f"audit {name} is longer than {limit} characters")


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Appends an entry in the caller's transaction: it is committed, or rolled back, with the
    change it describes."""
    check_fields(
        {"actor": actor, "action": action, "target_type": target_type, "target_id": target_id}
    )
    before = plain_data(before, "before")
    after = plain_data(after, "after")
    if session.get_bind().dialect.name == "postgresql":
        # Concurrent writers wait here in turn, each then reading the head the previous one
        # committed. (On SQLite writers are serialised by the database lock; on any database
        # a race left over fails on the seq primary key instead of forking the chain.)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
    head = session.execute(
        select(AuditEntry.seq, AuditEntry.digest).order_by(col(AuditEntry.seq).desc()).limit(1)
    ).first()
    seq, previous = (head[0] + 1, head[1]) if head is not None else (1, GENESIS_DIGEST)
    at = int(time.time())
    digest = entry_digest(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
        previous_digest=previous,
    )
    session.execute(
        insert(table_of(AuditEntry)).values(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            before=before,
            after=after,
            previous_digest=previous,
            digest=digest,
        )
    )


def chain(session: Session) -> Iterator[AuditEntry]:
    """All entries in seq order, read a chunk at a time, as plain rows (not kept in the
    session: memory stays flat on a long trail)."""
    table = table_of(AuditEntry)
    last = 0
    while True:
        rows = session.execute(
            table.select().where(table.c.seq > last).order_by(table.c.seq).limit(VERIFY_CHUNK)
        ).all()
        if not rows:
            return
        for row in rows:
            yield AuditEntry.model_construct(**row._asdict())
        last = rows[-1].seq


def verify(session: Session, head: str | None = None) -> VerifyResult:
    """Walks the chain and reports the first entry that breaks it; with ``head``, a digest
    noted earlier, also whether an intact entry still has it (``head_found``)."""
    checked = 0
    expected_seq, previous = 1, GENESIS_DIGEST
    found = None if head is None else head == GENESIS_DIGEST
    for entry in chain(session):
        reason: Break | None = None
        if entry.seq != expected_seq:
            reason = Break.GAP
        elif entry.previous_digest != previous:
            reason = Break.UNLINKED
        elif digest_of(entry) != entry.digest:
            reason = Break.EDITED
        if reason is not None:
            return VerifyResult(checked, entry.seq, reason, expected_seq - 1, previous, found)
        checked += 1
        expected_seq, previous = entry.seq + 1, entry.digest
        if head is not None and not found:
            found = hmac.compare_digest(entry.digest, head)
    return VerifyResult(checked, head_seq=expected_seq - 1, head_digest=previous, head_found=found)


def entries(
    session: Session,
    *,
    limit: int,
    before_seq: int | None,
    action: str | None = None,
    target: str | None = None,
) -> list[AuditEntry]:
    """Newest first, ``limit`` entries older than ``before_seq`` (keyset pagination: pass the
    last seq of a page to get the next one). ``action``: an action ("client.update") or a
    family ("client"); ``target``: a target id, or "type:id"."""
    query = select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(max(1, limit))
    if before_seq is not None:
        query = query.where(col(AuditEntry.seq) < before_seq)
    if action:
        family = col(AuditEntry.action).startswith(action + ".", autoescape=True)
        query = query.where(or_(col(AuditEntry.action) == action, family))
    if target:
        matches = [col(AuditEntry.target_id) == target]
        kind, _, identifier = target.partition(":")
        if identifier:
            matches.append(
                and_(col(AuditEntry.target_type) == kind, col(AuditEntry.target_id) == identifier)
            )
        query = query.where(or_(*matches))
    return list(session.exec(query).all())


def actions(session: Session) -> list[str]:
    """The actions found in the trail, for a filter."""
    rows = session.exec(select(AuditEntry.action).distinct().order_by(col(AuditEntry.action)))
    return list(rows.all())
