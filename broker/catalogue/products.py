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
    # The identity mode's parameters this product takes (None: all of IDENTITY_PARAMETERS).
    identity_params: tuple[str, ...] | None = None
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
_FC_ID = (FRANCE_CONNECT, IDENTITE)

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
        "cnous/etudiant_boursier",
        "cnous",
        (IDENTITE, INE, FRANCE_CONNECT),
        (),
        "Statut étudiant boursier",
        "Student grant holder",
    ),
    Product(
        "mesri/statut_etudiant",
        "mesri",
        (IDENTITE, INE, FRANCE_CONNECT),
        (),
        "Statut étudiant",
        "Student status",
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
        (
            Param("codeEtablissement", "uai", required=True),
            Param("anneeScolaire", "school_year", required=True),
        ),
        "Scolarité d'un élève",
        "School enrolment",
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
)

_BY_KEY = {p.key: p for p in PRODUCTS}


def product(key: str) -> Product | None:
    return _BY_KEY.get(key)


def products_of(provider: str) -> list[Product]:
    return [p for p in PRODUCTS if p.provider == provider]
