"""The one scope registry of the broker.

Every scope the broker knows is declared here, once: its name, a French and an
English label written for citizens, the data provider behind it and what it
releases. OIDC discovery (``scopes_supported``, ``claims_supported``), the
consent screen and the resource server all read from :data:`REGISTRY`.

Two kinds of scope:

* ``identity`` scopes are FranceConnect's; they release OIDC ``claims`` at the
  userinfo endpoint and have no provider.
* ``data`` scopes are API Particulier v3's; they unlock response ``fields``
  (dotted paths inside ``data``; ``[]`` marks a list) of the listed
  ``products``. Product paths omit the call-mode suffix (``/france_connect``,
  ``/identite``, ``/identifiant``, ``/ine``), which the caller appends.

Sources (checked against the public code of API Particulier): the v3
serializers and specs of etalab/siade, the sandbox payloads of
etalab/siade_staging_data, the scope list of etalab/admin_api_entreprise and
API Particulier's "Guide de migration V.3". DGFiP is the exception: API
Particulier v3 has no DGFiP product. Those scopes are the ones of the
FranceConnect-enabled "API Impôt particulier" of DGFiP; we serve them as our own
product ``/v3/dgfip/situation_fiscale`` (France Connect mode only), named in the v3
style. Their field names follow DGFiP's naming and were not checked against a
published schema.

Standard library only: no framework imports.
"""

from __future__ import annotations

from broker.catalogue.registry import DATA, IDENTITY, DataProvider, Scope, ScopeRegistry

PROVIDERS = (
    DataProvider(
        "cnaf",
        "Caisse nationale des allocations familiales (CAF) et Mutualité sociale agricole (MSA)",
        "National Family Allowance Fund (CAF) and Agricultural Social Insurance (MSA)",
        "CAF / MSA",
    ),
    DataProvider(
        "dss",
        "Direction de la Sécurité sociale (prestations versées par la CAF et la MSA)",
        "Social Security Directorate (benefits paid by the CAF and the MSA)",
        "Sécurité sociale",
    ),
    DataProvider(
        "cnous",
        "Centre national des œuvres universitaires et scolaires (Cnous et Crous)",
        "National Centre for University and School Services (Cnous and Crous)",
        "Crous",
    ),
    DataProvider(
        "mesri",
        "Ministère de l'Enseignement supérieur et de la Recherche",
        "Ministry of Higher Education and Research",
        "Enseignement supérieur",
    ),
    DataProvider(
        "france_travail",
        "France Travail (anciennement Pôle emploi)",
        "France Travail (formerly Pôle emploi)",
        "France Travail",
    ),
    DataProvider(
        "men",
        "Ministère de l'Éducation nationale",
        "Ministry of National Education",
        "Éducation nationale",
    ),
    DataProvider(
        "dgfip",
        "Direction générale des Finances publiques (impots.gouv.fr)",
        "Public Finances Directorate General (impots.gouv.fr)",
        "Impôts (DGFiP)",
    ),
    DataProvider(
        "dsnj",
        "Direction du service national et de la jeunesse (ministère des Armées)",
        "Directorate of National Service and Youth (Ministry of the Armed Forces)",
        "Service national",
    ),
    DataProvider(
        "gip_mds",
        "GIP-MDS, qui reçoit les déclarations sociales des employeurs (DSN)",
        "GIP-MDS, which receives the employers' social declarations (DSN)",
        "Service civique (GIP-MDS)",
    ),
    DataProvider(
        "ants",
        "Agence nationale des titres sécurisés (ANTS, système d'immatriculation des véhicules)",
        "National Agency for Secure Documents (ANTS, vehicle registration system)",
        "Immatriculation (ANTS)",
    ),
    DataProvider(
        "sdh",
        "Ministère des Sports (sportifs de haut niveau)",
        "Ministry of Sports (high-level athletes)",
        "Ministère des Sports",
    ),
)


