"""Masking by scope: a field whose scope the caller lacks never appears."""

from __future__ import annotations

from broker.resources.masking import allowed_tree, mask

QF = "/v3/dss/quotient_familial"
PERSON = {
    "nom_naissance": "DUBOIS",
    "nom_usage": None,
    "prenoms": "LOU",
    "date_naissance": "2015-03-15",
    "sexe": "F",
}
DATA = {
    "quotient_familial": {
        "fournisseur": "CNAF",
        "valeur": 635,
        "annee": 2026,
        "mois": 10,
        "annee_calcul": 2026,
        "mois_calcul": 11,
    },
    "allocataires": [PERSON],
    "enfants": [PERSON, PERSON],
    "adresse": {"destinataire": "MADAME X", "pays": "FRANCE", "secret": "never"},
    "unlisted": "never",
}


def test_only_the_scoped_fields_appear():
    assert mask(DATA, allowed_tree(["cnaf_quotient_familial"], QF)) == {
        "quotient_familial": DATA["quotient_familial"]
    }


def test_lists_keep_only_scoped_fields_of_each_item():
    out = mask(DATA, allowed_tree(["cnaf_enfants"], QF))
    assert out == {"enfants": [PERSON, PERSON]}


def test_fields_outside_the_registry_never_leak():
    out = mask(
        DATA,
        allowed_tree(
            ["cnaf_quotient_familial", "cnaf_allocataires", "cnaf_enfants", "cnaf_adresse"], QF
        ),
    )
    assert "unlisted" not in out and "secret" not in out["adresse"]


def test_scopes_of_another_product_release_nothing():
    assert mask(DATA, allowed_tree(["dgfip_rfr", "cnous_statut_boursier"], QF)) == {}
    assert mask(DATA, allowed_tree(["no_such_scope"], QF)) == {}


def test_whole_object_paths_and_nested_paths_combine():
    tree = allowed_tree(["dgfip_nbpac", "dgfip_pac"], "/v3/dgfip/situation_fiscale")
    data = {"pac": {"nbPac": 2, "enfants": ["A", "B"]}, "rfr": 1}
    assert mask(data, tree) == {"pac": {"nbPac": 2, "enfants": ["A", "B"]}}
    only_count = allowed_tree(["dgfip_nbpac"], "/v3/dgfip/situation_fiscale")
    assert mask(data, only_count) == {"pac": {"nbPac": 2}}


def test_null_objects_and_non_lists_stay_harmless():
    tree = allowed_tree(["cnaf_adresse", "cnaf_enfants"], QF)
    assert mask({"adresse": None, "enfants": "oops"}, tree) == {"adresse": None, "enfants": None}


CNOUS_V3, CNOUS_V4 = "/v3/cnous/etudiant_boursier", "/v4/cnous/etudiant_boursier"
STATUS_V4 = {"est_boursier": False, "est_radie": True, "date_radiation": "2026-02-01"}


def test_a_scope_of_two_versions_releases_each_versions_own_fields():
    v3 = {"est_boursier": True, "email": "x@example.org"}
    v4 = {"statut_boursier": STATUS_V4, "email": "x@example.org"}
    assert mask(v3, allowed_tree(["cnous_statut_boursier"], CNOUS_V3)) == {"est_boursier": True}
    assert mask(v4, allowed_tree(["cnous_statut_boursier"], CNOUS_V4)) == {
        "statut_boursier": STATUS_V4
    }


def test_attack_a_version_never_releases_the_other_versions_fields():
    """Were a provider to answer both shapes, each route lets out its own fields only."""
    both = {"est_boursier": True, "statut_boursier": STATUS_V4}
    assert mask(both, allowed_tree(["cnous_statut_boursier"], CNOUS_V3)) == {"est_boursier": True}
    assert mask(both, allowed_tree(["cnous_statut_boursier"], CNOUS_V4)) == {
        "statut_boursier": STATUS_V4
    }
    assert mask(both, allowed_tree(["cnous_email"], CNOUS_V4)) == {}


def test_eaje_scopes_release_their_blocks_only():
    eaje = "/v3/dss/participation_familiale_eaje"
    data = {
        "allocataires": [{**PERSON, "code_cog_insee_commune_naissance": "13012"}],
        "enfants": [{**PERSON, "code_cog_insee_commune_naissance": None}],
        "adresse": {"destinataire": "MADAME X", "pays": "FRANCE"},
        "parametres_calcul_participation_familiale": {
            "nombre_enfants_a_charge": 1,
            "nombre_enfants_beneficiaire_aeeh": 0,
            "base_ressources_annuelles": {"valeur": 26400, "annee_calcul": 2024},
        },
    }
    fee = "cnav_participation_familiale_eaje_parametres_calcul"
    assert mask(data, allowed_tree([fee], eaje)) == {
        "parametres_calcul_participation_familiale": data[
            "parametres_calcul_participation_familiale"
        ]
    }
    children = mask(data, allowed_tree(["cnav_participation_familiale_eaje_enfants"], eaje))
    assert children == {"enfants": data["enfants"]}
    assert mask(data, allowed_tree(["cnaf_enfants"], eaje)) == {}  # the QF's scope opens nothing
