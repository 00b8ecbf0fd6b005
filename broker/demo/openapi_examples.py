"""One worked example per product, from the demo citizens of ``docs/simulators.md``: who is
asked about, in which mode, and the ``data`` the simulators then answer to a caller holding
every scope of the product (the end-to-end tests check that the live API answers exactly this).

The request parameters are derived from the demo citizen (``broker.demo.citizens``), never
copied by hand. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from broker.catalogue.products import FRANCE_CONNECT, IDENTIFIER_PARAMETER, IDENTITE, product
from broker.demo.citizens import COG_FRANCE, by_login

DINUM = "13002526500013"  # SIRET of DINUM, a public body: the example recipient
SEXES = {"female": "F", "male": "M"}


@dataclass(frozen=True)
class ProductExample:
    login: str  # the demo citizen (docs/simulators.md), password 123
    mode: str  # the mode the example answer is given in
    data: dict[str, Any]
    identifier: str | None = None  # INE or France Travail identifiant, for those modes
    params: dict[str, Any] = field(default_factory=dict)  # product parameters

    def query(self, product_key: str, mode: str) -> dict[str, Any]:
        """The query parameters for this citizen in ``mode`` of the product (identity,
        identifier, product parameters, recipient), as a client sends them: in identity mode,
        only the identity parameters the product takes (the data API ignores the others, but
        the documented example should be exact)."""
        query: dict[str, Any] = {}
        if mode == IDENTITE:
            spec = product(product_key)
            if spec is None:
                raise KeyError(product_key)
            query.update(identity_query(self.login, spec.identity_params))
        elif mode in IDENTIFIER_PARAMETER and self.identifier:
            query[IDENTIFIER_PARAMETER[mode]] = self.identifier
        query.update(self.params)
        if mode != FRANCE_CONNECT:
            query["recipient"] = DINUM
        return query


def identity_query(login: str, taken: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The ``identite`` parameters of a demo citizen: every given name, the known parts of the
    birth date, the commune when born in France, the usage name when there is one; only those
    in ``taken`` when given (a product's ``identity_params``)."""
    citizen = by_login(login)
    if citizen is None:
        raise KeyError(login)
    year, month, day = (int(part) for part in citizen.birthdate.split("-"))
    query: dict[str, Any] = {"nomNaissance": citizen.family_name}
    if citizen.preferred_username:
        query["nomUsage"] = citizen.preferred_username
    query["prenoms[]"] = citizen.given_name.split()
    query["anneeDateNaissance"] = year
    if month:
        query["moisDateNaissance"] = month
    if day:
        query["jourDateNaissance"] = day
    query["sexeEtatCivil"] = SEXES[citizen.gender]
    query["codeCogInseePaysNaissance"] = citizen.birthcountry
    if citizen.birthcountry == COG_FRANCE:
        query["codeCogInseeCommuneNaissance"] = citizen.birthplace
    return query if taken is None else {k: v for k, v in query.items() if k in taken}


def _person(name: str, given: str, born: str, sex: str) -> dict[str, Any]:
    return {
        "nom_naissance": name,
        "nom_usage": None,
        "prenoms": given,
        "date_naissance": born,
        "sexe": sex,
    }


def _benefit(since: str | None, received: bool = True, **extra: Any) -> dict[str, Any]:
    return {"est_beneficiaire": received, "date_debut_droit": since, **extra}


def _payment(month: int, amount: float) -> dict[str, Any]:
    return {
        "date_versement": f"2026-{month:02d}-01",
        "montant_total": amount,
        "montant_allocations": amount,
        "montant_aides": 0.0,
        "montant_autres": 0.0,
    }


_LYON_1 = "Université Claude Bernard Lyon 1"

# Alice at the Lycée Clemenceau (moins_18_ans), as MEN answers in v3 and v4 alike.
ALICE_AT_SCHOOL: dict[str, Any] = {
    "identite": {
        "nom": "CHAMPION",
        "prenom": "Alice",
        "sexe": "F",
        "date_naissance": "2010-11-02",
    },
    "annee_scolaire": "2026-2027",
    "est_scolarise": True,
    "statut_eleve": {"code": "ST", "libelle": "SCOLAIRE"},
    "etablissement": {"code_uai": "0440021J", "code_ministere_tutelle": "06"},
    "module_elementaire_formation": {
        "code_mef_stat": "20111010110",
        "libelle": "1ERE GENERALE",
    },
    "est_boursier": False,
    "echelon_bourse": None,
}


