"""Small reference tables the simulators use to complete the demo facts as a real provider's
records would be: postal code to commune, institution name to UAI, class level to MEF code.

These are directory data (what any INSEE or ministry directory says), not answers: a value the
tables do not know is answered as null, like a provider record with an empty column. The MEF
codes are illustrative, in the MEFSTAT11 format. Standard library only.
"""

from __future__ import annotations

# postal code -> (COG code of the commune or arrondissement, locality line)
POSTAL_CODES: dict[str, tuple[str, str]] = {
    "13002": ("13202", "13002 MARSEILLE"),
    "20200": ("2B033", "20200 BASTIA"),
    "69007": ("69387", "69007 LYON"),
    "75007": ("75107", "75007 PARIS"),
    "97400": ("97411", "97400 SAINT DENIS"),
}

# town of study (as the Crous writes it) -> COG code of the commune
STUDY_TOWNS: dict[str, str] = {
    "Lyon": "69123",
    "Marseille": "13055",
    "Paris": "75056",
    "Toulouse": "31555",
}

# higher-education institution -> UAI
INSTITUTIONS: dict[str, str] = {
    "Université Claude Bernard Lyon 1": "0691774D",
    "Université Lumière Lyon 2": "0691775E",
    "Aix-Marseille Université": "0134009M",
}

# class level (as the demo facts write it) -> (MEFSTAT11 code, MEN label)
CLASS_LEVELS: dict[str, tuple[str, str]] = {
    "Sixième": ("10010012110", "6EME"),
    "Cinquième": ("10110001110", "5EME"),
    "Quatrième": ("10210001110", "4EME"),
    "Troisième": ("10310019110", "3EME"),
    "Seconde générale et technologique": ("20010018110", "2NDE GENERALE & TECHNO YC BT"),
    "Première générale": ("20111010110", "1ERE GENERALE"),
    "Terminale générale": ("20211010110", "TERMINALE GENERALE"),
}

# school status (as the demo facts write it) -> MEN status code and label
SCHOOL_STATUSES: dict[str, tuple[str, str]] = {
    "scolaire": ("ST", "SCOLAIRE"),
    "apprenti": ("AP", "APPRENTI"),
    "formation continue": ("FC", "FORMATION CONTINUE"),
    "enseignement à distance": ("ED", "ENSEIGNEMENT A DISTANCE"),
}
UNKNOWN_SCHOOL_STATUS = ("NC", "NON CONNU")

MINISTRY_OF_EDUCATION = "06"  # code_ministere_tutelle of the Éducation nationale
