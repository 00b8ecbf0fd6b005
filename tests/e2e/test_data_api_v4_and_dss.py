"""Issue 16's products over real HTTP, from the demo citizens' data: the v4 routes answer their
own shape while v3 stays, MEN v4's perimeter search and its rules, the AEEH and the EAJE family
contribution in both modes, and masking by the scopes of each."""

from __future__ import annotations

from typing import Any

import pytest

from broker.admin.habilitations import MAX_RATE_LIMIT
from broker.catalogue.products import product
from broker.resources.errors import PROVIDER_CODES
from tests.e2e.data_api_support import (
    access_token,
    api_key,
    assert_ok,
    call,
    identite_params,
    journal_row,
    live_broker,
    live_data_api,
)

CNOUS = "cnous/etudiant_boursier"
MEN = "men/scolarites"
AEEH = "dss/allocation_enfant_handicape"
EAJE = "dss/participation_familiale_eaje"
STRUCK_OFF_INE = "9211123456F"


@pytest.fixture(scope="module")
def shared_broker(db_factory, tmp_path_factory, demo_idp):
    with live_broker(db_factory, tmp_path_factory.mktemp("var"), demo_idp) as server:
        yield server


@pytest.fixture(scope="module")
def api(shared_broker, simulators):
    with live_data_api(shared_broker, simulators) as server:
        yield server


def scopes(*keys: str) -> list[str]:
    found = {s for key in keys if (p := product(key)) is not None for s in p.scope_names()}
    return sorted(found)


@pytest.fixture(scope="module")
def key(shared_broker):
    return api_key(shared_broker, scopes(CNOUS, MEN, AEEH, EAJE), rate_limit=MAX_RATE_LIMIT)


def identity(key_: str, login: str) -> dict[str, Any]:
    """The citizen's identity parameters that this product's identity mode takes."""
    spec = product(key_)
    assert spec is not None
    takes = spec.identity_params
    return {k: v for k, v in identite_params(login).items() if takes is None or k in takes}


def test_cnous_v4_answers_its_own_shape_and_v3_stays(api, key):
    v4 = call(api, f"/v4/{CNOUS}/ine", key.secret, params={"ine": STRUCK_OFF_INE})
    v3 = call(api, f"/v3/{CNOUS}/ine", key.secret, params={"ine": STRUCK_OFF_INE})
    data_v4, data_v3 = assert_ok(v4), assert_ok(v3)
    assert data_v4["statut_boursier"] == {
        "est_boursier": False,
        "est_radie": True,
        "date_radiation": "2026-02-01",
    }
    assert "est_boursier" not in data_v4
    assert data_v3["est_boursier"] is False and "statut_boursier" not in data_v3
    assert data_v4["identite"] == data_v3["identite"]
    assert journal_row(api, v4).product == f"v4/{CNOUS}"
    assert journal_row(api, v3).product == CNOUS


def test_cnous_v4_by_identity(api, key):
    params = identity(f"v4/{CNOUS}", "etudiant_boursier")
    data = assert_ok(call(api, f"/v4/{CNOUS}/identite", key.secret, params=params))
    assert data["statut_boursier"]["est_boursier"] is True
    assert data["identite"]["nom"] == "LAMBERT"


@pytest.mark.parametrize(
    "where",
    [
        {"codesBcnRegions[]": ["52"], "degreEtablissement": "2D"},
        {"codesBcnDepartements[]": ["075", "044"]},  # the parameter repeated
        {"codeEtablissement": "0440021J"},
    ],
)
def test_men_v4_finds_the_pupil_by_school_or_perimeter(api, key, where):
    params = {**identity(f"v4/{MEN}", "moins_18_ans"), "anneeScolaire": "2026", **where}
    data = assert_ok(call(api, f"/v4/{MEN}/identite", key.secret, params=params))
    assert data["etablissement"]["code_uai"] == "0440021J"
    assert data["annee_scolaire"] == "2026-2027"


