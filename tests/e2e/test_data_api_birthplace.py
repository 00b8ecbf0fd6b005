"""The birthplace by name over real HTTP: ``nomCommuneNaissance`` with
``codeCogInseeDepartementNaissance`` find the same person as ``codeCogInseeCommuneNaissance``,
and an ambiguous or outdated name is a 422 on ``nomCommuneNaissance`` before any provider is
asked."""

from __future__ import annotations

import pytest

from tests.e2e.data_api_support import (
    api_key,
    assert_error,
    assert_ok,
    call,
    identite_params,
    journal_row,
    live_broker,
    live_data_api,
    route,
    scopes_of,
)

RSA = "dss/revenu_solidarite_active"


@pytest.fixture(scope="module")
def shared_broker(db_factory, tmp_path_factory, demo_idp):
    with live_broker(db_factory, tmp_path_factory.mktemp("var"), demo_idp) as server:
        yield server


@pytest.fixture(scope="module")
def api(shared_broker, simulators):
    with live_data_api(shared_broker, simulators) as server:
        yield server


@pytest.fixture(scope="module")
def key(shared_broker):
    return api_key(shared_broker, scopes_of(RSA)).secret


def by_name(login: str, name: str, department: str) -> dict:
    params = identite_params(login)
    del params["codeCogInseeCommuneNaissance"]
    return {**params, "nomCommuneNaissance": name, "codeCogInseeDepartementNaissance": department}


def test_the_name_finds_the_same_person_as_the_code(api, key):
    by_code = assert_ok(
        call(api, route(RSA, "identite"), key, params=identite_params("beneficiaire_rsa"))
    )
    response = call(
        api, route(RSA, "identite"), key, params=by_name("beneficiaire_rsa", "BASTIA", "2B")
    )
    assert assert_ok(response) == by_code
    assert journal_row(api, response).outcome == "ok"


def test_an_ambiguous_name_is_refused_before_any_provider_is_asked(api, key):
    params = by_name("beneficiaire_rsa", "Braye", "02")
    params.update(anneeDateNaissance="1950", moisDateNaissance="1", jourDateNaissance="1")
    error = assert_error(call(api, route(RSA, "identite"), key, params=params), 422, "00366")
    assert error["source"] == {"parameter": "nomCommuneNaissance"}
    assert "02116" in error["detail"] and "02118" in error["detail"]


def test_a_name_the_commune_did_not_bear_at_the_birth_date_says_which_it_bore(api, key):
    params = by_name("beneficiaire_rsa", "Cherbourg", "50")
    params.update(anneeDateNaissance="2005")
    error = assert_error(call(api, route(RSA, "identite"), key, params=params), 422, "00366")
    assert "Cherbourg-Octeville" in error["detail"]
