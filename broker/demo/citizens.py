"""Test citizens of the demo identity provider.

Pure data plus a few validation helpers; standard library only.

Sources
-------
* Identities reused from FranceConnect's own mock identity provider (the
  ``fip1v2`` citizens in ``france-connect/sources``,
  ``docker/volumes/fcp-low/mocks/idp/databases/citizen/base.csv`` and the
  FranceConnect+ ``fcp-high`` equivalent): logins, names, birth data and
  e-mail addresses of ``test`` (Angela Claire Louise DUBOIS),
  ``avec_nom_dusage``, ``prénom_composé``, ``nom_composé``,
  ``plusieurs_prénoms_3``, ``nom_prénom_long``, ``moins_18_ans``,
  ``naissance_Maroc``, ``naissance_Espagne``, ``test_CORSE_2A``,
  ``étranger_présumé_né_jour`` and ``étranger_présumé_né_jour_et_mois``.
  Deviation: ``test_CORSE_2A`` is spelt "Brosse" with ``preferred_username``
  "Mario" upstream; here the birth name is upper-cased like every other
  persona and the (meaningless) usage name is dropped.
* ``beneficiaire_rsa`` (born in Bastia, 2B033), ``etudiant_boursier`` and
  ``naissance_La_Réunion`` (97411) are our own additions.
* The ``situation`` facts are fictitious.  Their shape follows the API
  Particulier responses (CNAF/MSA quotient familial, Cnous, France Travail,
  MEN scolarités, DGFiP, DSS RSA/CSS), as documented in ``etalab/siade_staging_data``.

Presumed birth dates
--------------------
People whose civil-status record lacks the day, or the day and the month, of
birth ("présumés nés") are sent by FranceConnect with zeros in the unknown
parts: ``YYYY-MM-00`` (day unknown) or ``YYYY-00-00`` (day and month unknown).
FranceConnect's RNIPP validator accepts exactly ``YYYY-MM-DD``, ``YYYY-MM-00``
and ``YYYY-00-00``, and its end-to-end tests expect the service provider to
receive ``1992-11-00`` and ``1992-00-00`` for the two mock citizens above.
Only the eIDAS bridge turns them into real dates (``1992-11-01``,
``1992-01-01``); we keep FranceConnect's OIDC form and never invent a
``YYYY-01-01``.

Ages are computed with :func:`age_on`, which returns the *minimum* possible age
(unknown parts are taken as late as possible); that is the safe side for
"is this person an adult?" checks.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

__all__ = [
    "ACR_VALUES",
    "CITIZENS",
    "COG_FRANCE",
    "GENDERS",
    "PROVIDERS",
    "REFERENCE_DATE",
    "DemoCitizen",
    "age_on",
    "birthdate_bounds",
    "by_login",
    "is_presumed_birthdate",
    "validate",
]

COG_FRANCE = "99100"
GENDERS = ("female", "male")
ACR_VALUES = ("eidas1", "eidas2", "eidas3")
# Keys allowed in DemoCitizen.situation, one per simulated data provider.
PROVIDERS = ("cnaf", "cnous", "france_travail", "men", "dgfip", "dss")
# Date the demo data is written against (ages, school year, QF period).
REFERENCE_DATE = date(2026, 11, 27)


@dataclass(frozen=True)
class DemoCitizen:
    login: str  # what they type on the demo login page
    password: str  # demo password (plain here; the seeder hashes it with argon2)
    given_name: str  # all given names, space separated ("Angela Claire Louise")
    family_name: str  # birth name, upper case ("DUBOIS")
    preferred_username: str  # usage name, "" when none
    gender: str  # "female" | "male"
    birthdate: str  # "YYYY-MM-DD", or "YYYY-MM-00" / "YYYY-00-00" when presumed
    birthplace: str  # INSEE COG commune code when born in France, "" when born abroad
    birthcountry: str  # INSEE COG country code, "99100" for France
    email: str
    acr: str  # highest level this account reaches: "eidas1" | "eidas2" | "eidas3"
    case: str  # short French description shown on the demo login page
    birth_commune_name: str  # human-readable commune name, "" when born abroad
    # Facts used by the data-provider simulators; {} means "unknown everywhere".
    # Excluded from hashing so that a frozen citizen stays hashable.
    situation: dict = field(default_factory=dict, hash=False)


def _person(given_name: str, family_name: str, birthdate: str, gender: str) -> dict:
    return {
        "given_name": given_name,
        "family_name": family_name,
        "birthdate": birthdate,
        "gender": gender,
    }


CITIZENS: tuple[DemoCitizen, ...] = (
    DemoCitizen(
        login="test",
        password="123",
        given_name="Angela Claire Louise",
        family_name="DUBOIS",
        preferred_username="",
        gender="female",
        birthdate="1962-08-24",
        birthplace="75107",
        birthcountry=COG_FRANCE,
        email="wossewodda-3728@yopmail.com",
        acr="eidas2",
        case="Identité de référence de FranceConnect : trois prénoms, née à Paris 7e",
        birth_commune_name="Paris 7e Arrondissement",
        situation={
            "cnaf": {
                "allocataire_numero": "2716354",
                "code_postal": "75007",
                "quotient_familial": 2550,
                "qf_periode": "2026-10",
                "allocataires": [
                    _person("Angela Claire Louise", "DUBOIS", "1962-08-24", "female"),
                ],
                "enfants": [],
                "adresse": {
                    "destinataire": "MADAME DUBOIS ANGELA",
                    "numero_libelle_voie": "20 AVENUE DE SEGUR",
                    "code_postal_ville": "75007 PARIS",
                    "pays": "FRANCE",
                },
            },
            "dgfip": {
                "annee_revenus": 2025,
                "rfr": 30600,
                "nbpart": 1.0,
                "situation_familiale": "C",
                "personnes_a_charge": 0,
            },
        },
    ),
    DemoCitizen(
        login="avec_nom_dusage",
        password="123",
        given_name="Pierre",
        family_name="MERCIER",
        preferred_username="DUBOIS",
        gender="male",
        birthdate="1969-03-17",
        birthplace="95277",
        birthcountry=COG_FRANCE,
        email="ymmyffarapp-1777@yopmail.com",
        acr="eidas2",
        case="Nom d'usage : marié, porte le nom de son épouse (DUBOIS)",
        birth_commune_name="Gonesse",
        situation={
            "dgfip": {
                "annee_revenus": 2025,
                "rfr": 58400,
                "nbpart": 2.0,
                "situation_familiale": "M",
                "personnes_a_charge": 0,
            },
        },
    ),
    DemoCitizen(
        login="prénom_composé",
        password="123",
        given_name="Anne-Laure",
        family_name="HUCHE",
        preferred_username="",
        gender="female",
        birthdate="1945-09-30",
        birthplace="31555",
        birthcountry=COG_FRANCE,
        email="owallottim-1136@yopmail.com",
        acr="eidas2",
        case="Prénom composé avec trait d'union (Anne-Laure) ; retraitée, veuve",
        birth_commune_name="Toulouse",
        situation={
            "dgfip": {
                "annee_revenus": 2025,
                "rfr": 21900,
                "nbpart": 1.0,
                "situation_familiale": "V",
                "personnes_a_charge": 0,
            },
        },
    ),
    DemoCitizen(
        login="plusieurs_prénoms_3",
        password="123",
        given_name="Jean Philippe Arnaud",
        family_name="DUBIGNOT",
        preferred_username="",
        gender="male",
        birthdate="1943-06-15",
        birthplace="75109",
        birthcountry=COG_FRANCE,
        email="ecuhebup-9337@yopmail.com",
        acr="eidas3",
        case="Niveau de garantie élevé (eidas3) ; trois prénoms, retraité",
        birth_commune_name="Paris 9e Arrondissement",
        situation={
            "dgfip": {
                "annee_revenus": 2025,
                "rfr": 41200,
                "nbpart": 2.0,
                "situation_familiale": "M",
                "personnes_a_charge": 0,
            },
        },
    ),
    DemoCitizen(
        login="naissance_Maroc",
        password="123",
        given_name="Ermengardi",
        family_name="GODIN",
        preferred_username="",
        gender="female",
        birthdate="1985-09-05",
        birthplace="",
        birthcountry="99350",
        email="ammixaffa-0022@yopmail.com",
        acr="eidas2",
        case="Née à l'étranger (Maroc, pays 99350, sans commune) ; "
        "demandeuse d'emploi indemnisée par France Travail",
        birth_commune_name="",
        situation={
            "france_travail": {
                "identifiant": "4127395M",
                "inscrit": True,
                "date_inscription": "2026-03-02",
                "categorie": "1",
                "categorie_libelle": (
                    "PERSONNE SANS EMPLOI DISPONIBLE DUREE INDETERMINEE PLEIN TPS"
                ),
                "code_postal": "69007",
                "indemnise": True,
                "allocation": "ARE",
                "date_debut_indemnisation": "2026-03-12",
                "montant_mensuel": 1287.30,
            },
            "dgfip": {
                "annee_revenus": 2025,
                "rfr": 18900,
                "nbpart": 1.0,
                "situation_familiale": "C",
                "personnes_a_charge": 0,
            },
        },
    ),
    DemoCitizen(
        login="naissance_Espagne",
        password="123",
        given_name="Marphisa",
        family_name="CHEVAL",
        preferred_username="POULAIN",
        gender="female",
        birthdate="1982-02-24",
        birthplace="",
        birthcountry="99134",
        email="yttenneje-5416@yopmail.com",
        acr="eidas2",
        case="Née à l'étranger (Espagne, pays 99134) ; mariée, nom d'usage POULAIN",
        birth_commune_name="",
        situation={
            "dgfip": {
                "annee_revenus": 2025,
                "rfr": 47800,
                "nbpart": 2.0,
                "situation_familiale": "M",
                "personnes_a_charge": 0,
            },
        },
    ),
    DemoCitizen(
        login="test_CORSE_2A",
        password="123",
        given_name="Mario",
        family_name="BROSSE",
        preferred_username="",
        gender="male",
        birthdate="1981-02-03",
        birthplace="2A004",
        birthcountry=COG_FRANCE,
        email="mario.brosse@france.fr",
        acr="eidas2",
        case="Né en Corse-du-Sud : code commune avec une lettre (2A004, Ajaccio)",
        birth_commune_name="Ajaccio",
        situation={
            "dgfip": {
                "annee_revenus": 2025,
                "rfr": 33100,
                "nbpart": 1.0,
                "situation_familiale": "C",
                "personnes_a_charge": 0,
            },
        },
    ),
    DemoCitizen(
        login="beneficiaire_rsa",
        password="123",
        given_name="Dominique Antoine",
        family_name="SANTUCCI",
        preferred_username="",
        gender="male",
        birthdate="1979-06-11",
        birthplace="2B033",
        birthcountry=COG_FRANCE,
        email="dominique.santucci-demo@yopmail.com",
        acr="eidas2",
        case="Bénéficiaire du RSA (personne seule) ; né en Haute-Corse (2B033, Bastia)",
        birth_commune_name="Bastia",
        situation={
            "dss": {
                "rsa": True,
                "rsa_majoration": False,
                "rsa_date_debut_droit": "2025-04-01",
                "css": True,
                "css_participation_financiere": False,
                "aah": False,
                "prime_activite": False,
            },
            "cnaf": {
                "allocataire_numero": "1438827",
                "code_postal": "20200",
                "quotient_familial": 175,
                "qf_periode": "2026-10",
                "allocataires": [
                    _person("Dominique Antoine", "SANTUCCI", "1979-06-11", "male"),
                ],
                "enfants": [],
                "adresse": {
                    "destinataire": "MONSIEUR SANTUCCI DOMINIQUE",
                    "numero_libelle_voie": "12 BOULEVARD PAOLI",
                    "code_postal_ville": "20200 BASTIA",
                    "pays": "FRANCE",
                },
            },
            # RSA beneficiaries are registered at France Travail automatically
            # since 1 January 2025 (loi « pour le plein emploi »).
            "france_travail": {
                "identifiant": "5830142B",
                "inscrit": True,
                "date_inscription": "2025-04-01",
                "categorie": "1",
                "categorie_libelle": (
                    "PERSONNE SANS EMPLOI DISPONIBLE DUREE INDETERMINEE PLEIN TPS"
                ),
                "code_postal": "20200",
                "indemnise": False,
                "allocation": None,
                "date_debut_indemnisation": None,
                "montant_mensuel": 0,
            },
            "dgfip": {
                "annee_revenus": 2025,
                "rfr": 2100,
                "nbpart": 1.0,
                "situation_familiale": "C",
                "personnes_a_charge": 0,
            },
        },
    ),
    DemoCitizen(
        login="étranger_présumé_né_jour",
        password="123",
        given_name="Jean",
        family_name="FLEURET",
        preferred_username="",
        gender="male",
        birthdate="1992-11-00",
        birthplace="",
        birthcountry="99217",
        email="jean-fleuret@yopmail.com",
        acr="eidas2",
        case="Date de naissance présumée, jour inconnu (1992-11-00) ; né au Japon (99217)",
        birth_commune_name="",
        situation={
            # Struck off his Crous grant ("radié") when he left university: API Particulier v4.
            "cnous": {
                "boursier": False,
                "radie": True,
                "date_radiation": "2026-02-01",
                "echelon": 1,
                "statut": "definitif",
                "ine": "9211123456F",
                "ville_etudes": "Paris",
                "etablissement": "Université Paris Cité",
                "date_rentree": "2025-09-01",
                "duree_versement_mois": 5,
            },
            "dgfip": {
                "annee_revenus": 2025,
                "rfr": 28900,
                "nbpart": 1.0,
                "situation_familiale": "C",
                "personnes_a_charge": 0,
            },
        },
    ),
    DemoCitizen(
        login="étranger_présumé_né_jour_et_mois",
        password="123",
        given_name="Jean",
        family_name="TARGE",
        preferred_username="",
        gender="male",
        birthdate="1992-00-00",
        birthplace="",
        birthcountry="99217",
        email="jean-targe@yopmail.com",
        acr="eidas2",
        case="Date de naissance présumée, jour et mois inconnus (1992-00-00) ; né au Japon (99217)",
        birth_commune_name="",
        situation={
            "dgfip": {
                "annee_revenus": 2025,
                "rfr": 24600,
                "nbpart": 1.0,
                "situation_familiale": "C",
                "personnes_a_charge": 0,
            },
        },
    ),
    DemoCitizen(
        login="moins_18_ans",
        password="123",
        given_name="Alice Juliette",
        family_name="CHAMPION",
        preferred_username="",
        gender="female",
        birthdate="2010-11-02",
        birthplace="44109",
        birthcountry=COG_FRANCE,
        email="tonegellaf-0100@yopmail.com",
        acr="eidas1",
        case="Mineure (16 ans au 27/11/2026) : lycéenne en première à Nantes",
        birth_commune_name="Nantes",
        situation={
            "men": {
                "scolarise": True,
                "annee_scolaire": "2026-2027",
                "statut": "scolaire",
                "niveau": "Première générale",
                "boursier": False,
                "etablissement": {
                    "uai": "0440021J",
                    "nom": "Lycée Clemenceau",
                    "commune": "Nantes",
                },
            },
        },
    ),
    DemoCitizen(
        login="etudiant_boursier",
        password="123",
        given_name="Inès Clara",
        family_name="LAMBERT",
        preferred_username="",
        gender="female",
        birthdate="2006-04-12",
        birthplace="69383",
        birthcountry=COG_FRANCE,
        email="ines.lambert-demo@yopmail.com",
        acr="eidas2",
        case="Étudiante boursière du Cnous, échelon 5, à Lyon (20 ans)",
        birth_commune_name="Lyon 3e Arrondissement",
        situation={
            # Still attached to her parents' tax household: no DGFiP record of her own.
            "cnous": {
                "boursier": True,
                "echelon": 5,
                "statut": "definitif",
                "ine": "2406012345K",
                "ville_etudes": "Lyon",
                "etablissement": "Université Claude Bernard Lyon 1",
                "date_rentree": "2026-09-01",
                "duree_versement_mois": 10,
            },
        },
    ),
    DemoCitizen(
        login="nom_composé",
        password="123",
        given_name="Melissandre Juliette",
        family_name="TROIS-DUPRE",
        preferred_username="",
        gender="female",
        birthdate="1981-07-27",
        birthplace="13012",
        birthcountry=COG_FRANCE,
        email="imyllommo-2736@yopmail.com",
        acr="eidas2",
        case="Nom composé ; famille de trois enfants allocataire de la CAF (quotient familial 635)",
        birth_commune_name="Beaurecueil",
        situation={
            # Zoé's disability: her mother is paid the AEEH (quality 105, "allocataire"); Henry
            # (4) goes to a crèche whose fee the EAJE contribution sets.
            "dss": {
                "aeeh": True,
                "aeeh_qualite_beneficiaire": "105",
                "aeeh_date_debut_droit": "2021-03-01",
                "eaje_ressources_annuelles": 26400,
                "eaje_annee_ressources": 2024,
                "eaje_enfants_aeeh": 1,
            },
            "cnaf": {
                "allocataire_numero": "2745163",
                "code_postal": "13002",
                "quotient_familial": 635,
                "qf_periode": "2026-10",
                "allocataires": [
                    _person("Melissandre Juliette", "TROIS-DUPRE", "1981-07-27", "female"),
                    _person("Paul", "DUBOIS", "1979-10-12", "male"),
                ],
                "enfants": [
                    _person("Lou", "DUBOIS", "2015-03-15", "female"),
                    _person("Zoé Marie", "DUBOIS", "2018-09-03", "female"),
                    _person("Henry", "DUBOIS", "2022-06-20", "male"),
                ],
                "adresse": {
                    "destinataire": "MADAME TROIS-DUPRE MELISSANDRE",
                    "numero_libelle_voie": "14 RUE DE LA REPUBLIQUE",
                    "code_postal_ville": "13002 MARSEILLE",
                    "pays": "FRANCE",
                },
            },
            "dgfip": {
                "annee_revenus": 2025,
                "rfr": 26400,
                "nbpart": 4.0,
                "situation_familiale": "M",
                "personnes_a_charge": 3,
            },
        },
    ),
    DemoCitizen(
        login="nom_prénom_long",
        password="123",
        given_name="Emmanuel Alexandre Nicolas",
        family_name="DELALALALANDE",
        preferred_username="",
        gender="male",
        birthdate="1991-01-07",
        birthplace="75101",
        birthcountry=COG_FRANCE,
        email="holisadduppe-5969@yopmail.com",
        acr="eidas2",
        case="Aucune donnée chez les fournisseurs : toutes les API répondent « non trouvé »",
        birth_commune_name="Paris 1er Arrondissement",
        situation={},
    ),
    DemoCitizen(
        login="naissance_La_Réunion",
        password="123",
        given_name="Océane Marie",
        family_name="PAYET",
        preferred_username="",
        gender="female",
        birthdate="1995-10-03",
        birthplace="97411",
        birthcountry=COG_FRANCE,
        email="oceane.payet-demo@yopmail.com",
        acr="eidas1",
        case="Née à La Réunion (DROM, 97411 Saint-Denis) ; compte de niveau eidas1 uniquement",
        birth_commune_name="Saint-Denis",
        situation={
            "cnaf": {
                "allocataire_numero": "0874412",
                "code_postal": "97400",
                "quotient_familial": 1558,
                "qf_periode": "2026-10",
                "allocataires": [
                    _person("Océane Marie", "PAYET", "1995-10-03", "female"),
                ],
                "enfants": [],
                "adresse": {
                    "destinataire": "MADAME PAYET OCEANE",
                    "numero_libelle_voie": "5 RUE DE PARIS",
                    "code_postal_ville": "97400 SAINT DENIS",
                    "pays": "FRANCE",
                },
            },
            "dss": {
                "rsa": False,
                "css": False,
                "aah": False,
                "prime_activite": True,
            },
            "dgfip": {
                "annee_revenus": 2025,
                "rfr": 18700,
                "nbpart": 1.0,
                "situation_familiale": "C",
                "personnes_a_charge": 0,
            },
        },
    ),
)


def _normalize_login(login: str) -> str:
    # Browsers may send accented logins decomposed (NFD); the data is NFC.
    return unicodedata.normalize("NFC", login).strip()


_BY_LOGIN = {_normalize_login(c.login): c for c in CITIZENS}


def by_login(login: str) -> DemoCitizen | None:
    """The citizen with this login (case-sensitive, Unicode-normalised), or None."""
    if not isinstance(login, str):
        return None
    return _BY_LOGIN.get(_normalize_login(login))


# --------------------------------------------------------------------------- dates

_BIRTHDATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def birthdate_bounds(value: object) -> tuple[date, date] | None:
    """Earliest and latest possible dates for a FranceConnect birthdate.

    ``YYYY-MM-DD`` gives one date, ``YYYY-MM-00`` the whole month, ``YYYY-00-00``
    the whole year.  Returns None for anything else (including ``YYYY-00-DD``).
    """
    match = _BIRTHDATE_RE.match(value) if isinstance(value, str) else None
    if not match:
        return None
    year, month, day = (int(part) for part in match.groups())
    if year < 1850:
        return None
    try:
        if month == 0:
            return (date(year, 1, 1), date(year, 12, 31)) if day == 0 else None
        if day == 0:
            first = date(year, month, 1)
            next_month = date(year + month // 12, month % 12 + 1, 1)
            return first, date.fromordinal(next_month.toordinal() - 1)
        exact = date(year, month, day)
    except ValueError:
        return None
    return exact, exact


def is_presumed_birthdate(value: str) -> bool:
    """True for a valid ``YYYY-MM-00`` or ``YYYY-00-00`` birthdate."""
    bounds = birthdate_bounds(value)
    return bounds is not None and bounds[0] != bounds[1]


def age_on(birthdate: str, on: date) -> int:
    """Minimum possible age in whole years on ``on`` (unknown parts taken as late as possible)."""
    bounds = birthdate_bounds(birthdate)
    if bounds is None:
        raise ValueError(f"invalid birthdate: {birthdate!r}")
    born = bounds[1]
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# ------------------------------------------------------------------------ validation

# Commune codes: metropolitan departments 01-95 (no "20": Corsica is 2A/2B),
# Corsica 2A/2B, overseas departments and collectivities 97x/98x.
_COMMUNE_RE = re.compile(r"^(?:(?:0[1-9]|1\d|2[1-9]|[3-8]\d|9[0-5])\d{3}|2[AB]\d{3}|9[78]\d{3})$")
_COUNTRY_RE = re.compile(r"^99\d{3}$")
_CNAF_NUMBER_RE = re.compile(r"^\d{7}$")
_INE_RE = re.compile(r"^[0-9A-Z]{10}[A-Z]$")
_CNOUS_ECHELONS = ("0bis", 1, 2, 3, 4, 5, 6, 7)


def _person_problems(where: str, person: object, parent_latest: date | None) -> list[str]:
    if not isinstance(person, dict):
        return [f"{where}: not a dict"]
    problems = []
    for key in ("given_name", "family_name"):
        if not isinstance(person.get(key), str) or not person[key].strip():
            problems.append(f"{where}: {key} missing")
    if person.get("gender") not in GENDERS:
        problems.append(f"{where}: gender {person.get('gender')!r} not in {GENDERS}")
    bounds = birthdate_bounds(person.get("birthdate"))
    if bounds is None:
        problems.append(f"{where}: bad birthdate {person.get('birthdate')!r}")
    elif parent_latest is not None and bounds[0] <= parent_latest:
        problems.append(f"{where}: born {person['birthdate']}, not after the citizen")
    return problems


def _situation_problems(citizen: DemoCitizen) -> list[str]:
    situation = citizen.situation
    if not isinstance(situation, dict):
        return ["situation: not a dict"]
    problems = [f"situation: unknown provider {key!r}" for key in situation if key not in PROVIDERS]
    for key, facts in situation.items():
        if not isinstance(facts, dict):
            problems.append(f"situation.{key}: not a dict")
    bounds = birthdate_bounds(citizen.birthdate)
    latest_birth = bounds[1] if bounds else None

    cnaf = situation.get("cnaf")
    if isinstance(cnaf, dict):
        if not _CNAF_NUMBER_RE.match(str(cnaf.get("allocataire_numero", ""))):
            problems.append("situation.cnaf: allocataire_numero must be 7 digits")
        qf = cnaf.get("quotient_familial")
        if not isinstance(qf, int) or isinstance(qf, bool) or qf < 0:
            problems.append("situation.cnaf: quotient_familial must be a non-negative int")
        adults = cnaf.get("allocataires", [])
        for i, adult in enumerate(adults):
            problems += _person_problems(f"situation.cnaf.allocataires[{i}]", adult, None)
        if not any(
            isinstance(a, dict)
            and a.get("family_name") == citizen.family_name
            and a.get("birthdate") == citizen.birthdate
            for a in adults
        ):
            problems.append("situation.cnaf: the citizen is not among the allocataires")
        for i, child in enumerate(cnaf.get("enfants", [])):
            problems += _person_problems(f"situation.cnaf.enfants[{i}]", child, latest_birth)

    cnous = situation.get("cnous")
    if isinstance(cnous, dict) and cnous.get("boursier"):
        if cnous.get("echelon") not in _CNOUS_ECHELONS:
            problems.append(f"situation.cnous: echelon {cnous.get('echelon')!r} not 0bis..7")
        if not _INE_RE.match(str(cnous.get("ine", ""))):
            problems.append("situation.cnous: ine must be 11 characters")

    france_travail = situation.get("france_travail")
    if isinstance(france_travail, dict) and france_travail.get("inscrit"):
        if not france_travail.get("identifiant"):
            problems.append("situation.france_travail: identifiant missing")
        if france_travail.get("categorie") not in ("1", "2", "3", "4", "5"):
            problems.append("situation.france_travail: categorie must be '1'..'5'")

    dgfip = situation.get("dgfip")
    if isinstance(dgfip, dict):
        rfr, nbpart = dgfip.get("rfr"), dgfip.get("nbpart")
        if not isinstance(rfr, int) or isinstance(rfr, bool) or rfr < 0:
            problems.append("situation.dgfip: rfr must be a non-negative int")
        if not isinstance(nbpart, (int, float)) or nbpart < 1 or (nbpart * 4) % 1:
            problems.append("situation.dgfip: nbpart must be >= 1, in quarter parts")
    return problems


def validate(citizen: DemoCitizen, on: date | None = None) -> list[str]:
    """Problems with a citizen's data; an empty list means it is valid.

    ``on`` is the day birth dates must not be after (default: today).
    """
    on = on or date.today()
    problems: list[str] = []
    for name in ("login", "password", "given_name", "family_name", "email", "case"):
        value = getattr(citizen, name)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name}: missing")
    if citizen.login != _normalize_login(citizen.login):
        problems.append("login: must be NFC-normalised without surrounding spaces")
    for name in ("family_name", "preferred_username"):
        value = getattr(citizen, name)
        if value != value.upper():
            problems.append(f"{name}: {value!r} must be upper case")
    if citizen.email and "@" not in citizen.email:
        problems.append(f"email: {citizen.email!r} has no '@'")
    if citizen.gender not in GENDERS:
        problems.append(f"gender: {citizen.gender!r} not in {GENDERS}")
    if citizen.acr not in ACR_VALUES:
        problems.append(f"acr: {citizen.acr!r} not in {ACR_VALUES}")

    bounds = birthdate_bounds(citizen.birthdate)
    if bounds is None:
        problems.append(
            f"birthdate: {citizen.birthdate!r} is not YYYY-MM-DD, YYYY-MM-00 or YYYY-00-00"
        )
    elif bounds[0] > on:
        problems.append(f"birthdate: {citizen.birthdate} is in the future")

    if not _COUNTRY_RE.match(citizen.birthcountry or ""):
        problems.append(f"birthcountry: {citizen.birthcountry!r} is not a 99xxx COG country code")
    if citizen.birthcountry == COG_FRANCE:
        if not citizen.birthplace:
            problems.append("birthplace: required when born in France (99100)")
        elif not _COMMUNE_RE.match(citizen.birthplace):
            problems.append(f"birthplace: {citizen.birthplace!r} is not a COG commune code")
    elif citizen.birthplace:
        problems.append("birthplace: must be empty when born abroad")
    if bool(citizen.birthplace) != bool(citizen.birth_commune_name):
        problems.append("birth_commune_name: given iff birthplace is")

    return problems + _situation_problems(citizen)
