"""The error codes, titles and details of API Particulier v3's backend (siade), as recorded.

Sources: ``openapi_files/api_particulier.yaml`` (its per-path error examples) and
``openapi_files/api_entreprise.yaml`` (the same backend's platform codes), the recorded answers
in ``payloads/api_particulier_v3_*`` and ``run.txt`` of etalab/siade_staging_data at commit
2045a4b; copies of the answers the tests check against are in ``tests/fixtures/siade/``.

A code is ``XXYYY``: ``XX`` who answered (``00`` the platform), ``YYY`` the case. The cases are
the same for every provider (``003`` not found, ``002`` timeout, ``001`` unavailable or in
maintenance, ``999`` unknown provider error); ``XX`` is the provider's, except where siade
documents a path otherwise: the DSS products answer their failures as the CNAV (37) and their
404s per product (:data:`PRODUCT_NOT_FOUND`). The platform's parameter codes name the parameter
(``00420`` nomNaissance missing, ``00366`` identity badly formatted, ...); ``00501`` is a
provider that could not be reached.

Where siade has no recorded code the code is ours, marked so below (``OURS``).

Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.catalogue.products import IDENTITY_PARAMETERS

GENERIC_NOT_FOUND = (
    "Le ou les paramètre(s) d'entrée n'existent pas, ne sont pas connus, ou ne comportent "
    "aucune information pour cet appel. Veuillez vérifier que votre recherche est couverte "
    "par le périmètre de l'API."
)


@dataclass(frozen=True)
class Answerer:
    """Who siade says answered: the ``XX`` of its codes and its ``meta.provider``."""

    prefix: str
    name: str


@dataclass(frozen=True)
class NotFoundAnswer:
    """siade's 404 for a product: who answers it, its title, and its detail, which some paths
    word per mode (``by_mode``)."""

    by: Answerer
    title: str = "Entité non trouvée"
    detail: str = GENERIC_NOT_FOUND
    by_mode: tuple[tuple[str, str], ...] = ()

    def detail_for(self, mode: str | None) -> str:
        return dict(self.by_mode).get(mode or "", self.detail)

    @property
    def code(self) -> str:
        return self.by.prefix + NOT_FOUND


@dataclass(frozen=True)
class SiadeProvider:
    """A provider's codes: ``prefix`` and ``name`` answer its failures (timeout, unavailable,
    maintenance, unknown error); ``not_found`` its 404, unless a product says otherwise
    (:data:`PRODUCT_NOT_FOUND`)."""

    prefix: str  # the XX of XXYYY
    name: str  # siade's meta.provider
    not_found: NotFoundAnswer | None = None  # None: the generic 404, answered by the provider

    def not_found_answer(self, product: str | None = None) -> NotFoundAnswer:
        if product in PRODUCT_NOT_FOUND:
            return PRODUCT_NOT_FOUND[product]
        return self.not_found or NotFoundAnswer(Answerer(self.prefix, self.name))


NOT_FOUND = "003"
CNAV = Answerer("37", "CNAV")
CNAF_MSA = Answerer("35", "CNAF & MSA")
RNCPS = Answerer("40", "RNCPS")
# The /v3/dss/* paths answer their failures as the CNAV (37); their 404 as the CAF and the MSA
# together ("Allocataire non référencé", 35003), except the C2S's (the RNCPS, 40003) and the
# EAJE's (the CNAV, 37003). siade documents two more 404s for the CAF/MSA products, 10003 (MSA)
# and 23003 (CNAF), naming the one fund without the file: our adapters do not say which fund
# was asked, so our 404 is the one naming both.
NOT_REFERENCED = NotFoundAnswer(
    CNAF_MSA,
    "Allocataire non référencé",
    "L'allocataire n'est pas référencé auprès des caisses éligibles",
)
_STUDENT = "Aucun étudiant n'a pu être trouvé"
_GRANT_HOLDER = "Aucun étudiant boursier n'a pu être trouvé"
_WITH_CRITERIA = " avec les critères de recherche fournis."
_CNOUS_NOT_FOUND = NotFoundAnswer(
    Answerer("26", "CNOUS"),
    detail=_GRANT_HOLDER + _WITH_CRITERIA,
    by_mode=(
        ("france_connect", _GRANT_HOLDER + "."),
        (
            "ine",
            _GRANT_HOLDER
            + _WITH_CRITERIA
            + " Veuillez vérifier que l'identifiant correspond au périmètre couvert par l'API.",
        ),
    ),
)

# Keyed by our DataProvider keys.
PROVIDERS: dict[str, SiadeProvider] = {
    "cnaf": SiadeProvider(CNAV.prefix, CNAV.name, NOT_REFERENCED),
    "dss": SiadeProvider(CNAV.prefix, CNAV.name, NOT_REFERENCED),
    "cnous": SiadeProvider("26", "CNOUS", _CNOUS_NOT_FOUND),
    "mesri": SiadeProvider(
        "25",
        "MESRI",
        NotFoundAnswer(
            Answerer("25", "MESRI"),
            detail=_STUDENT + _WITH_CRITERIA,
            by_mode=(("france_connect", _STUDENT + "."),),
        ),
    ),
    "france_travail": SiadeProvider(
        "24",
        "France Travail",
        NotFoundAnswer(
            Answerer("24", "France Travail"),
            detail=(
                "Aucune situation France Travail n'a pu être trouvée avec les critères de "
                "recherche fournis."
            ),
        ),
    ),
    "men": SiadeProvider(
        "30",
        "MEN",
        NotFoundAnswer(
            Answerer("30", "MEN"),
            # siade's own text, without accents or final period (its OpenAPI, v3 and v4)
            detail="Aucun eleve n'a pu etre trouve avec les criteres de recherche fournis",
        ),
    ),
    # Not an API Particulier provider: siade's code for the DGFiP is API Entreprise's (03).
    "dgfip": SiadeProvider("03", "DGFIP"),
    "gip_mds": SiadeProvider("31", "GIP-MDS"),
    "dsnj": SiadeProvider("39", "DSNJ"),
    "sdh": SiadeProvider("41", "SDH"),
    "ants": SiadeProvider("42", "ANTS"),
}

# The products whose 404 is not their provider's (by our product keys).
PRODUCT_NOT_FOUND: dict[str, NotFoundAnswer] = {
    "dss/complementaire_sante_solidaire": NotFoundAnswer(
        RNCPS,
        "Dossier allocataire absent RNCPS",
        "Le dossier allocataire n'a pas été trouvé auprès du RNCPS.",
        by_mode=(("france_connect", "Le dossier allocataire n'a pas été trouvé auprès du RNCPS"),),
    ),
    "dss/participation_familiale_eaje": NotFoundAnswer(
        CNAV,
        detail="Dossier allocataire inexistant. Le document ne peut être édité.",
        by_mode=(("france_connect", "Dossier allocataire inexistant."),),
    ),
}
# Every meta.provider siade's provider errors may carry, for a schema's enum.
NAMES = frozenset(
    {p.name for p in PROVIDERS.values()}
    | {p.not_found_answer().by.name for p in PROVIDERS.values()}
    | {a.by.name for a in PRODUCT_NOT_FOUND.values()}
)

# -- the provider cases (YYY) ----------------------------------------------------------------

TIMEOUT = "002"
UNAVAILABLE = "001"
UNKNOWN_PROVIDER_ERROR = "999"

TIMEOUT_TITLE = "Intermédiaire hors-délai"
TIMEOUT_DETAIL = "Temps d’attente d’une réponse du fournisseur de données écoulé."
UNAVAILABLE_TITLE = "Service non disponible"
UNAVAILABLE_DETAIL = (
    "Service du fournisseur de données temporairement indisponible ou en maintenance."
)
UNKNOWN_PROVIDER_ERROR_TITLE = "Erreur inconnue du fournisseur de données"
UNKNOWN_PROVIDER_ERROR_DETAIL = (
    "La réponse retournée par le fournisseur de données est invalide et inconnue de notre "
    "service. L'équipe technique a été notifiée de cette erreur pour investigation."
)

# -- the platform ----------------------------------------------------------------------------

PLATFORM = "00"
INVALID_TOKEN = ("00101", "Interdit")
EXPIRED_TOKEN = ("00103", "Jeton expiré")
BLACKLISTED_TOKEN = ("00105", "Jeton sur liste noire")
NETWORK_ERROR = ("00501", "Erreur réseau")  # the provider could not be reached
# siade's detail names API Entreprise (the platform both APIs share); ours names our service.
NETWORK_ERROR_DETAIL = (
    "Problème de connexion au serveur distant. L'erreur peut venir soit du fournisseur, soit "
    "de notre service. Il s'agit souvent d'une erreur temporaire."
)
NETWORK_RETRY_IN = 10  # seconds, siade's meta.retry_in of 00501
INSUFFICIENT_PRIVILEGES = ("00100", "Privilèges insuffisants")
INSUFFICIENT_PRIVILEGES_DETAIL = (
    "Votre token est valide mais vos privilèges sont insuffisants. Listez vos privilèges sur "
    "{introspect}"
)
TOO_MANY_REQUESTS = ("00429", "Trop de requêtes")
TOO_MANY_REQUESTS_DETAIL = "Vous avez effectué trop de requêtes"
UNPROCESSABLE = "Entité non traitable"  # the title of every parameter error

# OURS: no recorded siade answer for these; codes in the platform range, unused by siade's
# recorded answers.
OURS_UNKNOWN_ROUTE = ("00404", "Ressource inconnue")
OURS_UNAVAILABLE = ("00503", "Service indisponible")
OURS_INVALID_PARAMETER = "00399"  # a parameter siade has no code for (product parameters)

# -- parameter codes -------------------------------------------------------------------------

# A missing parameter (recorded: run.txt, v3 mesri/statut_etudiant and cnous/etudiant_boursier
# identite; the OpenAPI's 00203 and 00380).
MISSING_CODES = {
    "nomNaissance": "00420",
    "prenoms[]": "00421",
    "anneeDateNaissance": "00422",
    "sexeEtatCivil": "00427",
    "recipient": "00203",
    "identifiant": "00380",
}
# A badly formatted one.
FORMAT_CODES = {
    "ine": "00360",
    "recipient": "00302",  # siade's "numéro de siret n'est pas correctement formatté"
    "annee": "00307",
    "mois": "00305",
    "identifiant": "00380",
}
CIVILITY_CODE = "00366"  # "Un ou plusieurs paramètres de civilité ne sont pas correctement…"
CIVILITY_PARAMETERS = frozenset(IDENTITY_PARAMETERS)


# Parameters that exclude one another: (parameter, the one it was given with) -> code.
# siade's 00419: a school (codeEtablissement) and a perimeter together; any other pair is
# ours (00399).
EXCLUSIVE_CODES = {
    ("codeEtablissement", "codesBcnDepartements[]"): "00419",
    ("codeEtablissement", "codesBcnRegions[]"): "00419",
}


def exclusive_code(parameter: str | None, excluded: str) -> str:
    return EXCLUSIVE_CODES.get((parameter or "", excluded), OURS_INVALID_PARAMETER)


def parameter_code(parameter: str | None, missing: bool) -> str:
    """siade's code for a problem with ``parameter``."""
    if parameter is None:
        return CIVILITY_CODE
    if missing and parameter in MISSING_CODES:
        return MISSING_CODES[parameter]
    if parameter in FORMAT_CODES:
        return FORMAT_CODES[parameter]
    if parameter in CIVILITY_PARAMETERS:
        return CIVILITY_CODE
    return OURS_INVALID_PARAMETER
