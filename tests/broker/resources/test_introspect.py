"""``GET /v3/introspect``: what a credential may do, told to its holder. Tokens (DPoP-bound
ones too) over real HTTP are in tests/e2e/test_data_api_introspect.py."""

from __future__ import annotations

import time

from sqlalchemy import update
from sqlmodel import col

from broker.admin.api_keys import revoke_by_operator
from broker.admin.habilitations import revoke_habilitation
from broker.catalogue.products import FRANCE_CONNECT, PRODUCTS
from broker.resources import errors
from broker.resources.credentials import ACCESS_TOKEN, API_KEY
from broker.resources.ratelimit import WINDOW
from broker.resources.rights import (
    ACTIVE,
    EXPIRED,
    REVOKED,
    CredentialView,
    HabilitationView,
    RateLimitView,
    describe,
    habilitation_status,
    with_absolute_links,
)
from broker.store.data_access_models import Habilitation
from tests.broker.resources.data_api_kit import DINUM, VILLEBOURG, api_key, data_api_in_process

QF_SCOPES = frozenset({"cnaf_quotient_familial", "cnaf_enfants"})
HABILITATION = HabilitationView(
    id="hab-1",
    status=ACTIVE,
    purpose="Tarification sociale de la cantine scolaire",
    legal_basis="Code de l'éducation, article L. 131-13",
    legal_basis_url=None,
    expires_at=2_000_000_000,
    scopes=QF_SCOPES,
)
LIMIT = RateLimitView(limit=1200, window_seconds=60, platform_default=True)


def key_view(scopes=QF_SCOPES) -> CredentialView:
    return CredentialView(kind=API_KEY, id="key-1", name="Logiciel", scopes=scopes, expires_at=None)


def token_view() -> CredentialView:
    return CredentialView(
        kind=ACCESS_TOKEN,
        id="jti-1",
        name="CCAS",
        scopes=frozenset({"openid", "profile", *QF_SCOPES}),
        expires_at=1_900_000_000,
        dpop_bound=True,
        client_id="client-1",
        consent_expires_at=1_950_000_000,
    )


def test_api_particulier_fields_come_first():
    described = describe(key_view(), ("svc-1", "CCAS"), HABILITATION, LIMIT, (DINUM,))
    assert list(described)[:3] == ["_id", "name", "scopes"]
    assert described["_id"] == "key-1" and described["name"] == "Logiciel"
    assert described["scopes"] == sorted(QF_SCOPES)


def test_a_key_opens_the_identity_and_identifier_routes_of_its_products():
    described = describe(key_view(), ("svc-1", "CCAS"), HABILITATION, LIMIT, (VILLEBOURG, DINUM))
    assert described["allowed_recipients"] == [VILLEBOURG, DINUM]
    assert described["recipient_required"] is True
    assert described["credential"] == {"type": API_KEY, "expires_at": None}
    assert described["habilitation"]["status"] == ACTIVE
    assert described["rate_limit"] == {
        "limit": 1200,
        "window_seconds": 60,
        "platform_default": True,
    }
    [cnaf] = described["providers"]
    assert [s["name"] for s in cnaf["scopes"]] == ["cnaf_quotient_familial", "cnaf_enfants"]
    routes = [route for p in described["products"] for route in p["routes"]]
    assert "/v3/dss/quotient_familial/identite" in routes
    assert not [r for r in routes if r.endswith("/" + FRANCE_CONNECT)]
    expected = {p.key for p in PRODUCTS if p.scope_names() & QF_SCOPES}
    assert {p["key"] for p in described["products"]} <= expected


def test_a_token_opens_the_france_connect_routes_and_tells_its_own_expiry():
    described = describe(token_view(), ("svc-1", "CCAS"), HABILITATION, LIMIT, ())
    assert described["scopes"] == sorted(QF_SCOPES)  # its data scopes: openid is no right here
    assert described["credential"] == {
        "type": ACCESS_TOKEN,
        "expires_at": 1_900_000_000,
        "client_id": "client-1",
        "dpop_bound": True,
        "consent_expires_at": 1_950_000_000,
    }
    assert described["recipient_required"] is False
    routes = [route for p in described["products"] for route in p["routes"]]
    assert "/v3/dss/quotient_familial/france_connect" in routes
    assert all(r.endswith("/" + FRANCE_CONNECT) for r in routes)


