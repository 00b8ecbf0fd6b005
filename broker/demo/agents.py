"""The test agents of the demo agents' identity provider ("Identité agents (démo)", the demo's
ProConnect): one for every role of the operators' portal. Their roles are granted by the demo
seed (``broker.demo.seed``); being a requester needs none (a SIRET is enough).

Organisations (fictional, valid Luhn keys):
- Mairie de Villebourg, 21730001500013: owns the demo service;
- Communauté d'agglomération du Val Fleuri, 20005478900017: a second one, for isolation;
- Opérateur de la plateforme, 13000252600015: the platform operator (its instructors)."""

from __future__ import annotations

from dataclasses import dataclass

VILLEBOURG_SIRET = "21730001500013"
VILLEBOURG = "Mairie de Villebourg"
VAL_FLEURI_SIRET = "20005478900017"
VAL_FLEURI = "Communauté d'agglomération du Val Fleuri"
OPERATOR_SIRET = "13000252600015"
OPERATOR = "Opérateur de la plateforme"


@dataclass(frozen=True)
class DemoAgent:
    login: str  # what they type on the demo login page
    password: str  # demo password (plain here; the demo provider hashes it with argon2)
    given_name: str
    usual_name: str  # ProConnect's name for the family name in use
    email: str
    siret: str  # the organisation they act for
    organisation: str  # released as organizational_unit
    case: str  # short French description shown on the demo login page
    roles: tuple[tuple[str, str], ...] = ()  # (role, data provider key) the seed grants
    acr: str = "eidas1"

    @property
    def family_name(self) -> str:
        return self.usual_name

    @property
    def organizational_unit(self) -> str:
        return self.organisation


AGENTS: tuple[DemoAgent, ...] = (
    DemoAgent(
        login="agent.villebourg",
        password="agent123",
        given_name="Sophie",
        usual_name="MARTIN",
        email="sophie.martin@villebourg.example",
        siret=VILLEBOURG_SIRET,
        organisation=VILLEBOURG,
        case="Demandeuse : agente de la Mairie de Villebourg (service de la cantine)",
    ),
    DemoAgent(
        login="agent.valfleuri",
        password="agent123",
        given_name="Karim",
        usual_name="BENALI",
        email="karim.benali@valfleuri.example",
        siret=VAL_FLEURI_SIRET,
        organisation=VAL_FLEURI,
        case="Demandeur : agent de la Communauté d'agglomération du Val Fleuri",
    ),
    DemoAgent(
        login="instructeur",
        password="agent123",
        given_name="Hélène",
        usual_name="ROUSSEAU",
        email="helene.rousseau@operateur.example",
        siret=OPERATOR_SIRET,
        organisation=OPERATOR,
        case=(
            "Instructrice de l'opérateur : examine les demandes ; peut aussi en déposer pour "
            "l'opérateur, mais pas approuver les siennes"
        ),
        roles=(("instructor", ""),),
    ),
    DemoAgent(
        login="admin",
        password="agent123",
        given_name="Marc",
        usual_name="LEFEBVRE",
        email="marc.lefebvre@operateur.example",
        siret=OPERATOR_SIRET,
        organisation=OPERATOR,
        case="Administrateur du portail : rôles, journal d'audit, annonces de maintenance",
        roles=(("administrator", ""),),
    ),
    DemoAgent(
        login="fournisseur.cnaf",
        password="agent123",
        given_name="Claire",
        usual_name="DUPONT",
        email="claire.dupont@cnaf.example",
        siret="18003502400025",
        organisation="Caisse nationale des allocations familiales",
        case="Fournisseur de données : voit l'usage des produits de la CNAF",
        roles=(("data_provider", "cnaf"),),
    ),
    DemoAgent(
        login="fournisseur.cnous",
        password="agent123",
        given_name="Thomas",
        usual_name="GIRARD",
        email="thomas.girard@cnous.example",
        siret="18004311500005",
        organisation="Centre national des œuvres universitaires et scolaires",
        case="Fournisseur de données : voit l'usage des produits du Cnous",
        roles=(("data_provider", "cnous"),),
    ),
)
