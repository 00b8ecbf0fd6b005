"""Providers are called the same way in every sentence of the consent screen, with their
French articles and contractions; the preview's steps name only the providers it asks."""

from __future__ import annotations

from broker.catalogue.scopes import REGISTRY
from broker.resources.preview import FAILED, NOT_FOUND, OK, ProviderPreview
from broker.resources.readable import PreviewValue
from broker.web.locale import use_locale
from consent.screen.preview_steps import asked_providers, chosen, preview_location
from consent.screen.provider_names import NAMES, listed, provider_names, sentence_start
from consent.screen.wording import preview_summary, provider_notes


def test_every_provider_of_the_catalogue_has_its_forms_in_both_languages():
    assert {p.key for p in REGISTRY.providers()} == set(NAMES)
    for forms in NAMES.values():
        french = forms["fr"]
        assert french.of.startswith(("de ", "du ", "des ")) and french.to.startswith(("à ", "au "))
        assert forms["en"].the


def test_articles_and_contractions():
    with use_locale("fr"):
        assert provider_names("cnaf").of == "de la CAF"
        assert provider_names("cnous").of == "du Cnous" and provider_names("cnous").to == "au Cnous"
        assert provider_names("france_travail").the == "France Travail"
        assert listed(["cnaf", "cnous", "france_travail"], "of") == (
            "de la CAF, du Cnous et de France Travail"
        )
        assert sentence_start(provider_names("cnous").the) == "Le Cnous"
    with use_locale("en"):
        assert listed(["cnaf", "cnous"]) == "the CAF and the Cnous"


def test_sentences_say_only_what_is_true():
    read = ProviderPreview("cnaf", OK, {"cnaf_quotient_familial": [PreviewValue("QF", "1")]})
    late = ProviderPreview("cnous", FAILED, {}, "timeout")
    nothing = ProviderPreview("dgfip", NOT_FOUND, {})
    with use_locale("fr"):
        summary = preview_summary({"cnaf": read, "cnous": late, "dgfip": nothing})
        assert summary[0] == "Les valeurs ci-dessous viennent d'être lues auprès de la CAF."
        assert summary[1] == "Aucune valeur n'a pu être lue auprès du Cnous."
        assert provider_notes("cnaf", read) == []
        assert provider_notes("cnous", late) == [
            "Nous n'avons pas pu lire ces données auprès du Cnous.",
            "Le Cnous n'a pas répondu à temps.",
            "Si vous acceptez, le service les demandera lui-même au Cnous.",
        ]
        assert provider_notes("dgfip", nothing) == [
            "L'administration fiscale (DGFiP) n'a trouvé aucune donnée à votre nom."
        ]
        partial = ProviderPreview("cnaf", FAILED, read.values, "unavailable")
        assert provider_notes("cnaf", partial)[0] == (
            "Nous n'avons pas pu lire toutes ces données auprès de la CAF."
        )
        assert "lues auprès de la CAF." in preview_summary({"cnaf": partial})[0]
    for notes in (provider_notes("cnous", late), preview_summary({"cnous": late})):
        assert not any("empêche" in line for line in notes)  # no push to approve


def test_the_preview_asks_only_providers_it_can_read():
    assert asked_providers(["openid", "cnous_statut_boursier", "cnaf_adresse"]) == [
        "cnaf",
        "cnous",
    ]
    assert asked_providers(["openid", "pole_emploi_inscription", "men_statut_scolarite"]) == []
    path = "/interaction/i/consent"
    assert preview_location(path, ["cnaf_adresse"], ["cnaf_adresse"]) == (
        f"{path}?attente=1&choix=cnaf_adresse"
    )
    assert preview_location(path, ["openid", "email"], []) == f"{path}?apercu=1"


def test_attack_chosen_keeps_only_optional_items():
    optional = frozenset({"a", "b"})
    assert chosen(["b", "a", "a", "c", "", None, 3, "b\r\n"], optional) == ["a", "b"]
