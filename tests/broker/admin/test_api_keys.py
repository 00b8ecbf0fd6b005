"""API keys managed by their holders: issued with a name (the secret returned once, only its
digest kept), renamed, listed, revoked, each change audited without the secret; only the
requesters of the holding organisation and administrators manage them; none on a habilitation
that has ended. And the key issued really opens the data API."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import select

from broker.admin.api_keys import issue_key, key_of, list_keys, rename_key, revoke_key
from broker.admin.habilitation_views import HabilitationRefused
from broker.core.db import Database
from broker.core.security import digest
from broker.store.data_access_models import API_KEY_PREFIX, ApiKey
from broker.store.portal_models import AuditEntry
from tests.broker.admin.habilitation_support import (
    DINUM,
    VAL_FLEURI,
    administrator,
    end_habilitation,
    instructor,
    organisation_habilitation,
    requester,
)


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def issue(db: Database, who, habilitation_id: str, name: str = "Logiciel cantine"):
    with db.transaction() as session:
        return issue_key(session, who, habilitation_id, name, int(time.time()))


def refusal(status: int, field: str | None = None):
    """Expects a HabilitationRefused with ``status`` (and ``field``)."""
    return pytest.raises(
        HabilitationRefused, check=lambda e: (e.status, e.field) == (status, field)
    )


def audit_rows(db: Database, action: str | None = None) -> list[AuditEntry]:
    with db.reader() as session:
        query = select(AuditEntry).order_by(AuditEntry.seq)  # type: ignore[arg-type]
        if action:
            query = query.where(AuditEntry.action == action)
        return list(session.exec(query).all())


def keys_of(db: Database, habilitation_id: str) -> list[ApiKey]:
    with db.reader() as session:
        return list(session.exec(select(ApiKey).where(ApiKey.habilitation_id == habilitation_id)))


def dump_of_everything(db: Database) -> str:
    """Every row of the tables a secret could leak into, as text."""
    with db.reader() as session:
        rows = [
            *session.execute(text("SELECT * FROM api_key")).all(),
            *session.execute(text("SELECT * FROM audit_entry")).all(),
        ]
    return "\n".join(repr(tuple(r)) for r in rows)


# -- issuing -----------------------------------------------------------------------------------


def test_requester_issues_a_named_key_whose_secret_is_returned_once(db):
    alice = requester()
    habilitation = organisation_habilitation(db)
    issued = issue(db, alice, habilitation, "  Logiciel cantine  ")
    assert issued.secret.startswith(API_KEY_PREFIX) and len(issued.secret) > 40
    assert (issued.key.name, issued.key.created_by) == ("Logiciel cantine", alice.actor)
    with db.reader() as session:
        stored = session.get(ApiKey, issued.key.id)
    assert stored is not None and stored.digest == digest(issued.secret)
    [entry] = audit_rows(db, "api_key.issue")
    assert (entry.actor, entry.target_type, entry.target_id) == (
        alice.actor,
        "api_key",
        issued.key.id,
    )
    assert entry.before is None
    assert entry.after == {
        "habilitation_id": habilitation,
        "name": "Logiciel cantine",
        "created_at": issued.key.created_at,
        "created_by": alice.actor,
    }
    # Listing gives names and dates, never a secret.
    with db.reader() as session:
        [line] = list_keys(session, alice, habilitation)
    assert line == issued.key and not hasattr(line, "secret")


def test_attack_key_secret_shown_once(db):
    """Neither the stored key nor the audit trail (issue, rename, revoke) holds the secret
    or its digest."""
    alice = requester()
    habilitation = organisation_habilitation(db)
    issued = issue(db, alice, habilitation)
    with db.transaction() as session:
        rename_key(session, alice, habilitation, issued.key.id, "Nouveau nom")
    with db.transaction() as session:
        revoke_key(session, alice, habilitation, issued.key.id, int(time.time()))
    everything = dump_of_everything(db)
    assert issued.secret not in everything
    assert issued.secret.removeprefix(API_KEY_PREFIX) not in everything
    trail = "\n".join(repr((e.before, e.after)) for e in audit_rows(db))
    assert digest(issued.secret) not in trail
    assert [e.action for e in audit_rows(db)] == [
        "api_key.issue",
        "api_key.rename",
        "api_key.revoke",
    ]


def test_administrator_manages_any_organisations_keys(db):
    habilitation = organisation_habilitation(db, VAL_FLEURI)
    admin = administrator()
    issued = issue(db, admin, habilitation)
    with db.transaction() as session:
        revoked = revoke_key(session, admin, habilitation, issued.key.id, int(time.time()))
    assert revoked.revoked_at is not None


def test_role_other_organisation_cannot_issue_key(db):
    habilitation = organisation_habilitation(db)  # Villebourg's
    with refusal(404):
        issue(db, requester(VAL_FLEURI), habilitation)
    alice_key = issue(db, requester(), habilitation)
    with refusal(404), db.transaction() as session:
        revoke_key(session, requester(VAL_FLEURI), habilitation, alice_key.key.id, 0)
    with refusal(404), db.transaction() as session:
        rename_key(session, requester(VAL_FLEURI), habilitation, alice_key.key.id, "Volée")
    with refusal(404), db.reader() as session:
        list_keys(session, requester(VAL_FLEURI), habilitation)
    assert len(audit_rows(db)) == 1  # Alice's key only


def test_role_instructor_cannot_issue_key(db):
    """Keys belong to the requesters: an instructor sees them, but neither issues nor revokes."""
    habilitation = organisation_habilitation(db)
    ines = instructor()
    with refusal(403):
        issue(db, ines, habilitation)
    alice_key = issue(db, requester(), habilitation)
    with refusal(403), db.transaction() as session:
        revoke_key(session, ines, habilitation, alice_key.key.id, 0)
    with db.reader() as session:
        assert [k.id for k in list_keys(session, ines, habilitation)] == [alice_key.key.id]


def test_role_requester_without_a_siret_or_on_a_cli_habilitation_cannot_issue(db):
    habilitation = organisation_habilitation(db)
    with refusal(404):
        issue(db, requester(siret=None), habilitation)  # type: ignore[arg-type]
    with db.transaction() as session:
        session.execute(
            text("UPDATE habilitation SET organisation_siret = NULL WHERE id = :id"),
            {"id": habilitation},
        )
    with refusal(404):
        issue(db, requester(), habilitation)  # nobody's organisation: administrators only
    issue(db, administrator(), habilitation)


@pytest.mark.parametrize("revoked", [True, False], ids=["revoked", "expired"])
def test_attack_key_on_revoked_habilitation_refused(db, revoked):
    habilitation = organisation_habilitation(db)
    end_habilitation(db, habilitation, revoked=revoked)
    with refusal(409):
        issue(db, requester(), habilitation)
    with refusal(409):
        issue(db, administrator(), habilitation)
    with db.reader() as session:
        assert (
            session.exec(select(ApiKey).where(ApiKey.habilitation_id == habilitation)).all() == []
        )
    assert audit_rows(db) == []


@pytest.mark.parametrize(
    "name",
    ["", "   ", "x" * 101, "clé\x07", "clé\u202eenin", "a\nb", "zéro\u200b"],
    ids=["empty", "blank", "too-long", "bell", "bidi-override", "newline", "zero-width"],
)
def test_attack_bad_key_names_refused_and_nothing_written(db, name):
    habilitation = organisation_habilitation(db)
    with refusal(400, "name"):
        issue(db, requester(), habilitation, name)
    with db.reader() as session:
        assert (
            session.exec(select(ApiKey).where(ApiKey.habilitation_id == habilitation)).all() == []
        )
    assert audit_rows(db) == []


def test_a_hundred_character_name_with_accents_is_kept(db):
    name = "é" * 100
    issued = issue(db, requester(), organisation_habilitation(db), name)
    assert issued.key.name == name


# -- renaming, revoking, listing ---------------------------------------------------------------


def test_rename_is_audited_with_before_and_after(db):
    alice = requester()
    habilitation = organisation_habilitation(db)
    issued = issue(db, alice, habilitation, "Ancien")
    with db.transaction() as session:
        renamed = rename_key(session, alice, habilitation, issued.key.id, "Nouveau")
    assert renamed.name == "Nouveau"
    [entry] = audit_rows(db, "api_key.rename")
    assert (entry.before, entry.after) == ({"name": "Ancien"}, {"name": "Nouveau"})
    with db.transaction() as session:  # the same name again: nothing changed, nothing audited
        rename_key(session, alice, habilitation, issued.key.id, "Nouveau")
    assert len(audit_rows(db, "api_key.rename")) == 1
    with refusal(400, "name"), db.transaction() as session:
        rename_key(session, alice, habilitation, issued.key.id, "")


def test_revoke_is_audited_once_and_a_revoked_key_keeps_its_name(db):
    alice = requester()
    habilitation = organisation_habilitation(db)
    issued = issue(db, alice, habilitation)
    with db.transaction() as session:
        revoked = revoke_key(session, alice, habilitation, issued.key.id, 1_900_000_000)
    assert revoked.revoked_at == 1_900_000_000 and not revoked.active
    [entry] = audit_rows(db, "api_key.revoke")
    assert entry.before == {"name": "Logiciel cantine", "revoked_at": None}
    assert entry.after == {"name": "Logiciel cantine", "revoked_at": 1_900_000_000}
    with refusal(409), db.transaction() as session:
        revoke_key(session, alice, habilitation, issued.key.id, 1_900_000_001)
    with refusal(409), db.transaction() as session:
        rename_key(session, alice, habilitation, issued.key.id, "Autre")
    assert len(audit_rows(db)) == 2


def test_attack_key_of_another_habilitation_through_ones_own(db):
    """A requester managing two habilitations cannot reach a key through the wrong one, nor
    another organisation's key through their own habilitation's address."""
    alice = requester()
    mine = organisation_habilitation(db)
    theirs = organisation_habilitation(db, VAL_FLEURI)
    their_key = issue(db, requester(VAL_FLEURI), theirs)
    with refusal(404), db.transaction() as session:
        revoke_key(session, alice, mine, their_key.key.id, 0)
    with refusal(404), db.reader() as session:
        key_of(session, alice, mine, their_key.key.id)
    with refusal(404), db.reader() as session:
        key_of(session, alice, mine, "k" * 500)


def test_keys_are_listed_active_first_then_newest(db):
    alice = requester()
    habilitation = organisation_habilitation(db)
    first = issue(db, alice, habilitation, "Premier")
    second = issue(db, alice, habilitation, "Second")
    with db.transaction() as session:
        revoke_key(session, alice, habilitation, second.key.id, int(time.time()))
    third = issue(db, alice, habilitation, "Troisième")
    with db.reader() as session:
        names = [k.name for k in list_keys(session, alice, habilitation)]
    assert names[2] == "Second" and set(names[:2]) == {first.key.name, third.key.name}


# -- the key at work ---------------------------------------------------------------------------


def test_issued_key_opens_the_data_api_until_revoked(db, settings_factory, simulators):
    from broker.resources.app import build_resource_state, create_resource_asgi_app
    from tests.e2e.data_api_support import identite_params

    alice = requester()
    habilitation = organisation_habilitation(db)
    issued = issue(db, alice, habilitation)
    settings = settings_factory().model_copy(update={"providers_url": simulators, "redis_url": ""})
    state = build_resource_state(settings)
    app = create_resource_asgi_app(settings, state)
    path = "/v3/dss/quotient_familial/identite"
    params = {**identite_params("nom_composé"), "recipient": DINUM}

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://data-api") as client:
            return await client.get(path, params=params, headers={"X-Api-Key": issued.secret})

    try:
        answer = asyncio.run(call())
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["quotient_familial"]["valeur"] == 635
        with db.transaction() as session:
            revoke_key(session, alice, habilitation, issued.key.id, int(time.time()))
        refused = asyncio.run(call())
        assert refused.status_code == 401, refused.text
        assert refused.json()["errors"][0]["detail"] == "Cette clé d'API a été révoquée."
    finally:
        state.db.dispose()
