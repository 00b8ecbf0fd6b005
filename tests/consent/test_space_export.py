"""Everything the broker holds about a citizen, over real HTTP: the JSON export a program
reads (ISO 8601 dates beside epoch seconds, labels beside codes) and the same as a page a
person reads and prints (the identity in words: birthplace and country by name)."""

from __future__ import annotations

import html
import re
from datetime import datetime

from tests.consent.test_space_support import (
    OPTIONAL,
    REQUIRED,
    codes_in,
    give_consent,
    journal_row,
)
from tests.helpers import Browser


def test_json_export_has_iso_dates_and_labels_beside_codes(broker):
    given = give_consent(broker, "Cantine de Villebourg")
    released = journal_row(broker, given)
    body = given.browser.get("/espace/export.json").json()
    assert datetime.fromisoformat(body["generated_at_iso"]).timestamp() == body["generated_at"]
    assert body["language"] == "fr"
    identity = body["identity"]
    assert (
        identity["birthplace"] == "75107"
        and identity["birthplace_name"] == "Paris 7e Arrondissement"
    )
    assert identity["birthcountry"] == "99100" and identity["birthcountry_name"] == "France"
    assert datetime.fromisoformat(identity["created_at_iso"]).timestamp() == identity["created_at"]
    consent = next(c for c in body["consents"] if c["id"] == given.consent_id)
    assert consent["status"] == "active" and consent["status_label"] == "En cours"
    created = datetime.fromisoformat(consent["created_at_iso"])
    assert created.timestamp() == consent["created_at"] and created.utcoffset() is not None
    items = {item["scope"]: item for item in consent["items"]}
    assert items[REQUIRED]["label"] == "Votre quotient familial CAF ou MSA"
    assert items[REQUIRED]["reason"] == "Pour calculer le prix du repas selon vos revenus."
    assert items[OPTIONAL]["optional"] is True
    [granted] = consent["events"]
    assert granted["label"] == "Accord donné" and granted["at_iso"]
    assert consent["controller"] and consent["retention"] and consent["receipt"].count(".") == 2
    row = next(r for r in body["journal"] if r["request_id"] == released)
    assert row["provider"] == "Le courtier de consentement"
    assert row["data"] == "Vos prénoms ; Votre nom de naissance"
    assert row["identity"] == "Lue par le service auprès du courtier"
    assert row["scope_labels"][1:] == ["Vos prénoms", "Votre nom de naissance"]

    english = given.browser.get("/espace/export.json?lang=en").json()
    assert english["language"] == "en"
    consent = next(c for c in english["consents"] if c["id"] == given.consent_id)
    assert {i["scope"]: i["label"] for i in consent["items"]}[REQUIRED] == (
        "Your CAF or MSA family quotient"
    )


def test_the_readable_export_shows_the_identity_in_words(broker):
    given = give_consent(broker, "Cantine de Villebourg")
    journal_row(broker, given)
    page = given.browser.get("/espace/mes-donnees")
    assert page.status_code == 200
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(r'data-identity-field="([^"]+)">([^<]*)<', page.text)
    }
    assert fields["given_name"] == "Angela Claire Louise" and fields["family_name"] == "DUBOIS"
    assert fields["birthdate"] == "24 août 1962" and fields["gender"] == "Féminin"
    assert fields["birthplace"] == "Paris 7e Arrondissement"
    assert fields["birthcountry"] == "France"
    assert fields["idp"] == "Identité démo"
    assert f'data-consent="{given.consent_id}"' in page.text
    assert "Votre quotient familial CAF ou MSA" in page.text
    assert "Lue par le service auprès du courtier" in page.text
    assert 'href="/espace/export.json" download' in page.text
    assert "space-printable" in page.text
    assert codes_in(page.text) == []

    english = given.browser.get("/espace/mes-donnees?lang=en").text
    assert "24 August 1962" in english and ">Female<" in english
    assert codes_in(english) == []


def test_a_presumed_birth_date_and_a_birth_abroad_read_in_words(broker):
    browser = Browser(broker.url)
    browser.space_login("étranger_présumé_né_jour_et_mois")
    page = browser.get("/espace/mes-donnees").text
    fields = dict(re.findall(r'data-identity-field="([^"]+)">([^<]*)<', page))
    assert re.fullmatch(r"\d{4}", fields["birthdate"])  # only the year is known
    assert "birthplace" not in fields and not fields["birthcountry"].startswith("pays de code")
    exported = browser.get("/espace/export.json").json()["identity"]
    assert exported["birthplace_name"] is None and exported["birthcountry_name"]


def test_attack_the_export_holds_only_the_signed_in_citizens_records(broker):
    mine = give_consent(broker, "Cantine de Villebourg")
    journal_row(broker, mine)
    intruder = Browser(broker.url)
    intruder.space_login("nom_composé")
    body = intruder.get("/espace/export.json").json()
    assert body["consents"] == [] and body["journal"] == []
    page = intruder.get("/espace/mes-donnees").text
    assert mine.consent_id not in page and "Cantine de Villebourg" not in page
