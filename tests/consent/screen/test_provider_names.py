"""Providers are called the same way in every sentence of the consent screen, with their
French articles and contractions; the preview's steps are sealed URLs."""

from __future__ import annotations

from dataclasses import astuple
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.messages.pofile import read_po

from broker.app import CATALOG_DIRS
from broker.catalogue.scopes import REGISTRY
from broker.resources.preview import FAILED, NOT_FOUND, OK, ProviderPreview
from broker.resources.readable import PreviewValue
from broker.web import i18n
from broker.web.locale import use_locale
from consent.screen.preview_steps import chosen, preview_location, seal, sealed
from consent.screen.provider_names import NAMES, provider_names, sentence_start
from consent.screen.wording import preview_summary, provider_notes

CONSENT_LOCALES = next(d for d in CATALOG_DIRS if d.parent.name == "consent")


@pytest.fixture
def english_catalogs():
    """The English catalogs, as the composition root sets them."""
    i18n.use_catalogs(CATALOG_DIRS)


def test_every_provider_of_the_catalogue_has_its_forms_in_both_languages(english_catalogs):
    assert {p.key for p in REGISTRY.providers()} == set(NAMES)
    translated = english_catalog()
    for key, forms in NAMES.items():
        assert forms.of.startswith(("de ", "du ", "des ")) and forms.to.startswith(("à ", "au "))
        assert forms.start == sentence_start(forms.the)
        # Every form is in the catalog, for translators to see, and translated.
        for form in astuple(forms):
            assert translated.get(form) is not None and translated[form].string, form
        with use_locale("en"):
            english = provider_names(key)
        # The preposition is in the English sentence: every form is the name and its article.
        assert english.the == english.of == english.to and english.the, key
        assert english.start == sentence_start(english.the), key


def english_catalog():
    with (CONSENT_LOCALES / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale="en")


def test_articles_and_contractions(english_catalogs):
    with use_locale("fr"):
        # One interface answers for the CAF and the MSA: both are named.
        cnaf = provider_names("cnaf")
        assert (cnaf.the, cnaf.of, cnaf.to, cnaf.start) == (
            "la CAF ou la MSA",
            "de la CAF ou de la MSA",
            "à la CAF ou à la MSA",
            "La CAF ou la MSA",
        )
        assert provider_names("cnous").of == "du Cnous" and provider_names("cnous").to == "au Cnous"
        assert provider_names("france_travail").the == "France Travail"
        assert provider_names("cnous").start == "Le Cnous"
        assert provider_names("dgfip").start == "L'administration fiscale (DGFiP)"
    with use_locale("en"):
        cnaf = provider_names("cnaf")
        assert (cnaf.the, cnaf.of, cnaf.to, cnaf.start) == (
            "the CAF or the MSA",
            "the CAF or the MSA",
            "the CAF or the MSA",
            "The CAF or the MSA",
        )


def test_a_provider_without_forms_is_called_by_its_short_name(english_catalogs, monkeypatch):
    # A provider added to the catalogue before its forms are written here.
    monkeypatch.delitem(NAMES, "cnous")
    with use_locale("fr"):
        assert astuple(provider_names("cnous")) == ("Crous", "de Crous", "à Crous", "Crous")
    with use_locale("en"):
        assert astuple(provider_names("cnous")) == ("Crous",) * 4


def test_sentences_say_only_what_is_true(english_catalogs):
    read = ProviderPreview("cnaf", OK, {"cnaf_quotient_familial": [PreviewValue("QF", "1")]})
    late = ProviderPreview("cnous", FAILED, {}, "timeout")
    nothing = ProviderPreview("dgfip", NOT_FOUND, {})
    with use_locale("fr"):
        summary = preview_summary({"cnaf": read, "cnous": late, "dgfip": nothing})
        assert summary[0] == (
            "Les valeurs ci-dessous viennent d'être lues auprès de la CAF ou de la MSA."
        )
        assert summary[1] == "Aucune valeur n'a pu être lue auprès du Cnous."
        assert provider_notes("cnaf", read) == []
        # What follows either answer, accept or refuse, in the same words.
        assert provider_notes("cnous", late) == [
            "Nous n'avons pas pu lire ces données auprès du Cnous.",
            "Le Cnous n'a pas répondu à temps.",
            "Si vous acceptez, le service les demandera lui-même au Cnous. "
            "Si vous refusez, il ne les demandera pas.",
        ]
        assert provider_notes("dgfip", nothing) == [
            "L'administration fiscale (DGFiP) n'a trouvé aucune donnée à votre nom."
        ]
        partial = ProviderPreview("cnaf", FAILED, read.values, "unavailable")
        assert provider_notes("cnaf", partial)[0] == (
            "Nous n'avons pas pu lire toutes ces données auprès de la CAF ou de la MSA."
        )
        assert "lues auprès de la CAF ou de la MSA." in preview_summary({"cnaf": partial})[0]
        # One sentence per provider: "de la CAF ou de la MSA et du Cnous" would be ambiguous.
        both = preview_summary({"cnaf": partial, "cnous": late, "dss": late})
        assert both[1:3] == [
            "Aucune valeur n'a pu être lue auprès du Cnous.",
            "Aucune valeur n'a pu être lue auprès de la Sécurité sociale.",
        ]
    with use_locale("en"):
        assert provider_notes("cnaf", late)[-1] == (
            "If you agree, the service will ask the CAF or the MSA for it itself. "
            "If you refuse, it will not ask."
        )
    for notes in (provider_notes("cnous", late), preview_summary({"cnous": late})):
        assert not any("empêche" in line for line in notes)  # no push to approve


def test_the_preview_goes_to_the_waiting_page_only_when_providers_are_asked():
    path, token = "/interaction/i/consent", "step-token"
    waiting = urlsplit(preview_location(path, ["cnaf_adresse"], ["cnaf_adresse"], token))
    assert waiting.path == path
    assert parse_qs(waiting.query) == {
        "attente": ["1"],
        "choix": ["cnaf_adresse"],
        "sceau": [seal(token, "attente", ["cnaf_adresse"])],
    }
    reading = urlsplit(preview_location(path, ["openid", "email"], [], token))
    assert parse_qs(reading.query) == {"apercu": ["1"], "sceau": [seal(token, "apercu", [])]}


def test_attack_a_seal_holds_for_its_key_step_and_ticks_only():
    token = "step-token"
    good = seal(token, "apercu", ["a", "b"])
    assert sealed(good, token, "apercu", ["b", "a"])  # the ticks' order does not matter
    assert not sealed(good, "another-step-token", "apercu", ["a", "b"])  # another browser
    assert not sealed(good, token, "attente", ["a", "b"])
    assert not sealed(good, token, "apercu", ["a"])
    assert not sealed(good, token, "apercu", ["a", "b", "c"])
    assert not sealed(good, "", "apercu", ["a", "b"])  # no key, no seal
    assert not sealed(None, token, "apercu", ["a", "b"])
    assert not sealed(good.upper(), token, "apercu", ["a", "b"])
    assert not sealed("é" + good[1:], token, "apercu", ["a", "b"])  # never raises
    assert seal(token, "apercu", []) != seal(token, "attente", [])


def test_attack_chosen_keeps_only_optional_items():
    optional = frozenset({"a", "b"})
    assert chosen(["b", "a", "a", "c", "", None, 3, "b\r\n"], optional) == ["a", "b"]
