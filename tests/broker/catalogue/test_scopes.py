import dataclasses

import pytest

from broker.catalogue.registry import DataProvider, Scope, ScopeRegistry
from broker.catalogue.scopes import REGISTRY

ALL = REGISTRY.names()
PROVIDER_KEYS = {p.key for p in REGISTRY.providers()}


# -- the data itself -----------------------------------------------------------


def test_names_are_unique_and_cover_every_scope():
    assert len(ALL) == len(set(ALL))
    assert [s.name for s in REGISTRY.identity_scopes() + REGISTRY.data_scopes()] == ALL


def test_names_are_stable_identity_first():
    assert ALL[0] == "openid"
    first_data = ALL.index(REGISTRY.data_scopes()[0].name)
    assert all(REGISTRY.get(n).kind == "identity" for n in ALL[:first_data])
    assert REGISTRY.names() == ALL  # same order on every call


@pytest.mark.parametrize("name", ALL)
def test_every_scope_has_both_labels(name):
    scope = REGISTRY.get(name)
    assert scope.label_fr.strip() and scope.label_en.strip()
    assert scope.label_fr != scope.name  # a sentence, not the technical name


@pytest.mark.parametrize("scope", REGISTRY.data_scopes(), ids=lambda s: s.name)
def test_data_scopes_have_provider_fields_and_products(scope):
    assert scope.provider in PROVIDER_KEYS
    assert scope.fields and all(f and " " not in f for f in scope.fields)
    assert scope.products and all(p.startswith("/") for p in scope.products)
    assert scope.claims == ()


@pytest.mark.parametrize("scope", REGISTRY.identity_scopes(), ids=lambda s: s.name)
def test_identity_scopes_have_claims_and_no_provider(scope):
    assert scope.claims
    assert scope.provider is None
    assert scope.fields == () and scope.products == ()


def test_every_provider_has_scopes_and_names():
    used = {s.provider for s in REGISTRY.data_scopes()}
    assert used == PROVIDER_KEYS
    assert {"cnaf", "dss", "cnous", "mesri", "france_travail", "men", "dgfip"} <= PROVIDER_KEYS
    for p in REGISTRY.providers():
        assert p.name_fr and p.name_en and p.short_name
        assert REGISTRY.provider(p.key) is p


def test_unknown_provider_key_raises():
    with pytest.raises(KeyError):
        REGISTRY.provider("nope")


def test_expected_real_scope_names_are_present():
    for name in [
        "openid",
        "profile",
        "birth",
        "identite_pivot",
        "email",
        "given_name",
        "family_name",
        "birthdate",
        "gender",
        "birthplace",
        "birthcountry",
        "preferred_username",
        "cnaf_quotient_familial",
        "cnaf_allocataires",
        "cnaf_enfants",
        "cnaf_adresse",
        "revenu_solidarite_active",
        "revenu_solidarite_active_majoration",
        "prime_activite",
        "prime_activite_majoration",
        "allocation_adulte_handicape",
        "allocation_soutien_familial",
        "complementaire_sante_solidaire",
        "cnous_statut_boursier",
        "cnous_echelon_bourse",
        "cnous_email",
        "cnous_periode_versement",
        "cnous_statut_bourse",
        "cnous_ville_etudes",
        "cnous_identite",
        "mesri_identite",
        "mesri_admissions",
        "pole_emploi_identite",
        "pole_emploi_adresse",
        "pole_emploi_contact",
        "pole_emploi_inscription",
        "pole_emploi_paiements",
        "men_statut_scolarite",
        "men_statut_boursier",
        "men_echelon_bourse",
        "dgfip_rfr",
        "dgfip_nbpart",
    ]:
        assert name in REGISTRY, name


def test_quotient_familial_scope():
    qf = REGISTRY.get("cnaf_quotient_familial")
    assert qf.provider == "cnaf"
    assert qf.products == ("/v3/dss/quotient_familial",)
    assert {
        "quotient_familial.valeur",
        "quotient_familial.annee",
        "quotient_familial.mois",
        "quotient_familial.fournisseur",
    } <= set(qf.fields)
    assert REGISTRY.get("revenu_solidarite_active_majoration").fields == ("avec_majoration",)


def test_dataclasses_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        REGISTRY.get("email").label_fr = "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        REGISTRY.provider("cnaf").key = "x"


# -- claims ---------------------------------------------------------------------


def test_claims_for_openid_profile():
    assert REGISTRY.claims_for(["openid", "profile"]) == {
        "sub",
        "given_name",
        "family_name",
        "birthdate",
        "gender",
        "preferred_username",
    }


