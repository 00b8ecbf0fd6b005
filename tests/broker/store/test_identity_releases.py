"""Identity releases in the access journal, on SQL: one row, in the caller's transaction (a
rolled-back issuance leaves none), with the request id of the request being served."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from broker.core.logs import request_id_var
from broker.oidc.identity_release import USERINFO, IdentityRelease
from broker.store.data_access_store import JOURNAL
from broker.store.oidc_store import SqlOidcStore

RELEASE = IdentityRelease(
    credential=USERINFO,
    credential_id="jti-1",
    citizen_id="citizen-1",
    client_id="client-1",
    service_id="service-1",
    subject="pairwise-sub",
    scopes=("openid", "profile"),
)


def rows(state) -> list:
    with state.db.connect() as conn:
        return conn.execute(select(JOURNAL).where(JOURNAL.c.product == "identity")).all()


def test_one_row_with_the_contract_fields_and_the_request_id(state):
    token = request_id_var.set("req-123")
    try:
        with state.db.begin() as conn:
            SqlOidcStore(conn).journal_identity_release(RELEASE, 1_700_000_000)
    finally:
        request_id_var.reset(token)
    [row] = rows(state)
    assert row._asdict() | {"id": None} == {
        "id": None,
        "at": 1_700_000_000,
        "request_id": "req-123",
        "service_id": "service-1",
        "habilitation_id": None,
        "credential": "userinfo",
        "credential_id": "jti-1",
        "client_id": "client-1",
        "citizen_id": "citizen-1",
        "subject": "pairwise-sub",
        "identity_digest": None,
        "product": "identity",
        "mode": "openid",
        "scopes": ["openid", "profile"],
        "recipient": None,
        "outcome": "ok",
        "status": 200,
        "error_code": None,
        "cached": False,
        "latency_ms": 0,
    }


def test_a_rolled_back_transaction_leaves_no_row(state):
    with pytest.raises(RuntimeError), state.db.begin() as conn:
        SqlOidcStore(conn).journal_identity_release(RELEASE, 1_700_000_000)
        raise RuntimeError("the token could not be issued")
    assert rows(state) == []


def test_outside_a_request_the_request_id_is_empty_not_missing(state):
    with state.db.begin() as conn:
        SqlOidcStore(conn).journal_identity_release(RELEASE, 1_700_000_000)
    assert [row.request_id for row in rows(state)] == [""]