def _id(name: str, fr: str, en: str, *claims: str) -> Scope:
    return Scope(name, fr, en, IDENTITY, None, claims=claims)


def _data(
    name: str, provider: str, product: str | tuple[str, ...], fr: str, en: str, *fields: str
) -> Scope:
    """``product``: one path, or the paths of the versions (v3, v4) a scope serves alike."""
    products = (product,) if isinstance(product, str) else product
    return Scope(name, fr, en, DATA, provider, fields=fields, products=products)


_PIVOT = ("given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry")

IDENTITY_SCOPES = (
    _id(
        "openid",
        "Un identifiant technique qui vous est propre",
        "A technical identifier unique to you",
        "sub",
    ),
    _id(
        "profile",
        "Vos prénoms, votre nom de naissance, votre date de naissance, "
        "votre sexe et votre nom d'usage",
        "Your given names, birth name, date of birth, sex and usual name",
        "given_name",
        "family_name",
        "birthdate",
        "gender",
        "preferred_username",
    ),
    _id(
        "birth",
        "Votre lieu et votre pays de naissance",
        "Your place and country of birth",
        "birthplace",
        "birthcountry",
    ),
    _id(
        "identite_pivot",
        "Votre identité : prénoms, nom de naissance, sexe, date et lieu de naissance",
        "Your identity: given names, birth name, sex, date and place of birth",
        *_PIVOT,
    ),
    _id("email", "Votre adresse électronique", "Your email address", "email"),
    _id("given_name", "Vos prénoms", "Your given names", "given_name"),
    _id("family_name", "Votre nom de naissance", "Your birth name", "family_name"),
    _id("preferred_username", "Votre nom d'usage", "Your usual name", "preferred_username"),
    _id("birthdate", "Votre date de naissance", "Your date of birth", "birthdate"),
    _id("gender", "Votre sexe", "Your sex", "gender"),
    _id("birthplace", "Votre lieu de naissance", "Your place of birth", "birthplace"),
    _id("birthcountry", "Votre pays de naissance", "Your country of birth", "birthcountry"),
)

_QF = "/v3/dss/quotient_familial"
_PERSON = ("nom_naissance", "nom_usage", "prenoms", "date_naissance", "sexe")
# v4 serves the same scopes as v3 (siade's v4 serializers keep the scope names).
_CNOUS = ("/v3/cnous/etudiant_boursier", "/v4/cnous/etudiant_boursier")
_MESRI = "/v3/mesri/statut_etudiant"
_FT = "/v3/france_travail/statut"
_MEN = ("/v3/men/scolarites", "/v4/men/scolarites")
_EAJE = "/v3/dss/participation_familiale_eaje"
_EAJE_PERSON = (*_PERSON, "code_cog_insee_commune_naissance")
# Our product for DGFiP's "API Impôt particulier" data: API Particulier v3 has no DGFiP product.
_DGFIP = "/v3/dgfip/situation_fiscale"
# One civic-service contract (statut_actuel, statut_passe), null fields when none is found.
_CIVIC_SERVICE = (
    "contrat_trouve",
    "organisme_accueil.siret",
    "organisme_accueil.raison_sociale",
    "date_debut_contrat",
    "date_fin_contrat",
)
_ANTS = "/v3/ants/extrait_immatriculation_vehicule"
_SDH = "/v3/sdh/statut_sportif"
_SDH_STATUS = (
    "periode.date_debut_statut",
    "periode.date_fin_statut",
    "federation.code_federation",
    "federation.nom_federation",
    "federation.nom_court_federation",
    "etablissement.code_etablissement",
    "etablissement.nom_etablissement",
    "region.code_region",
    "region.nom_region",
    "categorie.code_categorie",
    "categorie.nom_categorie",
    "categorie.valeur",
    "sportif_de_haut_niveau",
)

