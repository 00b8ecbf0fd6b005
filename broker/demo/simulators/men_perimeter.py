"""Where a school lies, for the MEN simulator's perimeter search (API Particulier v4's
``codesBcnDepartements[]`` / ``codesBcnRegions[]`` / ``degreEtablissement``).

A school's department is read from its UAI (its first three characters, as the ministry
assigns them: ``044`` for Loire-Atlantique, ``620``/``720`` for Corse-du-Sud/Haute-Corse,
``971``… overseas), written as the BCN nomenclature N_DEPARTEMENT writes it (``044``, ``02A``,
``971``). Academic regions are numbered here as INSEE numbers the regions they coincide with
(``11`` Île-de-France, ``52`` Pays de la Loire…): directory data, not answers.
Standard library only.
"""

from __future__ import annotations

# Academic region -> its departments (two-character department numbers, overseas as 97x).
_REGIONS = {
    "11": "75 77 78 91 92 93 94 95",
    "24": "18 28 36 37 41 45",
    "27": "21 25 39 58 70 71 89 90",
    "28": "14 27 50 61 76",
    "32": "02 59 60 62 80",
    "44": "08 10 51 52 54 55 57 67 68 88",
    "52": "44 49 53 72 85",
    "53": "22 29 35 56",
    "75": "16 17 19 23 24 33 40 47 64 79 86 87",
    "76": "09 11 12 30 31 32 34 46 48 65 66 81 82",
    "84": "01 03 07 15 26 38 42 43 63 69 73 74",
    "93": "04 05 06 13 83 84",
    "94": "2A 2B",
    "01": "971",
    "02": "972",
    "03": "973",
    "04": "974",
    "06": "976",
}
_UAI_CORSICA = {"620": "02A", "720": "02B"}
DEGREES = ("1D", "2D")  # premier degré (écoles), second degré (collèges, lycées)


def bcn_department(uai: str) -> str:
    """The BCN department code of the school with this UAI."""
    head = uai[:3]
    return _UAI_CORSICA.get(head, head)


def _bcn(department: str) -> str:
    return department if len(department) == 3 else f"0{department}"


REGION_OF_DEPARTMENT = {
    _bcn(department): region
    for region, departments in _REGIONS.items()
    for department in departments.split()
}


def academic_region(uai: str) -> str | None:
    return REGION_OF_DEPARTMENT.get(bcn_department(uai))
