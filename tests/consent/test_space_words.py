"""The citizen space's words for codes (``consent.space.words``): every scope, product,
provider and journal row in words, in French and English; anything unknown gets a generic
word, never its code."""

from __future__ import annotations

import pytest

from broker.catalogue.products import PRODUCTS
from broker.catalogue.scopes import REGISTRY
from broker.web.locale import use_locale
from consent.space.holdings import Notice, TokenView
from consent.space.words import (
    access_words,
    acr_label,
    join_items,
    notice_state,
    provider_name,
    result_label,
    scope_label,
    scope_labels,
    token_kind_label,
    token_state,
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
        # The broker's ID tokens carry no identity: a release made otherwise is not stated.
        assert access_words({**row, "credential": "id_token"}).identity == "Non précisé"
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


def test_sign_in_levels_tokens_and_notices_in_words():
    token = TokenView("refresh", "Cantine", "c", "g", ["openid"], 100, 200, None)
    with use_locale("fr"):
        assert acr_label("eidas2") == "substantiel" and acr_label("autre") == "autre"
        assert token_kind_label("refresh") == "Jeton de renouvellement"
        assert token_kind_label("x") == "Non précisé"
        assert token_state(token, now=150) == "Valable"
        assert token_state(token, now=200) == "Expiré"
        assert token_state(TokenView(**{**vars(token), "used_at": 120}), 150) == (
            "Remplacé par un nouveau jeton"
        )
        assert token_state(TokenView(**{**vars(token), "revoked_at": 130}), 150) == "Révoqué"
        assert notice_state(Notice("revoked", 100, None, None)) == "envoi en cours"
        assert notice_state(Notice("revoked", 100, 1_800_000_000, None)).startswith(
            "prévenu le 15 "
        )
        assert notice_state(Notice("revoked", 100, None, 1_800_000_000)).startswith("n'a pas pu")
    with use_locale("en"):
        assert acr_label("eidas3") == "high"
