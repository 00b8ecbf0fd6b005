"""The products of the data API: which provider serves them, at which path, in which modes.

Paths, modes and parameter names are API Particulier v3's (``/v3/{provider}/{product}/{mode}``),
except DGFiP, which API Particulier v3 does not carry: its product is ours, named in the same
style. Which *fields* a scope unlocks lives in the scope registry (``broker.catalogue.scopes``); a
product's scopes are the registry's data scopes that list the product's path.

Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.catalogue.registry import Scope
from broker.catalogue.scopes import REGISTRY

FRANCE_CONNECT = "france_connect"
IDENTITE = "identite"
INE = "ine"
IDENTIFIANT = "identifiant"
MODES = (FRANCE_CONNECT, IDENTITE, INE, IDENTIFIANT)
# The query parameter carrying the identifier in the identifier modes.
IDENTIFIER_PARAMETER = {INE: "ine", IDENTIFIANT: "identifiant"}


# The identity parameters of the identity mode (API Particulier v3's names); a product may take
# only some of them (``Product.identity_params``).
IDENTITY_PARAMETERS = (
    "nomNaissance",
    "nomUsage",
    "prenoms[]",
    "anneeDateNaissance",
    "moisDateNaissance",
    "jourDateNaissance",
    "sexeEtatCivil",
    "codeCogInseePaysNaissance",
    "codeCogInseeCommuneNaissance",
    "nomCommuneNaissance",
    "codeCogInseeDepartementNaissance",
)


# Required by default. API Particulier's DSS products leave the birth year optional; we require
# it (a search without one matches too loosely), and it is needed to place a birth by name.
REQUIRED_IDENTITY = (
    "nomNaissance",
    "prenoms[]",
    "anneeDateNaissance",
    "sexeEtatCivil",
    "codeCogInseePaysNaissance",
)


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "year" | "month" | "uai" | "school_year" | "pattern"
    required: bool = False
    pattern: str = ""  # kind "pattern": the full-match regular expression (upper-cased value)
    hint: str = ""  # kind "pattern": what is expected, in French, for the 422 detail


@dataclass(frozen=True)
class Product:
    key: str  # "dss/quotient_familial"
    provider: str  # DataProvider.key
    modes: tuple[str, ...]
    params: tuple[Param, ...] = ()  # product parameters beyond the identity or identifier
    title_fr: str = ""
    title_en: str = ""
    # The identity mode's parameters this product takes (None: all of IDENTITY_PARAMETERS), and
    # those it requires (None: REQUIRED_IDENTITY, as far as the product takes them).
    identity_params: tuple[str, ...] | None = None
    identity_required: tuple[str, ...] | None = None
    # The identifier mode's format, a full-match regular expression on the upper-cased value
    # (None: the default of broker.resources.params for that parameter).
    identifier_pattern: str | None = None
    ours: bool = False  # not an API Particulier product (DGFiP): said in the catalogue

    @property
    def version(self) -> str:
        """``v3``, or the version a key names first (``v4/cnous/etudiant_boursier``)."""
        head = self.key.split("/", 1)[0]
        return head if head.startswith("v") and head[1:].isdigit() else "v3"

    @property
    def path(self) -> str:
        return f"/{self.key}" if self.version != "v3" else f"/v3/{self.key}"

    def route(self, mode: str) -> str:
        return f"{self.path}/{mode}"

    def scopes(self) -> list[Scope]:
        return [s for s in REGISTRY.data_scopes() if self.path in s.products]

    def scope_names(self) -> frozenset[str]:
        return frozenset(s.name for s in self.scopes())


_YEAR_MONTH = (Param("annee", "year"), Param("mois", "month"))
_BIRTH_DATE = ("anneeDateNaissance", "moisDateNaissance", "jourDateNaissance")
# Higher education (Cnous, MESRI): no usage name and no country; a birth in France by commune.
_STUDENT_IDENTITY = (
    "nomNaissance",
    "prenoms[]",
    *_BIRTH_DATE,
    "sexeEtatCivil",
    "codeCogInseeCommuneNaissance",
    "nomCommuneNaissance",
    "codeCogInseeDepartementNaissance",
)
_FC_ID = (FRANCE_CONNECT, IDENTITE)
# MEN v4 perimeter codes (BCN nomenclatures), several comma-separated values in one parameter:
# departments (N_DEPARTEMENT, 3 characters) and academic regions (N_REGION_ACADEMIQUE).
MEN_DEPARTMENTS = r"(?:0[0-9][0-9]|02[AB]|9[78][0-9])(?:,(?:0[0-9][0-9]|02[AB]|9[78][0-9]))*"
MEN_REGIONS = r"[0-9]{2}(?:,[0-9]{2})*"

# MEN finds a pupil in one school or in a perimeter (departments or academic regions, and
# the school's degree), in v3 as in v4.
_MEN_PARAMS = (
    Param("codeEtablissement", "uai"),
    Param("anneeScolaire", "school_year", required=True),
    Param(
        "degreEtablissement",
        "pattern",
        pattern="[12]D",
        hint="Attendu : 1D (premier degré) ou 2D (second degré).",
    ),
    Param(
        "codesBcnDepartements[]",
        "pattern",
        pattern=MEN_DEPARTMENTS,
        hint="Attendu : des codes BCN de département (3 caractères : 044, 02A, 971).",
    ),
    Param(
        "codesBcnRegions[]",
        "pattern",
        pattern=MEN_REGIONS,
        hint="Attendu : des codes BCN de région académique (2 chiffres : 11, 52).",
    ),
)


PRODUCTS: tuple[Product, ...] = (
    Product(
        "dss/quotient_familial",
        "cnaf",
        _FC_ID,
        _YEAR_MONTH,
        "Quotient familial CAF & MSA",
        "CAF & MSA family quotient",
    ),
    Product(
        "dss/revenu_solidarite_active",
        "dss",
        _FC_ID,
        (),
        "Revenu de solidarité active (RSA)",
        "Earned income supplement (RSA)",
    ),
    Product("dss/prime_activite", "dss", _FC_ID, (), "Prime d'activité", "In-work bonus"),
    Product(
        "dss/allocation_adulte_handicape",
        "dss",
        _FC_ID,
        (),
        "Allocation aux adultes handicapés (AAH)",
        "Disabled adult allowance (AAH)",
    ),
    Product(
        "dss/allocation_soutien_familial",
        "dss",
        _FC_ID,
        (),
        "Allocation de soutien familial (ASF)",
        "Family support allowance (ASF)",
    ),
    Product(
        "dss/complementaire_sante_solidaire",
        "dss",
        _FC_ID,
        (),
        "Complémentaire santé solidaire (C2S)",
        "Solidarity health cover (C2S)",
    ),
    Product(
        "dss/allocation_enfant_handicape",
        "dss",
        _FC_ID,
        (),
        "Allocation d'éducation de l'enfant handicapé (AEEH)",
        "Disabled child education allowance (AEEH)",
    ),
    Product(
        "dss/participation_familiale_eaje",
        "dss",
        _FC_ID,
        (),
        "Participation familiale en crèche (EAJE)",
        "Family contribution to childcare (EAJE crèche)",
    ),
    Product(
        "cnous/etudiant_boursier",
        "cnous",
        (IDENTITE, INE, FRANCE_CONNECT),
        (),
        "Statut étudiant boursier",
        "Student grant holder",
        identity_params=_STUDENT_IDENTITY,
        identity_required=("nomNaissance", "prenoms[]", *_BIRTH_DATE),
    ),
    Product(
        "mesri/statut_etudiant",
        "mesri",
        (IDENTITE, INE, FRANCE_CONNECT),
        (),
        "Statut étudiant",
        "Student status",
        identity_params=_STUDENT_IDENTITY,
        identity_required=("nomNaissance", "prenoms[]", *_BIRTH_DATE, "sexeEtatCivil"),
    ),
    Product(
        "france_travail/statut",
        "france_travail",
        (IDENTIFIANT,),
        (),
        "Statut demandeur d'emploi",
        "Jobseeker status",
    ),
    Product(
        "france_travail/indemnites",
        "france_travail",
        (IDENTIFIANT,),
        (),
        "Indemnités France Travail",
        "France Travail payments",
    ),
    Product(
        "men/scolarites",
        "men",
        (IDENTITE,),
        _MEN_PARAMS,
        "Scolarité d'un élève",
        "School enrolment",
        identity_params=("nomNaissance", "prenoms[]", "sexeEtatCivil", *_BIRTH_DATE),
        identity_required=("nomNaissance", "prenoms[]", "sexeEtatCivil", *_BIRTH_DATE),
    ),
    # v4 beside v3. Cnous v4 nests the grant status with the student's removal
    # ("radiation"); MEN v4 takes and answers what v3 does (the description gives both).
    Product(
        "v4/cnous/etudiant_boursier",
        "cnous",
        (IDENTITE, INE, FRANCE_CONNECT),
        (),
        "Statut étudiant boursier (v4)",
        "Student grant holder (v4)",
        identity_params=_STUDENT_IDENTITY,
        identity_required=("nomNaissance", "prenoms[]", *_BIRTH_DATE),
    ),
    Product(
        "v4/men/scolarites",
        "men",
        (IDENTITE,),
        _MEN_PARAMS,
        "Scolarité d'un élève (v4)",
        "School enrolment (v4)",
        identity_params=("nomNaissance", "prenoms[]", "sexeEtatCivil", *_BIRTH_DATE),
        identity_required=("nomNaissance", "prenoms[]", "sexeEtatCivil", *_BIRTH_DATE),
    ),
    Product(
        "dgfip/situation_fiscale",
        "dgfip",
        (FRANCE_CONNECT,),
        (Param("annee", "year"),),
        "Revenu fiscal de référence et situation du foyer fiscal",
        "Reference taxable income and tax household",
        ours=True,
    ),
    Product(
        "dsnj/service_national",
        "dsnj",
        _FC_ID,
        (),
        "Situation au regard du service national",
        "National service status",
        # siade's spec: the complete birth date, the sex and the country; no usage name.
        identity_params=(
            "nomNaissance",
            "prenoms[]",
            *_BIRTH_DATE,
            "sexeEtatCivil",
            "codeCogInseePaysNaissance",
            "codeCogInseeCommuneNaissance",
        ),
        identity_required=(
            "nomNaissance",
            "prenoms[]",
            *_BIRTH_DATE,
            "sexeEtatCivil",
            "codeCogInseePaysNaissance",
        ),
    ),
    Product(
        "gip_mds/service_civique",
        "gip_mds",
        _FC_ID,
        (),
        "Contrat de service civique, en cours et passé",
        "Civic service contract, current and past",
        # The DSN search takes the names and the complete birth date, nothing else.
        identity_params=("nomNaissance", "prenoms[]", *_BIRTH_DATE),
        identity_required=("nomNaissance", "prenoms[]", *_BIRTH_DATE),
    ),
    Product(
        "ants/extrait_immatriculation_vehicule",
        "ants",
        (FRANCE_CONNECT,),
        (
            Param(
                "immatriculation",
                "pattern",
                required=True,
                # SIV numbers (since 2009): no I, O or U, and never 000.
                pattern=r"[A-HJ-NP-TV-Z]{2}[- ]?(?!000)[0-9]{3}[- ]?[A-HJ-NP-TV-Z]{2}",
                hint="Attendu : un numéro d'immatriculation au format AA-123-AA.",
            ),
        ),
        "Extrait d'immatriculation véhicule",
        "Vehicle registration extract",
    ),
    Product(
        "sdh/statut_sportif",
        "sdh",
        (IDENTIFIANT,),
        (),
        "Statut sportif de haut niveau et sur liste ministérielle",
        "High-level athlete and ministerial list status",
        # The athlete's number at the Ministry of Sports: digits only.
        identifier_pattern=r"[0-9]{4,12}",
    ),
)

_BY_KEY = {p.key: p for p in PRODUCTS}


def product(key: str) -> Product | None:
    return _BY_KEY.get(key)


def products_of(provider: str) -> list[Product]:
    return [p for p in PRODUCTS if p.provider == provider]
