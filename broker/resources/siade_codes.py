"""The error codes, titles and details of API Particulier v3's backend (siade), as recorded.

Sources: ``openapi_files/api_particulier.yaml`` (its per-path error examples) and
``openapi_files/api_entreprise.yaml`` (the same backend's platform codes), the recorded answers
in ``payloads/api_particulier_v3_*`` and ``run.txt`` of etalab/siade_staging_data at commit
2045a4b; copies of the answers the tests check against are in ``tests/fixtures/siade/``.

A code is ``XXYYY``: ``XX`` the provider (``00`` the platform), ``YYY`` the case. The cases of a
provider are the same for every provider (``003`` not found, ``002`` timeout, ``001``
unavailable or in maintenance, ``999`` unknown provider error); the platform's parameter codes
name the parameter (``00420`` nomNaissance missing, ``00366`` identity badly formatted, ...).

Where siade has no recorded code the code is ours, marked so below (``OURS``).

Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass

GENERIC_NOT_FOUND = (
    "Le ou les paramètre(s) d'entrée n'existent pas, ne sont pas connus, ou ne comportent "
    "aucune information pour cet appel. Veuillez vérifier que votre recherche est couverte "
    "par le périmètre de l'API."
)


@dataclass(frozen=True)
class SiadeProvider:
    prefix: str  # the XX of XXYYY
    name: str  # siade's meta.provider
    not_found_title: str = "Entité non trouvée"
    not_found_detail: str = GENERIC_NOT_FOUND


# Keyed by our DataProvider keys. siade's paths: /v3/dss/* answer as the CNAV (37), except the
# family quotient of the CAF and the MSA, which siade documents as "CNAF & MSA" (35).
PROVIDERS: dict[str, SiadeProvider] = {
    "cnaf": SiadeProvider(
        "35",
        "CNAF & MSA",
        "Allocataire non référencé",
        "L'allocataire n'est pas référencé auprès des caisses éligibles",
    ),
    "dss": SiadeProvider(
        "37",
        "CNAV",
        not_found_detail="Dossier allocataire inexistant. Le document ne peut être édité.",
    ),
    "cnous": SiadeProvider(
        "26",
        "CNOUS",
        not_found_detail=(
            "Aucun étudiant boursier n'a pu être trouvé avec les critères de recherche fournis."
        ),
    ),
    "mesri": SiadeProvider(
        "25",
        "MESRI",
        not_found_detail=(
            "Aucun étudiant n'a pu être trouvé avec les critères de recherche fournis."
        ),
    ),
    "france_travail": SiadeProvider(
        "24",
        "France Travail",
        not_found_detail=(
            "Aucune situation France Travail n'a pu être trouvée avec les critères de recherche "
            "fournis."
        ),
    ),
    "men": SiadeProvider(
        "30",
        "MEN",
        not_found_detail="Aucun élève n'a pu être trouvé avec les critères de recherche fournis.",
    ),
    # Not an API Particulier provider: siade's code for the DGFiP is API Entreprise's (03).
    "dgfip": SiadeProvider("03", "DGFIP"),
    "gip_mds": SiadeProvider("31", "GIP-MDS"),
    "dsnj": SiadeProvider("39", "DSNJ"),
    "sdh": SiadeProvider("41", "SDH"),
    "ants": SiadeProvider("42", "ANTS"),
}

# -- the provider cases (YYY) ----------------------------------------------------------------

NOT_FOUND = "003"
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
CIVILITY_PARAMETERS = frozenset(
    {
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
    }
)


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
