"""ops/refresh_cog.py as an operator runs it, on small sources laid out as its fetch leaves them
(``--from``: no network): the history's dated periods, the later COG editions, the arrondissements,
the countries named through CLDR, and a refusal that leaves the previous file in place."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from broker.catalogue.cog import CogTable

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "ops" / "refresh_cog.py"
EDITIONS = {2021: "1.1.1", 2022: "2.3.1", 2023: "3.1.1", 2024: "4.1.0", 2025: "5.3.0"}
LATEST = "6.0.0"  # COG 2026

HISTORY = [
    {"code": "01033", "type": "COM", "nom": "Bellegarde", "dateFin": "1956-10-19"},
    {
        "code": "01033",
        "type": "COM",
        "nom": "Bellegarde-sur-Valserine",
        "dateDebut": "1956-10-19",
        "dateFin": "1971-01-01",
    },
    {  # a fusion that kept the name: one period with the one before
        "code": "01033",
        "type": "COM",
        "nom": "Bellegarde-sur-Valserine",
        "dateDebut": "1971-01-01",
        "dateFin": "2019-01-01",
    },
    {"code": "01033", "type": "COMD", "nom": "Bellegarde-sur-Valserine", "dateDebut": "2019-01-01"},
    {"code": "01033", "type": "COM", "nom": "Valserhône", "dateDebut": "2019-01-01"},
    {"code": "01340", "type": "COM", "nom": "Saint-Bois", "dateFin": "2016-01-01"},
    {"code": "05127", "type": "COM", "nom": "Rousset"},
]


def commune(code: str, name: str, kind: str = "commune-actuelle") -> dict:
    return {"code": code, "nom": name, "type": kind}


def edition(year: int) -> list[dict]:
    communes = [
        commune("01033", "Valserhône"),
        commune("01033", "Bellegarde-sur-Valserine", "commune-deleguee"),
        commune("97411", "Saint-Denis"),  # not in the history: there before it
        commune("05127", "Rousset-Serre-Ponçon" if year >= 2025 else "Rousset"),
    ]
    if year >= 2026:
        communes.append(commune("75107", "Paris 7e Arrondissement", "arrondissement-municipal"))
    return communes


def sources(folder: Path, countries: dict[str, list[str]]) -> Path:
    def write(version: str, name: str, data: list[dict]) -> None:
        (folder / f"etalab-{version}").mkdir(parents=True, exist_ok=True)
        (folder / f"etalab-{version}" / name).write_text(json.dumps(data), encoding="utf-8")

    write("0.7.0", "historique-communes.json", HISTORY)
    write("0.7.0", "communes.json", edition(2019))
    for year, version in EDITIONS.items():
        write(version, "communes.json", edition(year))
    write(LATEST, "communes.json", edition(2026))
    (folder / "countries.py").write_text(
        f'CONTINENTS = {{"1": "Europe"}}\n\nCOUNTRIES = {countries!r}\n', encoding="utf-8"
    )
    return folder


def run(folder: Path, output: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, str(SCRIPT), "--from", str(folder), "--output", str(output)]
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)


def test_builds_dated_periods_editions_arrondissements_and_countries(tmp_path):
    countries = {
        "99134": ["ESPAGNE"],
        "99239": ["COREE (REPUBLIQUE DE)"],  # no CLDR name match: its ISO code is listed
        "99115": ["TCHECOSLOVAQUIE"],  # no ISO code: named by the script
    }
    folder = sources(tmp_path / "sources", countries)
    output = tmp_path / "cog.tsv.gz"
    result = run(folder, output)
    assert result.returncode == 0, result.stderr
    assert "5 commune codes" in result.stdout and "4 countries" in result.stdout

    table = CogTable.read(output)
    assert table.commune_name("01033", date(1950, 1, 1)) == "Bellegarde"
    assert table.commune_name("01033", date(1980, 1, 1)) == "Bellegarde-sur-Valserine"
    assert table.commune_name("01033", date(2019, 1, 1)) == "Valserhône"
    assert len(table.communes["01033"]) == 3  # the two Bellegarde-sur-Valserine periods merged
    assert table.commune_name("01340", date(1990, 1, 1)) == "Saint-Bois"
    assert table.commune_name("05127", date(2024, 12, 31)) == "Rousset"
    assert table.commune_name("05127", date(2025, 1, 1)) == "Rousset-Serre-Ponçon"
    assert table.commune_name("97411", date(1950, 1, 1)) == "Saint-Denis"
    assert table.commune_name("75107", date(1950, 1, 1)) == "Paris 7e Arrondissement"
    assert table.country_name("99100", "en") == "France"  # always there, not in INSEE's list
    assert table.country_name("99134", "fr") == "Espagne"
    assert table.country_name("99239", "en") == "South Korea"
    assert table.country_name("99115", "fr") == "Tchécoslovaquie"
    assert table.about["edition"] == "2026-01-01"
    assert "Licence Ouverte 2.0" in table.about["licence"]
    assert "@etalab/decoupage-administratif 0.7.0" in table.about["source"]

    again = tmp_path / "again.tsv.gz"
    assert run(folder, again).returncode == 0
    assert again.read_bytes() == output.read_bytes()  # same sources, same bytes


def test_a_country_without_a_name_is_refused_and_the_previous_file_stays(tmp_path):
    folder = sources(tmp_path / "sources", {"99998": ["PAYS IMAGINAIRE"]})
    output = tmp_path / "cog.tsv.gz"
    output.write_bytes(b"previous")
    result = run(folder, output)
    assert result.returncode == 1
    assert "99998 PAYS IMAGINAIRE" in result.stderr and "NAMES" in result.stderr
    assert output.read_bytes() == b"previous"
    assert list(tmp_path.glob("*.partial")) == []


def test_a_missing_edition_is_refused(tmp_path):
    folder = sources(tmp_path / "sources", {"99134": ["ESPAGNE"]})
    (folder / "etalab-3.1.1" / "communes.json").unlink()
    result = run(folder, tmp_path / "cog.tsv.gz")
    assert result.returncode == 1
    assert "missing source" in result.stderr and "etalab-3.1.1" in result.stderr
    assert not (tmp_path / "cog.tsv.gz").exists()