def test_claims_for_always_has_sub_and_ignores_data_and_unknown():
    assert REGISTRY.claims_for([]) == {"sub"}
    assert REGISTRY.claims_for(["cnaf_quotient_familial", "bogus"]) == {"sub"}
    assert REGISTRY.claims_for(["birth", "email"]) == {"sub", "birthplace", "birthcountry", "email"}
    assert REGISTRY.claims_for(iter(["identite_pivot"])) == {
        "sub",
        "given_name",
        "family_name",
        "birthdate",
        "gender",
        "birthplace",
        "birthcountry",
    }


def test_claims_supported():
    supported = REGISTRY.claims_supported()
    assert len(supported) == len(set(supported))
    for claim in ("sub", "acr", "amr", "auth_time", "iss", "aud", "exp", "iat", "nonce"):
        assert claim in supported
    for scope in REGISTRY.identity_scopes():
        assert set(scope.claims) <= set(supported)
    assert not {"quotient_familial.valeur", "est_boursier"} & set(supported)


# -- requests ---------------------------------------------------------------------


def test_unknown_preserves_order():
    requested = ["openid", "zzz", "cnaf_enfants", "aaa", "zzz", "profile", "phone"]
    assert REGISTRY.unknown(requested) == ["zzz", "aaa", "phone"]
    assert REGISTRY.unknown(["openid", "email"]) == []
    assert "zzz" not in REGISTRY and "openid" in REGISTRY


def test_group_by_provider():
    requested = [
        "dgfip_rfr",
        "bogus",
        "cnous_statut_boursier",
        "openid",
        "cnaf_quotient_familial",
        "email",
        "cnaf_adresse",
        "given_name",
        "dgfip_nbpart",
        "cnaf_quotient_familial",
    ]
    groups = REGISTRY.group_by_provider(requested)
    keys = [p.key if p else None for p, _ in groups]
    assert keys == [None, "cnaf", "cnous", "dgfip"]  # identity first, then registry order
    as_names = {k: [s.name for s in ss] for k, (_, ss) in zip(keys, groups, strict=False)}
    assert as_names[None] == ["email", "given_name"]  # openid left out
    assert as_names["cnaf"] == ["cnaf_quotient_familial", "cnaf_adresse"]  # no duplicate
    assert as_names["cnous"] == ["cnous_statut_boursier"]
    assert as_names["dgfip"] == ["dgfip_rfr", "dgfip_nbpart"]
    assert all(isinstance(p, DataProvider) for p, _ in groups[1:])
    assert all(isinstance(s, Scope) for _, ss in groups for s in ss)


def test_group_by_provider_omits_empty_groups():
    assert REGISTRY.group_by_provider(["openid"]) == []
    assert REGISTRY.group_by_provider(["bogus"]) == []
    [(provider, scopes)] = REGISTRY.group_by_provider(["openid", "pole_emploi_paiements"])
    assert provider.key == "france_travail" and [s.name for s in scopes] == [
        "pole_emploi_paiements"
    ]


def test_group_by_provider_follows_registry_provider_order():
    every_data = [s.name for s in reversed(REGISTRY.data_scopes())]
    groups = REGISTRY.group_by_provider(every_data)
    assert [p.key for p, _ in groups] == [p.key for p in REGISTRY.providers()]


# -- the registry refuses inconsistent data -------------------------------------------

_P = DataProvider("p", "Fournisseur", "Provider", "F")


def _identity(name="email", provider=None, claims=("email",)):
    return Scope(name, "Votre adresse", "Your address", "identity", provider, claims=claims)


def _data(name="d", **kw):
    args = {"fields": ("x",), "products": ("/v3/x",), **kw}
    return Scope(name, "Une donnée", "A datum", "data", args.pop("provider", "p"), **args)


@pytest.mark.parametrize(
    "scopes",
    [
        [_identity(), _identity()],  # duplicate name
        [_data(provider="other")],  # unknown provider
        [_data(fields=())],  # data scope without fields
        [_data(products=())],  # data scope without products
        [_identity(claims=())],  # identity scope without claims
        [_identity(provider="p")],  # identity scope with a provider
        [Scope("x", "", "X", "identity", None, claims=("sub",))],  # missing French label
        [Scope("x", "X", "X", "other", None, claims=("sub",))],  # unknown kind
    ],
)
def test_registry_rejects_bad_scopes(scopes):
    with pytest.raises(ValueError):
        ScopeRegistry([_P], scopes)


def test_registry_rejects_duplicate_provider():
    with pytest.raises(ValueError):
        ScopeRegistry([_P, _P], [])


def test_registry_accepts_good_scopes():
    reg = ScopeRegistry([_P], [_identity(), _data()])
    assert reg.names() == ["email", "d"]