def test_an_ended_habilitation_opens_nothing():
    for status in (EXPIRED, REVOKED):
        ended = HabilitationView(**{**HABILITATION.__dict__, "status": status})
        described = describe(token_view(), ("svc-1", "CCAS"), ended, LIMIT, ())
        assert described["habilitation"]["status"] == status
        assert described["products"] == [] and described["providers"] == []


def test_scopes_beyond_the_habilitation_open_nothing():
    wider = key_view(QF_SCOPES | {"cnous_statut_boursier"})
    described = describe(wider, ("svc-1", "CCAS"), HABILITATION, LIMIT, ())
    assert all(p["provider"] != "cnous" for p in described["products"])


def test_habilitation_status():
    assert habilitation_status(None, None, 100) == ACTIVE
    assert habilitation_status(101, None, 100) == ACTIVE
    assert habilitation_status(100, None, 100) == EXPIRED
    assert habilitation_status(None, 50, 100) == REVOKED


def test_a_key_holder_reads_its_rights(state):
    key = api_key(state, recipients=(VILLEBOURG, DINUM), rate_limit=50)
    with data_api_in_process(state) as api:
        by_header = api.get("/v3/introspect", {"X-Api-Key": key.secret})
        by_bearer = api.get("/v3/introspect", {"Authorization": f"Bearer {key.secret}"})
        legacy = api.get("/api/introspect", {"X-Api-Key": key.secret})
    assert by_header.status_code == by_bearer.status_code == legacy.status_code == 200
    assert by_header.json() == by_bearer.json() == legacy.json()
    assert by_header.headers["cache-control"] == "no-store"
    assert "ratelimit-limit" not in by_header.headers  # not counted against the limit
    described = by_header.json()
    assert described["_id"] == key.id and described["name"] == "Clé de test"
    assert described["service"]["id"] == key.service_id
    assert described["habilitation"]["id"] == key.habilitation_id
    assert described["habilitation"]["purpose"] == "Tarification sociale de la cantine scolaire"
    assert described["allowed_recipients"] == [VILLEBOURG, DINUM]
    assert described["rate_limit"]["limit"] == 50
    assert described["rate_limit"]["window_seconds"] == WINDOW
    assert described["rate_limit"]["platform_default"] is False


def test_attack_introspection_without_a_valid_credential(state):
    key = api_key(state)
    with state.db.transaction() as session:
        revoke_by_operator(session, "test:resources", key.id, int(time.time()))
    with data_api_in_process(state) as api:
        answers = [
            api.get("/v3/introspect"),
            api.get("/v3/introspect", {"X-Api-Key": "bpk_unknown"}),
            api.get("/v3/introspect", {"Authorization": "Bearer forged.jwt.token"}),
            api.get("/v3/introspect", {"X-Api-Key": key.secret}),
        ]
    for response in answers:
        assert response.status_code == 401, response.text
        assert response.json()["errors"][0]["code"].startswith("001")
        assert "resource_metadata=" in response.headers["www-authenticate"]


def test_a_key_of_an_ended_habilitation_is_refused(state):
    revoked, expired = api_key(state), api_key(state)
    with state.db.transaction() as session:
        revoke_habilitation(session, revoked.habilitation_id)
        session.exec(
            update(Habilitation)
            .where(col(Habilitation.id) == expired.habilitation_id)
            .values(expires_at=int(time.time()) - 1)
        )
    with data_api_in_process(state) as api:
        gone = api.get("/v3/introspect", {"X-Api-Key": revoked.secret})
        over = api.get("/v3/introspect", {"X-Api-Key": expired.secret})
    assert gone.status_code == over.status_code == 401
    assert "révoquée" in gone.json()["errors"][0]["detail"]
    assert "expiré" in over.json()["errors"][0]["detail"]


def test_every_403_links_the_rights_by_their_absolute_url():
    absolute = "https://api.example/v3/introspect"
    body = with_absolute_links(errors.forbidden("Aucun scope.").body(), absolute)
    [item] = body["errors"]
    assert item["meta"]["introspect"] == absolute
    assert item["detail"].startswith("Aucun scope.") and absolute in item["detail"]
    untouched = errors.invalid_parameters([("recipient", "Attendu : un SIRET.")]).body()
    assert with_absolute_links(untouched, absolute) == untouched
