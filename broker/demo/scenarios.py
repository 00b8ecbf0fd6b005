"""Scenario citizens: test identities that make every data-provider simulator misbehave.

Each scenario citizen is a complete, valid identity (they can sign in at the demo identity
provider like any test citizen, password "123") whose only purpose is to trigger one failure
at *every* simulated provider: in identity modes (FranceConnect pivot or API Particulier
identity parameters) and through their identifiers (an INE for Cnous and MESRI, an identifiant
for France Travail). Integrators use them to see how their service behaves when a provider is
slow, broken or in maintenance. ``docs/simulators.md`` lists them.

Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.demo.citizens import COG_FRANCE, DemoCitizen

NOT_FOUND = "not_found"  # 404: known nowhere
SLOW = "slow"  # answers after SimulatorOptions.slow_seconds (beyond any sane read timeout)
SERVER_ERROR = "server_error"  # HTTP 500
BAD_GATEWAY = "bad_gateway"  # HTTP 502 (transient: adapters retry it on GET)
MALFORMED = "malformed"  # HTTP 200 whose body is not JSON
WRONG_SHAPE = "wrong_shape"  # HTTP 200, valid JSON, not the provider's documented shape
MAINTENANCE = "maintenance"  # HTTP 503 with Retry-After
KINDS = (NOT_FOUND, SLOW, SERVER_ERROR, BAD_GATEWAY, MALFORMED, WRONG_SHAPE, MAINTENANCE)


@dataclass(frozen=True)
class Scenario:
    kind: str
    ine: str  # Cnous and MESRI identifier mode
    identifiant: str  # France Travail identifier mode


def _citizen(
    login: str,
    given_name: str,
    family_name: str,
    gender: str,
    birthdate: str,
    birthplace: str,
    commune: str,
    case: str,
) -> DemoCitizen:
    return DemoCitizen(
        login=login,
        password="123",
        given_name=given_name,
        family_name=family_name,
        preferred_username="",
        gender=gender,
        birthdate=birthdate,
        birthplace=birthplace,
        birthcountry=COG_FRANCE,
        email=f"{login}@demo.invalid",
        acr="eidas2",
        case=case,
        birth_commune_name=commune,
        situation={},
    )


SCENARIO_CITIZENS: tuple[DemoCitizen, ...] = (
    _citizen(
        "scenario_inconnu",
        "Camille",
        "INCONNU",
        "female",
        "1990-01-15",
        "75056",
        "Paris",
        "Scénario : inconnue de tous les fournisseurs (404 partout)",
    ),
    _citizen(
        "scenario_lent",
        "Lucien",
        "LENTEUR",
        "male",
        "1985-03-02",
        "69123",
        "Lyon",
        "Scénario : chaque fournisseur répond trop tard (délai dépassé)",
    ),
    _citizen(
        "scenario_erreur_serveur",
        "Sophie",
        "PANNE",
        "female",
        "1978-11-30",
        "33063",
        "Bordeaux",
        "Scénario : chaque fournisseur répond par une erreur 500",
    ),
    _citizen(
        "scenario_passerelle",
        "Bruno",
        "PASSERELLE",
        "male",
        "1982-05-21",
        "59350",
        "Lille",
        "Scénario : chaque fournisseur répond 502 (passerelle en erreur)",
    ),
    _citizen(
        "scenario_reponse_invalide",
        "Noemie",
        "CORROMPU",
        "female",
        "1993-07-08",
        "31555",
        "Toulouse",
        "Scénario : réponse 200 qui n'est pas du JSON",
    ),
    _citizen(
        "scenario_forme_inattendue",
        "Hugo",
        "DIFFORME",
        "male",
        "1988-12-12",
        "67482",
        "Strasbourg",
        "Scénario : réponse 200 en JSON, mais pas au format documenté",
    ),
    _citizen(
        "scenario_maintenance",
        "Claire",
        "TRAVAUX",
        "female",
        "1975-04-25",
        "44109",
        "Nantes",
        "Scénario : chaque fournisseur est en maintenance (503, Retry-After)",
    ),
)

SCENARIOS: dict[str, Scenario] = {
    "scenario_inconnu": Scenario(NOT_FOUND, "9900000001N", "9900001N"),
    "scenario_lent": Scenario(SLOW, "9900000002S", "9900002S"),
    "scenario_erreur_serveur": Scenario(SERVER_ERROR, "9900000003E", "9900003E"),
    "scenario_passerelle": Scenario(BAD_GATEWAY, "9900000004P", "9900004P"),
    "scenario_reponse_invalide": Scenario(MALFORMED, "9900000005M", "9900005M"),
    "scenario_forme_inattendue": Scenario(WRONG_SHAPE, "9900000006W", "9900006W"),
    "scenario_maintenance": Scenario(MAINTENANCE, "9900000007T", "9900007T"),
}

_BY_INE = {s.ine: s for s in SCENARIOS.values()}
_BY_IDENTIFIANT = {s.identifiant: s for s in SCENARIOS.values()}
# The Ministry of Sports numbers athletes with digits only: its own identifiants, per login.
SPORTS_IDENTIFIANTS: dict[str, str] = {
    "scenario_inconnu": "990000001",
    "scenario_lent": "990000002",
    "scenario_erreur_serveur": "990000003",
    "scenario_passerelle": "990000004",
    "scenario_reponse_invalide": "990000005",
    "scenario_forme_inattendue": "990000006",
    "scenario_maintenance": "990000007",
}
_BY_SPORTS_IDENTIFIANT = {number: SCENARIOS[login] for login, number in SPORTS_IDENTIFIANTS.items()}


def scenario_of(citizen: DemoCitizen) -> Scenario | None:
    """The scenario this citizen triggers, None for ordinary test citizens."""
    scenario = SCENARIOS.get(citizen.login)
    return scenario if scenario is not None and citizen in SCENARIO_CITIZENS else None


def scenario_by_ine(ine: str) -> Scenario | None:
    return _BY_INE.get(ine.strip().upper())


def scenario_by_identifiant(identifiant: str) -> Scenario | None:
    return _BY_IDENTIFIANT.get(identifiant.strip().upper())


def scenario_by_sports_identifiant(identifiant: str) -> Scenario | None:
    return _BY_SPORTS_IDENTIFIANT.get(identifiant.strip())