def test_men_v4_outside_the_perimeter_is_not_found(api, key):
    params = {
        **identity(f"v4/{MEN}", "moins_18_ans"),
        "anneeScolaire": "2026",
        "codesBcnRegions[]": ["11"],
    }
    response = call(api, f"/v4/{MEN}/identite", key.secret, params=params)
    assert response.status_code == 404, response.text


def test_attack_men_v4_school_and_perimeter_together_are_refused(api, key):
    params = {
        **identity(f"v4/{MEN}", "moins_18_ans"),
        "anneeScolaire": "2026",
        "codeEtablissement": "0440021J",
        "codesBcnRegions[]": ["52"],
    }
    response = call(api, f"/v4/{MEN}/identite", key.secret, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["source"] == {"parameter": "codeEtablissement"}
    assert "CHAMPION" not in response.text


def test_v3_scolarites_takes_the_perimeter_as_v4_does(api, key):
    """The description gives v3 and v4 the same parameters: both find the pupil by perimeter."""
    params = {**identity(MEN, "moins_18_ans"), "anneeScolaire": "2026", "codesBcnRegions[]": ["52"]}
    v3 = assert_ok(call(api, f"/v3/{MEN}/identite", key.secret, params=params))
    v4 = assert_ok(call(api, f"/v4/{MEN}/identite", key.secret, params=params))
    assert v3 == v4 and v3["etablissement"]["code_uai"] == "0440021J"


def test_attack_school_and_perimeter_together_are_refused_in_v3_and_v4(api, key):
    params = {
        **identity(MEN, "moins_18_ans"),
        "anneeScolaire": "2026",
        "codeEtablissement": "0440021J",
        "codesBcnRegions[]": ["52"],
    }
    for version in ("v3", "v4"):
        response = call(api, f"/{version}/{MEN}/identite", key.secret, params=params)
        assert response.status_code == 422, response.text


def test_aeeh_and_eaje_for_the_signed_in_citizen(shared_broker, api):
    token = access_token(shared_broker, "nom_composé", " ".join(scopes(AEEH, EAJE)))
    aeeh = assert_ok(call(api, f"/v3/{AEEH}/france_connect", token.access_token, recipient=None))
    assert aeeh == {"status": "allocataire", "date_debut_droit": "2021-03-01"}
    eaje = assert_ok(call(api, f"/v3/{EAJE}/france_connect", token.access_token, recipient=None))
    assert eaje["parametres_calcul_participation_familiale"]["base_ressources_annuelles"] == {
        "valeur": 26400,
        "annee_calcul": 2024,
    }
    assert len(eaje["enfants"]) == 3 and len(eaje["allocataires"]) == 2


def test_aeeh_by_identity_for_someone_without_it(api, key):
    params = identity(AEEH, "beneficiaire_rsa")
    data = assert_ok(call(api, f"/v3/{AEEH}/identite", key.secret, params=params))
    assert data == {"status": "non_beneficiaire", "date_debut_droit": None}


def test_eaje_for_a_family_file_without_fee_facts_is_not_found(api, key):
    response = call(api, f"/v3/{EAJE}/identite", key.secret, params=identity(EAJE, "test"))
    assert response.status_code == 404, response.text
    assert response.json()["errors"][0]["code"] == PROVIDER_CODES["dss"] + "003"  # EAJE's: CNAV


def test_attack_eaje_releases_only_the_scopes_of_the_key(shared_broker, api):
    fee_only = api_key(shared_broker, "cnav_participation_familiale_eaje_parametres_calcul")
    response = call(
        api, f"/v3/{EAJE}/identite", fee_only.secret, params=identity(EAJE, "nom_composé")
    )
    assert list(assert_ok(response)) == ["parametres_calcul_participation_familiale"]
    for secret in ("DUBOIS", "Henry", "MARSEILLE", "TROIS-DUPRE"):
        assert secret not in response.text


def test_attack_the_removal_needs_the_grant_status_scope(shared_broker, api):
    email_only = api_key(shared_broker, "cnous_email")
    response = call(api, f"/v4/{CNOUS}/ine", email_only.secret, params={"ine": STRUCK_OFF_INE})
    assert assert_ok(response) == {"email": "jean-fleuret@yopmail.com"}
    assert "radi" not in response.text
