"""The identity items of the preview come from the citizen as received, in the page's language."""

from __future__ import annotations

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
    assert values(french, "profile") == {
        "Prénoms": "Angela Claire",
        "Nom de naissance": "DUBOIS",
        "Date de naissance": "24/08/1962",
        "Sexe": "Féminin",
        "Nom d'usage": "non renseigné",
    }
    assert values(french, "email") == {"Adresse électronique": "non renseigné"}
    assert "openid" not in french.values  # nothing to show for the technical identifier
    english = identity_preview(CITIZEN, ["birthdate", "gender"], "en")
    assert values(english, "birthdate") == {"Date of birth": "1962-08-24"}
    assert values(english, "gender") == {"Sex": "Female"}


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
        "Date de naissance": "11/1992"
    }
    assert identity_preview(CITIZEN, ["cnaf_quotient_familial"], "fr") is None
