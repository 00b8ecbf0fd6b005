"""Civic-service adapter (``gip_mds``): ``gip_mds/service_civique``, France Connect and identity
modes.

Speaks the DSN contract search of ``broker.demo.simulators.gip_mds`` (POST: never retried, see
``broker.providers.http``) and answers v3 ``data``: ``statut_actuel`` (the contract running now)
and ``statut_passe`` (the last one that ended), each with ``contrat_trouve``, the host
organisation (``siret``, ``raison_sociale``) and the contract's dates, all null when no such
contract is found. The provider matches on the birth name, the given names and the complete birth
date only: a partial date is refused before any call.
"""

from __future__ import annotations

from typing import ClassVar

from broker.providers.adapters.common import ProviderAdapter, provider_pivot
from broker.providers.base import Outcome, ProductCall
from broker.providers.pivot import given_names
from broker.providers.shape import ISO_DATE, Nullable

# API Particulier's rule: a contract is running when no end is declared, or when its end reason
# is 99 (contract not broken off) or 100 (end not declared yet).
RUNNING_REASONS = ("99", "100")
CONTRACT = {
    "accueil": {"siret": str, "raisonSociale": str},
    "dateDebut": ISO_DATE,
    "dateFin": Nullable(ISO_DATE),
    "motifRupture": Nullable(str),
}
CONTRACTS = {"contrats": [CONTRACT]}


class GipMdsAdapter(ProviderAdapter):
    provider = "gip_mds"
    health_path = "/dsn/v1/sante"
    not_found_detail = "no social declaration (DSN) matches this identity"
    FIELD_PARAMETERS: ClassVar[dict[str, str]] = {
        "nomFamille": "nomNaissance",
        "prenoms": "prenoms[]",
        "dateNaissance": "anneeDateNaissance",
    }

    async def _fetch(self, call: ProductCall) -> Outcome:
        problem = self.require_full_birthdate(call)
        if problem is not None:
            return problem
        pivot, parts = provider_pivot(call), self.parts(call)
        identity = {
            "nomFamille": pivot.family_name,
            "prenoms": given_names(pivot),
            "dateNaissance": f"{parts.year:04d}-{parts.month:02d}-{parts.day:02d}",
        }
        result = await self.http.post(
            "/dsn/v1/service-civique/contrats",
            json_body=identity,
            request_id=call.request_id,
            operation="service_civique",
        )
        return self.read(result, CONTRACTS, to_v3)


def is_running(contract: dict) -> bool:
    return contract["dateFin"] is None or contract["motifRupture"] in RUNNING_REASONS


def status(contract: dict | None) -> dict:
    if contract is None:
        return {
            "contrat_trouve": False,
            "organisme_accueil": {"siret": None, "raison_sociale": None},
            "date_debut_contrat": None,
            "date_fin_contrat": None,
        }
    host = contract["accueil"]
    return {
        "contrat_trouve": True,
        "organisme_accueil": {"siret": host["siret"], "raison_sociale": host["raisonSociale"]},
        "date_debut_contrat": contract["dateDebut"],
        "date_fin_contrat": contract["dateFin"],
    }


def to_v3(body: dict) -> dict:
    """The latest running contract and the latest ended one (ISO dates sort as text)."""
    running = [c for c in body["contrats"] if is_running(c)]
    ended = [c for c in body["contrats"] if not is_running(c)]
    return {
        "statut_actuel": status(max(running, key=lambda c: c["dateDebut"], default=None)),
        "statut_passe": status(
            max(ended, key=lambda c: (c["dateFin"], c["dateDebut"]), default=None)
        ),
    }
