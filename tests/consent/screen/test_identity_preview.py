"""The identity items of the preview come from the citizen as received, in the page's language
and in words: dates written out, the birthplace named as it was on the date of birth, the
country by its name; never a code shown as if it were a name."""

from __future__ import annotations

from dataclasses import replace

from broker.oidc.models import CitizenIdentity
from consent.screen.identity_preview import identity_preview

CITIZEN = CitizenIdentity(
    id="c",
    given_name="Angela Claire",
    family_name="DUBOIS",
    birthdate="1962-08-24",
    gender="female",
    birthplace="75107",
    birthcountry="99100",
    preferred_username="",
    email="",
)


def values(preview, scope):
    return {v.label: v.value for v in preview.values[scope]}


def test_identity_values_in_french_and_english():
    french = identity_preview(CITIZEN, ["openid", "profile", "email"], "fr")
    assert french is not None
    assert values(french, "profile") == {
        "Prénoms": "Angela Claire",
        "Nom de naissance": "DUBOIS",
        "Date de naissance": "24 août 1962",
        "Sexe": "Féminin",
        "Nom d'usage": "non renseigné",
    }
    assert values(french, "email") == {"Adresse électronique": "non renseigné"}
    assert "openid" not in french.values  # nothing to show for the technical identifier
    english = identity_preview(CITIZEN, ["birthdate", "gender"], "en")
    assert values(english, "birthdate") == {"Date of birth": "24 August 1962"}
    assert values(english, "gender") == {"Sex": "Female"}


def test_birthplace_and_country_by_name_without_code_labels():
    french = identity_preview(CITIZEN, ["birth"], "fr")
    assert values(french, "birth") == {
        "Lieu de naissance": "Paris 7e Arrondissement",
        "Pays de naissance": "France",
    }
    english = identity_preview(CITIZEN, ["birthplace", "birthcountry"], "en")
    assert values(english, "birthplace") == {"Place of birth": "Paris 7e Arrondissement"}
    assert values(english, "birthcountry") == {"Country of birth": "France"}


def test_birthplace_is_named_as_on_the_date_of_birth():
    """Cherbourg (50129) became Cherbourg-Octeville on 28 February 2000, then the commune nouvelle
    Cherbourg-en-Cotentin on 1 January 2016."""
    born = {
        "1962-08-24": "Cherbourg",
        "2000-02-28": "Cherbourg-Octeville",
        "2015-12-31": "Cherbourg-Octeville",
        "2016-01-01": "Cherbourg-en-Cotentin",
        "2016-00-00": "Cherbourg-en-Cotentin",  # presumed: read at the first day known
    }
    for birthdate, name in born.items():
        citizen = replace(CITIZEN, birthplace="50129", birthdate=birthdate)
        shown = values(identity_preview(citizen, ["birthplace"], "fr"), "birthplace")
        assert shown == {"Lieu de naissance": name}, birthdate


def test_born_abroad():
    abroad = replace(CITIZEN, birthplace="", birthcountry="99350")
    assert values(identity_preview(abroad, ["birth"], "fr"), "birth") == {
        "Lieu de naissance": "hors de France",
        "Pays de naissance": "Maroc",
    }
    assert values(identity_preview(abroad, ["birth"], "en"), "birth") == {
        "Place of birth": "outside France",
        "Country of birth": "Morocco",
    }


def test_unknown_codes_are_said_to_be_codes():
    unknown = replace(CITIZEN, birthplace="75199", birthcountry="99999")
    assert values(identity_preview(unknown, ["birth"], "fr"), "birth") == {
        "Lieu de naissance": "commune inconnue (code 75199)",
        "Pays de naissance": "pays inconnu (code 99999)",
    }
    assert values(identity_preview(unknown, ["birth"], "en"), "birth") == {
        "Place of birth": "unknown town (code 75199)",
        "Country of birth": "unknown country (code 99999)",
    }
    nothing = replace(CITIZEN, birthplace="", birthcountry="")
    assert values(identity_preview(nothing, ["birth"], "fr"), "birth") == {
        "Lieu de naissance": "non renseigné",
        "Pays de naissance": "non renseigné",
    }


def test_presumed_dates_and_data_scopes():
    presumed = CitizenIdentity(
        id="c",
        given_name="A",
        family_name="B",
        birthdate="1992-11-00",
        gender="male",
        birthplace="",
        birthcountry="99350",
    )
    assert values(identity_preview(presumed, ["birthdate"], "fr"), "birthdate") == {
        "Date de naissance": "novembre 1992"
    }
    assert values(identity_preview(presumed, ["birthdate"], "en"), "birthdate") == {
        "Date of birth": "November 1992"
    }
    year_only = replace(presumed, birthdate="1992-00-00")
    assert values(identity_preview(year_only, ["birthdate"], "fr"), "birthdate") == {
        "Date de naissance": "1992"
    }
    assert identity_preview(CITIZEN, ["cnaf_quotient_familial"], "fr") is None
