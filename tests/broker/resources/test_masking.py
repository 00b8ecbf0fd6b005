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