EXAMPLES: dict[str, ProductExample] = {
    "dss/quotient_familial": ProductExample(
        "nom_composé",
        IDENTITE,
        {
            "quotient_familial": {
                "fournisseur": "CNAF",
                "valeur": 635,
                "annee": 2026,
                "mois": 10,
                "annee_calcul": 2026,
                "mois_calcul": 10,
            },
            "allocataires": [
                _person("TROIS-DUPRE", "Melissandre Juliette", "1981-07-27", "F"),
                _person("DUBOIS", "Paul", "1979-10-12", "M"),
            ],
            "enfants": [
                _person("DUBOIS", "Lou", "2015-03-15", "F"),
                _person("DUBOIS", "Zoé Marie", "2018-09-03", "F"),
                _person("DUBOIS", "Henry", "2022-06-20", "M"),
            ],
            "adresse": {
                "destinataire": "MADAME TROIS-DUPRE MELISSANDRE",
                "complement_information": None,
                "complement_information_geographique": None,
                "numero_libelle_voie": "14 RUE DE LA REPUBLIQUE",
                "lieu_dit": None,
                "code_postal_ville": "13002 MARSEILLE",
                "pays": "FRANCE",
            },
        },
    ),
    "dss/revenu_solidarite_active": ProductExample(
        "beneficiaire_rsa", IDENTITE, _benefit("2025-04-01", avec_majoration=False)
    ),
    "dss/prime_activite": ProductExample(
        "naissance_La_Réunion", IDENTITE, _benefit(None, avec_majoration=None)
    ),
    "dss/allocation_adulte_handicape": ProductExample(
        "test", IDENTITE, _benefit(None, received=False)
    ),
    "dss/allocation_soutien_familial": ProductExample(
        "test", IDENTITE, _benefit(None, received=False)
    ),
    "dss/complementaire_sante_solidaire": ProductExample(
        "beneficiaire_rsa", IDENTITE, _benefit(None, avec_participation=False)
    ),
    "cnous/etudiant_boursier": ProductExample(
        "etudiant_boursier",
        IDENTITE,
        {
            "est_boursier": True,
            "echelon_bourse": {"echelon": "5", "echelon_bourse_regionale_provisoire": False},
            "email": "ines.lambert-demo@yopmail.com",
            "periode_versement_bourse": {"date_rentree": "2026-09-01", "duree": 10},
            "etablissement_etudes": {"nom_commune": "Lyon", "nom_etablissement": _LYON_1},
            "identite": {
                "nom": "LAMBERT",
                "prenoms": ["Inès", "Clara"],
                "date_naissance": "2006-04-12",
                "nom_commune_naissance": "Lyon 3e Arrondissement",
                "sexe": "F",
            },
        },
        identifier="2406012345K",
    ),
    "mesri/statut_etudiant": ProductExample(
        "etudiant_boursier",
        IDENTITE,
        {
            "admissions": [
                {
                    "date_debut": "2026-09-01",
                    "date_fin": "2027-08-31",
                    "est_inscrit": True,
                    "regime_formation": {"code": "RF1", "libelle": "formation initiale"},
                    "code_cog_insee_commune": "69123",
                    "etablissement_etudes": {"uai": "0691774D", "nom": _LYON_1},
                }
            ],
            "identite": {
                "nom_naissance": "LAMBERT",
                "prenom": "Inès",
                "date_naissance": "2006-04-12",
            },
        },
        identifier="2406012345K",
    ),
    "france_travail/statut": ProductExample(
        "naissance_Maroc",
        "identifiant",
        {
            "identifiant": "4127395M",
            "identite": {
                "civilite": "Mme",
                "nom_naissance": "GODIN",
                "nom_usage": None,
                "prenom": "Ermengardi",
                "sexe": "Féminin",
                "date_naissance": "1985-09-05",
            },
            "contact": {
                "email": "ammixaffa-0022@yopmail.com",
                "telephone": None,
                "telephone2": None,
            },
            "adresse": {
                "code_cog_insee_commune": "69387",
                "code_postal": "69007",
                "ligne_complement_adresse": None,
                "ligne_complement_destinataire": None,
                "ligne_complement_distribution": None,
                "ligne_nom": "MME GODIN ERMENGARDI",
                "ligne_voie": None,
                "localite": "69007 LYON",
            },
            "inscription": {
                "date_debut": "2026-03-02",
                "date_fin": None,
                "code_certification_cnav": "VC",
                "categorie": {
                    "code": 1,
                    "libelle": "PERSONNE SANS EMPLOI DISPONIBLE DUREE INDETERMINEE PLEIN TPS",
                },
            },
        },
        identifier="4127395M",
    ),
    "france_travail/indemnites": ProductExample(
        "naissance_Maroc",
        "identifiant",
        {"paiements": [_payment(month, 1287.3) for month in range(4, 12)]},
        identifier="4127395M",
    ),
    "men/scolarites": ProductExample(
        "moins_18_ans",
        IDENTITE,
        ALICE_AT_SCHOOL,
        params={"codeEtablissement": "0440021J", "anneeScolaire": "2026-2027"},
    ),
    "dss/allocation_enfant_handicape": ProductExample(
        "nom_composé", IDENTITE, {"status": "allocataire", "date_debut_droit": "2021-03-01"}
    ),
    "dss/participation_familiale_eaje": ProductExample(
        "nom_composé",
        FRANCE_CONNECT,
        {
            "allocataires": [
                {
                    **_person("TROIS-DUPRE", "Melissandre Juliette", "1981-07-27", "F"),
                    "code_cog_insee_commune_naissance": "13012",
                },
                {
                    **_person("DUBOIS", "Paul", "1979-10-12", "M"),
                    "code_cog_insee_commune_naissance": None,
                },
            ],
            "enfants": [
                {**_person(name, given, born, sex), "code_cog_insee_commune_naissance": None}
                for name, given, born, sex in (
                    ("DUBOIS", "Lou", "2015-03-15", "F"),
                    ("DUBOIS", "Zoé Marie", "2018-09-03", "F"),
                    ("DUBOIS", "Henry", "2022-06-20", "M"),
                )
            ],
            "adresse": {
                "destinataire": "MADAME TROIS-DUPRE MELISSANDRE",
                "complement_information": None,
                "complement_information_geographique": None,
                "numero_libelle_voie": "14 RUE DE LA REPUBLIQUE",
                "lieu_dit": None,
                "code_postal_ville": "13002 MARSEILLE",
                "pays": "FRANCE",
            },
            "parametres_calcul_participation_familiale": {
                "nombre_enfants_a_charge": 3,
                "nombre_enfants_beneficiaire_aeeh": 1,
                "base_ressources_annuelles": {"valeur": 26400, "annee_calcul": 2024},
            },
        },
    ),
    # The grant holder, as in v3 (a struck-off student, étranger_présumé_né_jour, would show the
    # removal, but his presumed birth date cannot be asked in identity mode).
    "v4/cnous/etudiant_boursier": ProductExample(
        "etudiant_boursier",
        "ine",
        {
            "statut_boursier": {"est_boursier": True, "est_radie": False, "date_radiation": None},
            "echelon_bourse": {"echelon": "5", "echelon_bourse_regionale_provisoire": False},
            "email": "ines.lambert-demo@yopmail.com",
            "periode_versement_bourse": {"date_rentree": "2026-09-01", "duree": 10},
            "etablissement_etudes": {"nom_commune": "Lyon", "nom_etablissement": _LYON_1},
            "identite": {
                "nom": "LAMBERT",
                "prenoms": ["Inès", "Clara"],
                "date_naissance": "2006-04-12",
                "nom_commune_naissance": "Lyon 3e Arrondissement",
                "sexe": "F",
            },
        },
        identifier="2406012345K",
    ),
    "v4/men/scolarites": ProductExample(
        "moins_18_ans",
        IDENTITE,
        ALICE_AT_SCHOOL,
        params={
            "anneeScolaire": "2026-2027",
            "codesBcnRegions[]": ["52"],  # Pays de la Loire: her lycée is in Nantes
            "degreEtablissement": "2D",
        },
    ),
    "dgfip/situation_fiscale": ProductExample(
        "nom_composé",
        FRANCE_CONNECT,
        {
            "rfr": 26400,
            "nbPart": 4.0,
            "sitFam": "M",
            "pac": {"nbPac": 3},
            "pariso": False,
            "aft": None,
            "nmUsaDec1": None,
            "nmNaiDec1": "TROIS-DUPRE",
            "prnmDec1": "Melissandre Juliette",
            "dateNaisDec1": "1981-07-27",
            "nmUsaDec2": None,
            "nmNaiDec2": "DUBOIS",
            "prnmDec2": "Paul",
            "dateNaisDec2": "1979-10-12",
        },
    ),
    "dsnj/service_national": ProductExample(
        "etudiant_boursier",
        IDENTITE,
        {
            "statut_service_national": "en_regle",
            "commentaires": "Journée défense et citoyenneté effectuée le 14/03/2024",
        },
    ),
    "gip_mds/service_civique": ProductExample(
        "etudiant_boursier",
        FRANCE_CONNECT,
        {
            "statut_actuel": {
                "contrat_trouve": True,
                "organisme_accueil": {"siret": "42229566900026", "raison_sociale": "UNIS CITE"},
                "date_debut_contrat": "2026-10-05",
                "date_fin_contrat": "2027-06-04",
            },
            "statut_passe": {
                "contrat_trouve": False,
                "organisme_accueil": {"siret": None, "raison_sociale": None},
                "date_debut_contrat": None,
                "date_fin_contrat": None,
            },
        },
    ),
    "ants/extrait_immatriculation_vehicule": ProductExample(
        "nom_composé",
        FRANCE_CONNECT,
        {
            "identite_particulier": {
                "nom": "TROIS-DUPRE",
                "prenom": "MELISSANDRE",
                "sexe_etat_civil": "F",
                "annee_date_naissance": 1981,
                "mois_date_naissance": 7,
                "jour_date_naissance": 27,
                "code_departement_naissance": "13",
            },
            "adresse_particulier": {
                "complement_information": None,
                "num_voie": "14",
                "type_voie": "RUE",
                "libelle_voie": "DE LA REPUBLIQUE",
                "code_postal_ville": "13002",
                "libelle_commune": "MARSEILLE",
                "lieu_dit": None,
                "etage_escalier_appartement": "ESCALIER B",
                "extension": None,
                "pays": "FRANCE",
            },
            "statut_rattachement": "locataire",
            "donnees_immatriculation_vehicule": {
                "numero_immatriculation": "FR-285-LM",
                "date_premiere_immatriculation": "2024-01-23",
                "statut_location": {"code": "LLD", "label": "Location Longue Durée"},
            },
            "caracteristiques_techniques_vehicule": {
                "marque": "TOYOTA",
                "type_variante_version": "ZWE219L-DHXNBW",
                "denomination_commerciale": "COROLLA",
                "masse_charge_maximale": 1835,
                "categorie_vehicule": {
                    "code": "M1",
                    "label": (
                        "Véhicule de transport de personnes comportant au maximum 8 places "
                        "assises outre le siège du conducteur"
                    ),
                },
                "genre_national": {"code": "VP", "label": "Véhicule Particulier"},
                "cylindree": 1798,
                "type_carburant": {"code": "HE", "label": "Hybride électrique"},
                "taux_co2": 92,
                "classe_environnementale": {
                    "code": "Euro 6e",
                    "label": "Norme européenne d'émission Euro 6e",
                },
            },
        },
        params={"immatriculation": "FR-285-LM"},
    ),
    "sdh/statut_sportif": ProductExample(
        "etudiant_boursier",
        "identifiant",
        {
            "identite": {
                "nom_naissance": "LAMBERT",
                "nom_usage": None,
                "prenoms": "Inès Clara",
                "date_naissance": "2006-04-12",
                "sexe": "F",
            },
            "est_sportif_de_haut_niveau": True,
            "a_ete_sportif_de_haut_niveau": False,
            "informations_statut": {
                "periode": {"date_debut_statut": "2026-11-01", "date_fin_statut": "2027-10-31"},
                "federation": {
                    "code_federation": "33",
                    "nom_federation": (
                        "Fédération française de judo, jujitsu, kendo et disciplines associées"
                    ),
                    "nom_court_federation": "JUDO",
                },
                "etablissement": {
                    "code_etablissement": "2071",
                    "nom_etablissement": "CREPS Auvergne-Rhône-Alpes",
                },
                "region": {"code_region": "84", "nom_region": "Auvergne-Rhône-Alpes"},
                "categorie": {"code_categorie": "3", "nom_categorie": "Relève", "valeur": "2"},
                "sportif_de_haut_niveau": True,
            },
            "informations_statuts_precedents": [
                {
                    "fiche": 845120,
                    "periode": {"date_debut_statut": "2024-11-01", "date_fin_statut": "2026-10-31"},
                    "federation": {
                        "code_federation": "33",
                        "nom_federation": (
                            "Fédération française de judo, jujitsu, kendo et disciplines associées"
                        ),
                        "nom_court_federation": "JUDO",
                    },
                    "etablissement": {
                        "code_etablissement": "2071",
                        "nom_etablissement": "CREPS Auvergne-Rhône-Alpes",
                    },
                    "region": {"code_region": "84", "nom_region": "Auvergne-Rhône-Alpes"},
                    "categorie": {"code_categorie": "5", "nom_categorie": "Espoir", "valeur": "1"},
                    "sportif_de_haut_niveau": False,
                }
            ],
        },
        identifier="120034567",
    ),
}


def example_for(product_key: str) -> ProductExample | None:
    return EXAMPLES.get(product_key)
