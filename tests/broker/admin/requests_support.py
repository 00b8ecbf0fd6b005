"""Agents and request contents for the habilitation requests' tests (domain and pages)."""

from __future__ import annotations

import copy
from typing import Any

from sqlmodel import Session

from broker.admin.agents import Identity, agent_of, grant_role, upsert_agent
from broker.admin.principal import Agent

VILLEBOURG = "21730001500013"  # Mairie de Villebourg (fictional, valid Luhn)
VAL_FLEURI = "20005478900017"  # Communauté d'agglomération du Val Fleuri
OPERATOR = "13000252600015"  # the platform's operator (the instructors' organisation)

# name: (email, siret, organisation, granted roles)
AGENTS: dict[str, tuple[str, str | None, str | None, tuple[str, ...]]] = {
    "alice": ("alice@villebourg.example", VILLEBOURG, "Mairie de Villebourg", ()),
    "bruno": ("bruno@villebourg.example", VILLEBOURG, "Mairie de Villebourg", ()),
    "carole": ("carole@valfleuri.example", VAL_FLEURI, "Val Fleuri", ()),
    "ines": ("ines@operateur.example", OPERATOR, "Opérateur", ("instructor",)),
    "ivan": ("ivan@operateur.example", OPERATOR, "Opérateur", ("instructor",)),
    "ada": ("ada@operateur.example", OPERATOR, "Opérateur", ("administrator",)),
    # An instructor who is also an agent of Villebourg: may file for it, never decide on it.
    "iris": ("iris@villebourg.example", VILLEBOURG, "Mairie de Villebourg", ("instructor",)),
    # An administrator of Villebourg.
    "adrien": ("adrien@villebourg.example", VILLEBOURG, "Mairie de Villebourg", ("administrator",)),
    "nadia": ("nadia@ailleurs.example", None, None, ()),  # signed in, no organisation, no role
}

CONTENT: dict[str, Any] = {
    "organisation": {"siret": VILLEBOURG, "name": "Mairie de Villebourg"},
    "service": "Cantine de Villebourg",
    "purpose": "Calculer le tarif de la cantine scolaire selon le quotient familial.",
    "legal_basis": "Code de l'éducation, article L. 131-13",
    "legal_basis_url": "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000038901859",
    "scopes": ["cnaf_quotient_familial", "cnaf_enfants"],
    "optional_scopes": ["cnaf_enfants"],
    "consent_mode": "recurring",
    "consent_days": 365,
    "recipients": [VILLEBOURG],
    "expected_volume": "500 par mois",
    "contacts": {
        "responsible": {"name": "Alice Martin", "email": "alice@villebourg.example", "phone": ""},
        "dpo": {"name": "Denis Poli", "email": "dpo@villebourg.example", "phone": "01 23 45 67 89"},
        "technical": {"name": "Théo Chnique", "email": "tech@villebourg.example", "phone": ""},
    },
    "controller": "Mairie de Villebourg",
    "retention": "Un an après la fin de l'année scolaire.",
    "if_refused": "Apportez votre attestation CAF à la mairie.",
    "reasons": {"cnaf_quotient_familial": "Il fixe le tarif de la cantine."},
}


def content(**changes: Any) -> dict[str, Any]:
    """``CONTENT`` with ``changes`` (a fresh copy each time)."""
    made = copy.deepcopy(CONTENT)
    made.update(copy.deepcopy(changes))
    return made


def make_agents(session: Session) -> dict[str, Agent]:
    """Every agent of ``AGENTS``, signed in once, their roles granted."""
    agents = {}
    for name, (email, siret, organisation, roles) in AGENTS.items():
        for role in roles:
            grant_role(session, email=email, role=role, actor="cli:test")
        record = upsert_agent(
            session,
            Identity(
                issuer="https://agents.example",
                subject=name,
                email=email,
                given_name=name.capitalize(),
                family_name="Test",
                siret=siret,
                organisation=organisation,
            ),
            now=1_800_000_000,
        )
        agents[name] = agent_of(session, record)
    return agents
