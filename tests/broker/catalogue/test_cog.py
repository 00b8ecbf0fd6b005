"""INSEE's geographic codes (COG) by name, as the shipped extract gives them: a commune's name on
a given day (communes merge and change names), a country's name in French and English, the
reverse look-up from a name and a department, and where the extract comes from."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from broker.catalogue import cog

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("code", "on", "name"),
    [
        ("75107", date(1962, 8, 24), "Paris 7e Arrondissement"),
        ("75107", None, "Paris 7e Arrondissement"),
        ("69383", date(1990, 1, 1), "Lyon 3e Arrondissement"),
        ("13201", date(2001, 5, 1), "Marseille 1er Arrondissement"),
        ("75056", None, "Paris"),
    ],
)
def test_paris_lyon_and_marseille_arrondissements(code, on, name):
    assert cog.commune_name(code, on) == name


def test_commune_nouvelle_shows_the_old_name_before_the_merger_and_the_new_one_after():
    """Bellegarde-sur-Valserine and five others became the commune nouvelle Valserhône, under
    Bellegarde's code, on 1 January 2019."""
    assert cog.commune_name("01033", date(2018, 12, 31)) == "Bellegarde-sur-Valserine"
    assert cog.commune_name("01033", date(2019, 1, 1)) == "Valserhône"
    assert cog.commune_name("01033") == "Valserhône"


def test_a_commune_merged_away_keeps_its_own_name():
    """Saint-Bois (01340) joined Arboys en Bugey (01015, formerly Arbignieu) on 1 January 2016."""
    assert cog.commune_name("01340", date(1975, 3, 2)) == "Saint-Bois"
    assert cog.commune_name("01340") == "Saint-Bois"  # the code ended: its last name
    assert cog.commune_name("01015", date(2015, 12, 31)) == "Arbignieu"
    assert cog.commune_name("01015", date(2016, 1, 1)) == "Arboys en Bugey"


def test_a_merger_after_2019_is_dated_by_the_cog_edition_that_shows_it():
    """Rousset became Rousset-Serre-Ponçon in the COG of 1 January 2025."""
    assert cog.commune_name("05127", date(2024, 12, 31)) == "Rousset"
    assert cog.commune_name("05127", date(2025, 1, 1)) == "Rousset-Serre-Ponçon"


def test_a_renamed_commune():
    """Bellegarde (01033) was renamed Bellegarde-sur-Valserine on 19 October 1956."""
    assert cog.commune_name("01033", date(1950, 6, 1)) == "Bellegarde"
    assert cog.commune_name("01033", date(1956, 10, 18)) == "Bellegarde"
    assert cog.commune_name("01033", date(1956, 10, 19)) == "Bellegarde-sur-Valserine"


def test_a_birth_before_1943_reads_the_first_known_name():
    assert cog.commune_name("01033", date(1931, 1, 1)) == "Bellegarde"


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("97411", "Saint-Denis"),  # La Réunion
        ("97611", "Mamoudzou"),  # Mayotte
        ("97502", "Saint-Pierre"),  # Saint-Pierre-et-Miquelon
        ("98818", "Nouméa"),  # Nouvelle-Calédonie
    ],
)
def test_overseas_communes(code, name):
    assert cog.commune_name(code, date(1980, 1, 1)) == name


def test_corsica_codes_before_and_after_the_two_departments():
    assert cog.commune_name("20004", date(1962, 1, 1)) == "Ajaccio"
    assert cog.commune_name("2A004", date(1980, 1, 1)) == "Ajaccio"
    assert cog.commune_name("2a004 ") == "Ajaccio"  # case and spaces do not count


@pytest.mark.parametrize(
    ("code", "french", "english"),
    [
        ("99100", "France", "France"),
        ("99134", "Espagne", "Spain"),
        ("99217", "Japon", "Japan"),
        ("99350", "Maroc", "Morocco"),
        ("99109", "Allemagne", "Germany"),
        ("99115", "Tchécoslovaquie", "Czechoslovakia"),  # a former state, no ISO code
    ],
)
def test_countries_in_french_and_english(code, french, english):
    assert cog.country_name(code, "fr") == french
    assert cog.country_name(code, "en") == english


@pytest.mark.parametrize("code", ["99999", "75199", "ABCDE", "", "7510", "99100 1"])
def test_unknown_codes_have_no_name(code):
    assert cog.commune_name(code) is None
    assert cog.commune_name(code, date(2000, 1, 1)) is None
    assert cog.country_name(code) is None


def test_a_commune_code_is_not_a_country_and_the_reverse():
    assert cog.country_name("75107") is None
    assert cog.commune_name("99100") is None


def test_reverse_look_up_from_name_and_department():
    assert cog.communes_named("Gonesse", "95") == ["95277"]
    assert cog.communes_named("GONESSE", "95", date(2000, 1, 1)) == ["95277"]
    assert cog.communes_named("Gonesse", "78", date(1960, 1, 1)) == ["78277"]  # before 1968
    assert cog.communes_named("saint denis", "974") == ["97411"]
    assert cog.communes_named("Gonesse", "93") == []
    # Two communes of Cantal were both named Saint-Bonnet until 1955: ambiguous.
    assert cog.communes_named("Saint-Bonnet", "15", date(1950, 1, 1)) == ["15173", "15174"]
    assert cog.communes_named("Saint-Bonnet", "15", date(1960, 1, 1)) == []
    # A name that a commune nouvelle replaced matches only before the merger.
    assert cog.communes_named("Bellegarde-sur-Valserine", "01", date(2000, 1, 1)) == ["01033"]
    assert cog.communes_named("Bellegarde-sur-Valserine", "01", date(2020, 1, 1)) == []


def test_the_extract_records_its_dated_source_and_licence():
    about = cog.source()
    assert "INSEE" in about["source"] and "Code officiel géographique" in about["source"]
    assert "@etalab/decoupage-administratif" in about["source"]
    assert date.fromisoformat(about["edition"]) >= date(2026, 1, 1)
    assert date.fromisoformat(about["built"]) >= date.fromisoformat(about["edition"])
    assert "Licence Ouverte 2.0" in about["licence"]
    assert (ROOT / about["refresh"]).is_file()


def test_the_extract_is_small_and_read_once():
    data = ROOT / "broker" / "catalogue" / "data" / "cog.tsv.gz"
    assert data.stat().st_size < 600_000
    cog.table.cache_clear()
    started = time.perf_counter()
    first = cog.table()
    loading = time.perf_counter() - started
    assert len(first.communes) > 35_000 and len(first.countries) > 200
    started = time.perf_counter()
    for _ in range(1000):
        cog.commune_name("50129", date(1990, 1, 1))
    assert cog.table() is first  # not read again
    assert time.perf_counter() - started < loading  # a thousand look-ups cost less than a read