DATA_SCOPES = (
    # CAF / MSA family quotient and family composition
    _data(
        "cnaf_quotient_familial",
        "cnaf",
        _QF,
        "Votre quotient familial CAF ou MSA",
        "Your CAF or MSA family quotient",
        "quotient_familial.fournisseur",
        "quotient_familial.valeur",
        "quotient_familial.annee",
        "quotient_familial.mois",
        "quotient_familial.annee_calcul",
        "quotient_familial.mois_calcul",
    ),
    _data(
        "cnaf_allocataires",
        "cnaf",
        _QF,
        "L'identité des allocataires de votre dossier CAF ou MSA (vous et votre conjoint)",
        "The identity of the beneficiaries on your CAF or MSA file (you and your partner)",
        *(f"allocataires[].{f}" for f in _PERSON),
    ),
    _data(
        "cnaf_enfants",
        "cnaf",
        _QF,
        "L'identité des enfants de votre dossier CAF ou MSA",
        "The identity of the children on your CAF or MSA file",
        *(f"enfants[].{f}" for f in _PERSON),
    ),
    _data(
        "cnaf_adresse",
        "cnaf",
        _QF,
        "Votre adresse connue de la CAF ou de la MSA",
        "Your address as known to the CAF or the MSA",
        "adresse.destinataire",
        "adresse.complement_information",
        "adresse.complement_information_geographique",
        "adresse.numero_libelle_voie",
        "adresse.lieu_dit",
        "adresse.code_postal_ville",
        "adresse.pays",
    ),
    # Social benefits (DSS)
    _data(
        "revenu_solidarite_active",
        "dss",
        "/v3/dss/revenu_solidarite_active",
        "Si vous touchez le revenu de solidarité active (RSA), et depuis quand",
        "Whether you receive the earned income supplement (RSA), and since when",
        "est_beneficiaire",
        "date_debut_droit",
    ),
    _data(
        "revenu_solidarite_active_majoration",
        "dss",
        "/v3/dss/revenu_solidarite_active",
        "Si votre RSA est majoré (parent isolé)",
        "Whether your RSA includes the single-parent increase",
        "avec_majoration",
    ),
    _data(
        "prime_activite",
        "dss",
        "/v3/dss/prime_activite",
        "Si vous touchez la prime d'activité, et depuis quand",
        "Whether you receive the in-work bonus (prime d'activité), and since when",
        "est_beneficiaire",
        "date_debut_droit",
    ),
    _data(
        "prime_activite_majoration",
        "dss",
        "/v3/dss/prime_activite",
        "Si votre prime d'activité est majorée (parent isolé)",
        "Whether your in-work bonus includes the single-parent increase",
        "avec_majoration",
    ),
    _data(
        "allocation_adulte_handicape",
        "dss",
        "/v3/dss/allocation_adulte_handicape",
        "Si vous touchez l'allocation aux adultes handicapés (AAH), et depuis quand",
        "Whether you receive the disabled adult allowance (AAH), and since when",
        "est_beneficiaire",
        "date_debut_droit",
    ),
    _data(
        "allocation_soutien_familial",
        "dss",
        "/v3/dss/allocation_soutien_familial",
        "Si vous touchez l'allocation de soutien familial (ASF), et depuis quand",
        "Whether you receive the family support allowance (ASF), and since when",
        "est_beneficiaire",
        "date_debut_droit",
    ),
    _data(
        "complementaire_sante_solidaire",
        "dss",
        "/v3/dss/complementaire_sante_solidaire",
        "Si vous avez la complémentaire santé solidaire (C2S), avec ou sans participation, "
        "et depuis quand",
        "Whether you have the solidarity health cover (C2S), with or without a "
        "contribution, and since when",
        "est_beneficiaire",
        "avec_participation",
        "date_debut_droit",
    ),
    _data(
        "cnav_allocation_enfant_handicape",
        "dss",
        "/v3/dss/allocation_enfant_handicape",
        "Si vous touchez l'allocation d'éducation de l'enfant handicapé (AEEH) comme parent "
        "(allocataire) ou y ouvrez droit comme enfant, et depuis quand",
        "Whether you receive the disabled child education allowance (AEEH) as a parent, or "
        "give entitlement to it as the child, and since when",
        "status",
        "date_debut_droit",
    ),
    # Family contribution to a childcare facility (EAJE), from the CAF family file
    _data(
        "cnav_participation_familiale_eaje_allocataires",
        "dss",
        _EAJE,
        "L'identité des allocataires de votre dossier CAF (vous et votre conjoint), pour le "
        "tarif de la crèche",
        "The identity of the beneficiaries on your CAF file (you and your partner), for the "
        "childcare fee",
        *(f"allocataires[].{f}" for f in _EAJE_PERSON),
    ),
    _data(
        "cnav_participation_familiale_eaje_enfants",
        "dss",
        _EAJE,
        "L'identité des enfants de votre dossier CAF, pour le tarif de la crèche",
        "The identity of the children on your CAF file, for the childcare fee",
        *(f"enfants[].{f}" for f in _EAJE_PERSON),
    ),
    _data(
        "cnav_participation_familiale_eaje_adresse",
        "dss",
        _EAJE,
        "Votre adresse connue de la CAF, pour le tarif de la crèche",
        "Your address as known to the CAF, for the childcare fee",
        "adresse.destinataire",
        "adresse.complement_information",
        "adresse.complement_information_geographique",
        "adresse.numero_libelle_voie",
        "adresse.lieu_dit",
        "adresse.code_postal_ville",
        "adresse.pays",
    ),
    _data(
        "cnav_participation_familiale_eaje_parametres_calcul",
        "dss",
        _EAJE,
        "Ce qui fixe le tarif de la crèche : vos ressources annuelles, le nombre d'enfants à "
        "votre charge et de ceux qui ont l'AEEH",
        "What sets the childcare fee: your annual resources, the number of dependent children "
        "and of those receiving the AEEH",
        "parametres_calcul_participation_familiale.nombre_enfants_a_charge",
        "parametres_calcul_participation_familiale.nombre_enfants_beneficiaire_aeeh",
        "parametres_calcul_participation_familiale.base_ressources_annuelles.valeur",
        "parametres_calcul_participation_familiale.base_ressources_annuelles.annee_calcul",
    ),
    # Crous student grant. Identity fields are not returned in FranceConnect mode.
    _data(
        "cnous_statut_boursier",
        "cnous",
        _CNOUS,
        "Votre statut d'étudiant boursier, et si votre bourse vous a été retirée (radiation) "
        "et depuis quand",
        "Whether you hold a student grant, and whether and since when it was withdrawn",
        "est_boursier",  # v3
        "statut_boursier.est_boursier",  # v4: the status and the removal together
        "statut_boursier.est_radie",
        "statut_boursier.date_radiation",
    ),
    _data(
        "cnous_echelon_bourse",
        "cnous",
        _CNOUS,
        "L'échelon de votre bourse d'études",
        "The level of your student grant",
        "echelon_bourse.echelon",
    ),
    _data(
        "cnous_statut_bourse",
        "cnous",
        _CNOUS,
        "Si l'échelon de votre bourse est définitif ou provisoire",
        "Whether the level of your grant is final or provisional",
        "echelon_bourse.echelon_bourse_regionale_provisoire",
    ),
    _data(
        "cnous_periode_versement",
        "cnous",
        _CNOUS,
        "Quand et pendant combien de mois votre bourse est versée",
        "When and for how many months your grant is paid",
        "periode_versement_bourse.date_rentree",
        "periode_versement_bourse.duree",
    ),
    _data(
        "cnous_ville_etudes",
        "cnous",
        _CNOUS,
        "Votre ville et votre établissement d'études",
        "Your place and institution of study",
        "etablissement_etudes.nom_commune",
        "etablissement_etudes.nom_etablissement",
    ),
    _data(
        "cnous_email",
        "cnous",
        _CNOUS,
        "Votre adresse électronique connue du Crous",
        "Your email address as known to the Crous",
        "email",
    ),
    _data(
        "cnous_identite",
        "cnous",
        _CNOUS,
        "Votre identité connue du Crous (nom, prénoms, naissance, sexe)",
        "Your identity as known to the Crous (names, birth, sex)",
        "identite.nom",
        "identite.prenoms",
        "identite.date_naissance",
        "identite.nom_commune_naissance",
        "identite.sexe",
    ),
    # Student status (higher education). Identity is not returned in FranceConnect mode.
    _data(
        "mesri_identite",
        "mesri",
        _MESRI,
        "Votre identité connue de l'enseignement supérieur (nom, prénom, date de naissance)",
        "Your identity as known to higher education (names, date of birth)",
        "identite.nom_naissance",
        "identite.prenom",
        "identite.date_naissance",
    ),
    _data(
        "mesri_admissions",
        "mesri",
        _MESRI,
        "Vos admissions dans l'enseignement supérieur et leurs dates",
        "Your admissions to higher education and their dates",
        "admissions[].date_debut",
        "admissions[].date_fin",
    ),
    _data(
        "mesri_admission_inscrit",
        "mesri",
        _MESRI,
        "Si vous êtes inscrit ou inscrite dans chacune de ces formations",
        "Whether you are enrolled in each of these courses",
        "admissions[].est_inscrit",
    ),
    _data(
        "mesri_admission_regime_formation",
        "mesri",
        _MESRI,
        "Si vous êtes en formation initiale ou continue",
        "Whether you are in initial or continuing education",
        "admissions[].regime_formation.code",
        "admissions[].regime_formation.libelle",
    ),
    _data(
        "mesri_admission_commune_etudes",
        "mesri",
        _MESRI,
        "La commune de votre lieu d'études",
        "The town where you study",
        "admissions[].code_cog_insee_commune",
    ),
    _data(
        "mesri_admission_etablissement_etudes",
        "mesri",
        _MESRI,
        "Votre établissement d'enseignement supérieur",
        "Your higher education institution",
        "admissions[].etablissement_etudes.uai",
        "admissions[].etablissement_etudes.nom",
    ),
    # France Travail (historical pole_emploi_* names are the real ones)
    _data(
        "pole_emploi_identifiant",
        "france_travail",
        _FT,
        "Votre identifiant France Travail",
        "Your France Travail identifier",
        "identifiant",
    ),
    _data(
        "pole_emploi_identite",
        "france_travail",
        _FT,
        "Votre identité connue de France Travail",
        "Your identity as known to France Travail",
        "identite.civilite",
        "identite.nom_naissance",
        "identite.nom_usage",
        "identite.prenom",
        "identite.sexe",
        "identite.date_naissance",
    ),
    _data(
        "pole_emploi_contact",
        "france_travail",
        _FT,
        "Votre adresse électronique et vos numéros de téléphone connus de France Travail",
        "Your email address and phone numbers as known to France Travail",
        "contact.email",
        "contact.telephone",
        "contact.telephone2",
    ),
    _data(
        "pole_emploi_adresse",
        "france_travail",
        _FT,
        "Votre adresse connue de France Travail",
        "Your address as known to France Travail",
        "adresse.code_cog_insee_commune",
        "adresse.code_postal",
        "adresse.ligne_complement_adresse",
        "adresse.ligne_complement_destinataire",
        "adresse.ligne_complement_distribution",
        "adresse.ligne_nom",
        "adresse.ligne_voie",
        "adresse.localite",
    ),
    _data(
        "pole_emploi_inscription",
        "france_travail",
        _FT,
        "Votre inscription comme demandeur d'emploi : dates et catégorie",
        "Your registration as a jobseeker: dates and category",
        "inscription.date_debut",
        "inscription.date_fin",
        "inscription.code_certification_cnav",
        "inscription.categorie.code",
        "inscription.categorie.libelle",
    ),
    _data(
        "pole_emploi_paiements",
        "france_travail",
        "/v3/france_travail/indemnites",
        "Les sommes que France Travail vous a versées : dates et montants",
        "The payments France Travail made to you: dates and amounts",
        "paiements[].date_versement",
        "paiements[].montant_total",
        "paiements[].montant_allocations",
        "paiements[].montant_aides",
        "paiements[].montant_autres",
    ),
    # School enrolment (National Education)
    _data(
        "men_statut_identite",
        "men",
        _MEN,
        "L'identité de l'élève (nom, prénom, sexe, date de naissance)",
        "The pupil's identity (names, sex, date of birth)",
        "identite.nom",
        "identite.prenom",
        "identite.sexe",
        "identite.date_naissance",
    ),
    _data(
        "men_statut_scolarite",
        "men",
        _MEN,
        "Si l'élève est scolarisé cette année scolaire, et sous quel statut",
        "Whether the pupil is enrolled this school year, and with what status",
        "annee_scolaire",
        "est_scolarise",
        "statut_eleve.code",
        "statut_eleve.libelle",
    ),
    _data(
        "men_statut_etablissement",
        "men",
        _MEN,
        "L'établissement scolaire de l'élève",
        "The pupil's school",
        "etablissement.code_uai",
        "etablissement.code_ministere_tutelle",
    ),
    _data(
        "men_statut_module_elementaire_formation",
        "men",
        _MEN,
        "La classe ou la formation suivie par l'élève",
        "The pupil's class or course",
        "module_elementaire_formation.code_mef_stat",
        "module_elementaire_formation.libelle",
    ),
    _data(
        "men_statut_boursier",
        "men",
        _MEN,
        "Si l'élève a une bourse de collège ou de lycée",
        "Whether the pupil has a secondary school grant",
        "est_boursier",
    ),
    _data(
        "men_echelon_bourse",
        "men",
        _MEN,
        "L'échelon de la bourse de collège ou de lycée de l'élève",
        "The level of the pupil's secondary school grant",
        "echelon_bourse",
    ),
    # Income tax (DGFiP, API Impôt particulier)
    _data(
        "dgfip_rfr",
        "dgfip",
        _DGFIP,
        "Votre revenu fiscal de référence",
        "Your reference taxable income",
        "rfr",
    ),
    _data(
        "dgfip_nbpart",
        "dgfip",
        _DGFIP,
        "Le nombre de parts fiscales de votre foyer",
        "The number of tax shares of your household",
        "nbPart",
    ),
    _data(
        "dgfip_sitfam",
        "dgfip",
        _DGFIP,
        "Votre situation de famille déclarée aux impôts (marié, pacsé, célibataire…)",
        "Your family status as declared for tax (married, civil union, single…)",
        "sitFam",
    ),
    _data(
        "dgfip_nbpac",
        "dgfip",
        _DGFIP,
        "Le nombre de personnes à votre charge déclarées aux impôts",
        "The number of dependants declared for tax",
        "pac.nbPac",
    ),
    _data(
        "dgfip_pac",
        "dgfip",
        _DGFIP,
        "Les personnes à votre charge déclarées aux impôts",
        "The dependants declared for tax",
        "pac",
    ),
    _data(
        "dgfip_pariso",
        "dgfip",
        _DGFIP,
        "Si vous êtes déclaré ou déclarée parent isolé aux impôts",
        "Whether you are declared as a single parent for tax",
        "pariso",
    ),
    _data(
        "dgfip_aft",
        "dgfip",
        _DGFIP,
        "Votre adresse fiscale au 1er janvier",
        "Your tax address on 1 January",
        "aft",
    ),
    _data(
        "dgfip_decl",
        "dgfip",
        _DGFIP,
        "L'état civil des déclarants de votre foyer fiscal (noms, prénoms, dates de naissance)",
        "The civil status of the filers of your tax household (names, dates of birth)",
        "nmUsaDec1",
        "nmNaiDec1",
        "prnmDec1",
        "dateNaisDec1",
        "nmUsaDec2",
        "nmNaiDec2",
        "prnmDec2",
        "dateNaisDec2",
    ),
    # National service (DSNJ): census and defence and citizenship day (JDC)
    _data(
        "dsnj_statut_service_national",
        "dsnj",
        "/v3/dsnj/service_national",
        "Si vous êtes en règle avec le service national (recensement, journée défense et "
        "citoyenneté), avec les remarques de l'administration",
        "Whether you are in order with national service (census, defence and citizenship "
        "day), with the administration's remarks",
        "statut_service_national",
        "commentaires",
    ),
    # Civic service contracts, from the employers' social declarations (GIP-MDS)
    _data(
        "service_civique_actuel",
        "gip_mds",
        "/v3/gip_mds/service_civique",
        "Si vous faites un service civique en ce moment : l'organisme qui vous accueille et "
        "les dates de votre contrat",
        "Whether you are doing a civic service now: the organisation hosting you and the "
        "dates of your contract",
        *(f"statut_actuel.{f}" for f in _CIVIC_SERVICE),
    ),
    _data(
        "service_civique_passe",
        "gip_mds",
        "/v3/gip_mds/service_civique",
        "Si vous avez déjà fait un service civique : l'organisme d'accueil et les dates du contrat",
        "Whether you did a civic service before: the host organisation and the dates of the "
        "contract",
        *(f"statut_passe.{f}" for f in _CIVIC_SERVICE),
    ),
    # Vehicle registration extract (ANTS, France Connect mode only, by registration number)
    _data(
        "ants_extrait_immatriculation_vehicule_identite_particulier",
        "ants",
        _ANTS,
        "Votre identité inscrite sur le certificat d'immatriculation de votre véhicule "
        "(nom, prénom, sexe, date et département de naissance)",
        "Your identity as registered on your vehicle registration certificate "
        "(name, given name, sex, date and department of birth)",
        "identite_particulier.nom",
        "identite_particulier.prenom",
        "identite_particulier.sexe_etat_civil",
        "identite_particulier.annee_date_naissance",
        "identite_particulier.mois_date_naissance",
        "identite_particulier.jour_date_naissance",
        "identite_particulier.code_departement_naissance",
    ),
    _data(
        "ants_extrait_immatriculation_vehicule_adresse_particulier",
        "ants",
        _ANTS,
        "Votre adresse inscrite sur le certificat d'immatriculation de votre véhicule",
        "Your address as registered on your vehicle registration certificate",
        "adresse_particulier.complement_information",
        "adresse_particulier.num_voie",
        "adresse_particulier.type_voie",
        "adresse_particulier.libelle_voie",
        "adresse_particulier.code_postal_ville",
        "adresse_particulier.libelle_commune",
        "adresse_particulier.lieu_dit",
        "adresse_particulier.etage_escalier_appartement",
        "adresse_particulier.extension",
        "adresse_particulier.pays",
    ),
    _data(
        "ants_extrait_immatriculation_vehicule_statut_rattachement",
        "ants",
        _ANTS,
        "Si vous êtes titulaire, cotitulaire ou locataire du véhicule",
        "Whether you are the holder, a co-holder or the lessee of the vehicle",
        "statut_rattachement",
    ),
    _data(
        "ants_extrait_immatriculation_vehicule_donnees_immatriculation_vehicule",
        "ants",
        _ANTS,
        "Le numéro d'immatriculation du véhicule, la date de sa première immatriculation "
        "et s'il est en location",
        "The vehicle's registration number, the date it was first registered and whether "
        "it is leased",
        "donnees_immatriculation_vehicule.numero_immatriculation",
        "donnees_immatriculation_vehicule.date_premiere_immatriculation",
        "donnees_immatriculation_vehicule.statut_location.code",
        "donnees_immatriculation_vehicule.statut_location.label",
    ),
    _data(
        "ants_extrait_immatriculation_vehicule_caracteristiques_techniques_vehicule",
        "ants",
        _ANTS,
        "Les caractéristiques techniques du véhicule (marque, modèle, catégorie, carburant, "
        "cylindrée, masse, émissions de CO2 et norme antipollution)",
        "The vehicle's technical characteristics (make, model, category, fuel, engine "
        "size, weight, CO2 emissions and emission standard)",
        "caracteristiques_techniques_vehicule.marque",
        "caracteristiques_techniques_vehicule.type_variante_version",
        "caracteristiques_techniques_vehicule.denomination_commerciale",
        "caracteristiques_techniques_vehicule.masse_charge_maximale",
        "caracteristiques_techniques_vehicule.categorie_vehicule.code",
        "caracteristiques_techniques_vehicule.categorie_vehicule.label",
        "caracteristiques_techniques_vehicule.genre_national.code",
        "caracteristiques_techniques_vehicule.genre_national.label",
        "caracteristiques_techniques_vehicule.cylindree",
        "caracteristiques_techniques_vehicule.type_carburant.code",
        "caracteristiques_techniques_vehicule.type_carburant.label",
        "caracteristiques_techniques_vehicule.taux_co2",
        "caracteristiques_techniques_vehicule.classe_environnementale.code",
        "caracteristiques_techniques_vehicule.classe_environnementale.label",
    ),
    # High-level athletes and ministerial lists (Ministry of Sports, by identifiant)
    _data(
        "sdh_statut_sportif_identite",
        "sdh",
        _SDH,
        "Votre identité connue du ministère des Sports (noms, prénoms, date de naissance, sexe)",
        "Your identity as known to the Ministry of Sports (names, given names, date of birth, sex)",
        "identite.nom_naissance",
        "identite.nom_usage",
        "identite.prenoms",
        "identite.date_naissance",
        "identite.sexe",
    ),
    _data(
        "sdh_statut_sportif_est_sportif_de_haut_niveau",
        "sdh",
        _SDH,
        "Si vous êtes aujourd'hui sportif ou sportive de haut niveau",
        "Whether you are a high-level athlete today",
        "est_sportif_de_haut_niveau",
    ),
    _data(
        "sdh_statut_sportif_a_ete_sportif_de_haut_niveau",
        "sdh",
        _SDH,
        "Si vous avez été sportif ou sportive de haut niveau par le passé",
        "Whether you were a high-level athlete in the past",
        "a_ete_sportif_de_haut_niveau",
    ),
    _data(
        "sdh_statut_sportif_informations_statut",
        "sdh",
        _SDH,
        "Votre inscription actuelle sur une liste du ministère des Sports : dates, fédération, "
        "structure d'entraînement, région et catégorie",
        "Your current entry on a Ministry of Sports list: dates, federation, training "
        "centre, region and category",
        *(f"informations_statut.{f}" for f in _SDH_STATUS),
    ),
    _data(
        "sdh_statut_sportif_informations_statuts_precedents",
        "sdh",
        _SDH,
        "Vos inscriptions passées sur les listes du ministère des Sports",
        "Your past entries on the Ministry of Sports lists",
        "informations_statuts_precedents[].fiche",
        *(f"informations_statuts_precedents[].{f}" for f in _SDH_STATUS),
    ),
)

REGISTRY = ScopeRegistry(PROVIDERS, IDENTITY_SCOPES + DATA_SCOPES)

# Where the versions of a product answer a scope with different fields, (scope, product path) ->
# the fields of that version; a scope's ``fields`` are then the union of its versions'.
VERSION_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("cnous_statut_boursier", "/v3/cnous/etudiant_boursier"): ("est_boursier",),
    ("cnous_statut_boursier", "/v4/cnous/etudiant_boursier"): (
        "statut_boursier.est_boursier",
        "statut_boursier.est_radie",
        "statut_boursier.date_radiation",
    ),
}


def fields_for(scope: Scope, product_path: str) -> tuple[str, ...]:
    """The fields ``scope`` releases in the product at ``product_path``."""
    return VERSION_FIELDS.get((scope.name, product_path), scope.fields)
