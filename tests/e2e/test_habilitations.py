"""Through the broker, a client obtains data scopes only within one active habilitation of its
service; asking for more is ``invalid_scope`` (sent back to the client, with ``iss``)."""

from __future__ import annotations

import time

from sqlalchemy import update

from broker.store.data_access_models import Habilitation
from tests.helpers import AuthorizationRequest, Browser, habilitate, query, register_client

QF_SCOPE = "openid profile cnaf_quotient_familial cnaf_enfants"


def authorize(broker, client) -> dict[str, str]:
    response = Browser(broker.url).authorize(AuthorizationRequest(client))
    assert response.status_code == 303
    return query(response.headers["location"])


def assert_invalid_scope(broker, received: dict[str, str]) -> None:
    assert received["error"] == "invalid_scope"
    assert "habilitation" in received["error_description"]
    assert received["iss"] == broker.url


def test_attack_data_scope_without_habilitation(broker):
    client = register_client(broker.state, scope=QF_SCOPE, habilitated=False)
    assert_invalid_scope(broker, authorize(broker, client))


def test_attack_data_scopes_spread_over_two_habilitations(broker):
    client = register_client(broker.state, name="CCAS", scope=QF_SCOPE, habilitated=False)
    habilitate(broker.state, "CCAS", "cnaf_quotient_familial")
    habilitate(broker.state, "CCAS", "cnaf_enfants")
    assert_invalid_scope(broker, authorize(broker, client))


def test_data_scopes_within_one_habilitation_reach_the_login_page(broker):
    client = register_client(broker.state, name="CCAS", scope=QF_SCOPE, habilitated=False)
    habilitate(broker.state, "CCAS", "cnaf_quotient_familial cnaf_enfants cnaf_adresse")
    response = Browser(broker.url).authorize(AuthorizationRequest(client))
    assert response.headers["location"].endswith("/login")


def test_attack_another_services_habilitation_does_not_count(broker):
    client = register_client(broker.state, name="CCAS", scope=QF_SCOPE, habilitated=False)
    habilitate(broker.state, "Autre service", "cnaf_quotient_familial cnaf_enfants")
    assert_invalid_scope(broker, authorize(broker, client))


def test_attack_revoked_or_expired_habilitation(broker):
    client = register_client(broker.state, name="CCAS", scope=QF_SCOPE, habilitated=False)
    created = habilitate(broker.state, "CCAS", "cnaf_quotient_familial cnaf_enfants")
    for change in ({"expires_at": int(time.time()) - 1}, {"revoked_at": int(time.time())}):
        with broker.state.db.transaction() as s:
            s.exec(
                update(Habilitation)
                .where(Habilitation.id == created["id"])
                .values(expires_at=None, revoked_at=None)
            )
            s.exec(update(Habilitation).where(Habilitation.id == created["id"]).values(**change))
        broker.state.context.clients.invalidate()  # the 10 s client cache of the running server
        assert_invalid_scope(broker, authorize(broker, client))
