"""An approved request put into effect, through the habilitations' own functions (the same
checks as ``broker habilitations add``): a new request creates its habilitation, a reopening
changes its habilitation in place. Either way it runs 18 months from the approval."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from broker.admin import audit
from broker.admin.clients import AdminError
from broker.admin.habilitations import (
    HabilitationRequest,
    add_habilitation,
    default_expiry,
    described,
    replace_terms,
)
from broker.admin.principal import Agent
from broker.admin.requests.content import stated_information
from broker.admin.requests.errors import Refusal, RequestError
from broker.admin.requests.words import N_, problem
from broker.store.data_access_models import Habilitation
from broker.store.portal_models import HabilitationRequestRecord

NOT_PUT_INTO_EFFECT = N_("L'habilitation n'a pas pu être enregistrée : %(detail)s")
REVOKED_MEANWHILE = N_(
    "L'habilitation que cette demande modifie a été révoquée entre-temps : elle ne peut plus "
    "être modifiée. Refusez cette demande ; l'organisation en déposera une nouvelle."
)


def habilitation_request(
    request: HabilitationRequestRecord, content: Mapping[str, Any], now: int
) -> HabilitationRequest:
    return HabilitationRequest(
        service=content["service"],
        scopes=" ".join(content["scopes"]),
        purpose=content["purpose"],
        legal_basis=content["legal_basis"],
        expires=default_expiry(now),
        create_service=True,
        optional_scopes=" ".join(content["optional_scopes"]),
        consent_mode=content["consent_mode"],
        consent_days=content["consent_days"],
        legal_basis_url=content.get("legal_basis_url") or None,
        information=stated_information(content),
        organisation_siret=request.organisation_siret,
        recipients=tuple(content["recipients"]),
        request_id=request.id,
    )


def put_into_effect(
    session: Session,
    agent: Agent,
    request: HabilitationRequestRecord,
    content: Mapping[str, Any],
    now: int,
) -> dict[str, Any]:
    """The habilitation the approved ``content`` makes, audited as ``habilitation.approve``."""
    wanted = habilitation_request(request, content, now)
    before = None
    try:
        if request.habilitation_id is None:
            after = add_habilitation(session, wanted)
        else:
            running = session.get(Habilitation, request.habilitation_id)
            if running is None or running.revoked_at is not None:
                raise RequestError(Refusal.CONFLICT, problem(REVOKED_MEANWHILE))
            before = described(session, running, now)
            after = replace_terms(session, running.id, wanted)
    except AdminError as refused:
        raise RequestError(
            Refusal.INVALID, problem(NOT_PUT_INTO_EFFECT, detail=str(refused))
        ) from refused
    audit.record(
        session,
        actor=agent.actor,
        action="habilitation.approve",
        target_type="habilitation",
        target_id=after["id"],
        before=before,
        after=after,
    )
    return after
