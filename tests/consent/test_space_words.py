"""The citizen space's words for codes (``consent.space.words``): every scope, product,
provider and journal row in words, in French and English; anything unknown gets a generic
word, never its code."""

from __future__ import annotations

import pytest

from broker.catalogue.products import PRODUCTS
from broker.catalogue.scopes import REGISTRY
from broker.web.locale import use_locale
from consent.space.words import (
    access_words,
    join_items,
    provider_name,
    result_label,
    scope_label,
    scope_labels,
)

FC_ROW = {
    "product": "dss/quotient_familial",
    "mode": "france_connect",
    "credential": "access_token",
    "scopes": ["cnaf_adresse", "cnaf_quotient_familial"],
    "status": 200,
}


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_every_scope_and_provider_has_words_and_unknown_ones_a_generic_word(locale):
    with use_locale(locale):
        for name in REGISTRY.names():
            assert scope_label(name) and scope_label(name) != name
        for spec in PRODUCTS:
            words = access_words({**FC_ROW, "product": spec.key, "scopes": []})
            assert spec.key not in words.data and words.provider != spec.provider
        assert "cnaf_inconnu" not in scope_label("cnaf_inconnu")
        unknown = access_words({"product": "x/y", "mode": "autre", "scopes": [], "status": 500})
        assert "x/y" not in unknown.data and "autre" not in unknown.identity
        assert provider_name("nowhere") and provider_name("nowhere") != "nowhere"


def test_a_data_row_in_french_and_english():
    with use_locale("fr"):
        words = access_words(FC_ROW)
        assert words.provider.startswith("Caisse nationale des allocations familiales")
        # In the registry's order, whatever the row's: as the consent screen lists them.
        assert words.data == (
            "Votre quotient familial CAF ou MSA ; Votre adresse connue de la CAF ou de la MSA"
        )
        assert words.identity.startswith("Oui : le courtier")
        assert not words.identity_release and result_label(FC_ROW) == "Données transmises"
    with use_locale("en"):
        assert access_words(FC_ROW).data == (
            "Your CAF or MSA family quotient; Your address as known to the CAF or the MSA"
        )


@pytest.mark.parametrize(
    ("mode", "start"),
    [
        ("identite", "Oui : le logiciel d'un agent"),
        ("ine", "Non : le logiciel d'un agent a envoyé votre numéro INE"),
        ("identifiant", "Non : le logiciel d'un agent a envoyé votre identifiant"),
    ],
)
def test_calls_by_api_key_say_what_identified_the_citizen(mode, start):
    with use_locale("fr"):
        assert access_words({**FC_ROW, "mode": mode}).identity.startswith(start)


def test_an_identity_release_is_the_identity_sent_to_the_service():
    row = {
        "product": "identity",
        "mode": "openid",
        "credential": "userinfo",
        "scopes": ["openid", "profile", "email", "cnaf_quotient_familial"],
        "status": 200,
    }
    with use_locale("fr"):
        words = access_words(row)
        assert words.identity_release and words.provider == "Le courtier de consentement"
        assert words.data.startswith("Vos prénoms, votre nom de naissance")
        assert "quotient" not in words.data  # identity items only
        assert "identifiant technique" not in words.data  # openid goes without saying
        assert words.identity == "Lue par le service auprès du courtier"
        assert access_words({**row, "credential": "id_token"}).identity == (
            "Envoyée au service à votre connexion"
        )
        assert result_label(row) == "Identité transmise"
        alone = access_words({**row, "scopes": ["openid"]})
        assert alone.data == "Un identifiant technique qui vous est propre"


def test_results_and_item_lists():
    with use_locale("fr"):
        assert result_label({"status": 403}) == "Refusé"
        assert result_label({"status": 404}) == "Rien trouvé"
        assert result_label({"status": 503}) == "Erreur, rien transmis"
        assert scope_labels(["openid"]) == ["Un identifiant technique qui vous est propre"]
        assert join_items(["A, B", "C"]) == "A, B ; C"
    with use_locale("en"):
        assert join_items(["A, B", "C"]) == "A, B; C"
