"""Approving a request puts it into effect: a new habilitation for 18 months, or the reopened
one changed in place (same id: its keys and consents keep working), never touched before."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from broker.admin.api_keys import issue_by_operator
from broker.admin.clients import AdminError
from broker.admin.consent_information import StatedInformation
from broker.admin.habilitations import (
    HabilitationRequest,
    add_habilitation,
    months_later,
    revoke_habilitation,
)
from broker.admin.requests import lifecycle
from broker.admin.requests.errors import Refusal, RequestError
from broker.admin.requests.records import load_request, versions_of
from broker.admin.requests.reopening import reopen
from broker.admin.requests.states import Status
from broker.core.db import Database
from broker.store.data_access_models import ApiKey, Habilitation
from broker.store.models import Service
from broker.store.portal_models import AuditEntry
from tests.broker.admin.requests_support import VAL_FLEURI, VILLEBOURG, content, make_agents


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def agents(db):
    with db.transaction() as session:
        return make_agents(session)


def refused(refusal: Refusal):
    return pytest.raises(RequestError, check=lambda e: e.refusal == refusal)


def approved(db, agents, **changes) -> tuple[str, dict]:
    with db.transaction() as session:
        request_id = lifecycle.create_request(session, agents["alice"], content(**changes)).id
    with db.transaction() as session:
        lifecycle.submit(session, agents["alice"], request_id)
    with db.transaction() as session:
        return request_id, lifecycle.approve(session, agents["ines"], request_id, "Conforme.")


def end_of(day: date) -> int:
    """A habilitation valid through ``day`` (UTC) ends the next midnight."""
    return int(datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC).timestamp())


def test_months_are_counted_on_calendar_dates():
    assert months_later(date(2026, 12, 15), 18) == date(2028, 6, 15)
    assert months_later(date(2026, 8, 31), 18) == date(2028, 2, 29)  # leap year's February
    assert months_later(date(2027, 8, 31), 18) == date(2029, 2, 28)
    assert months_later(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert months_later(date(2026, 3, 31), 12) == date(2027, 3, 31)


def test_approval_creates_the_habilitation_for_18_months(db, agents):
    request_id, habilitation = approved(db, agents)
    with db.reader() as session:
        row = session.get(Habilitation, habilitation["id"])
        service = session.get(Service, row.service_id)
        request = load_request(session, request_id)
        trail = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
    approval_day = datetime.fromtimestamp(request.decided_at, UTC).date()
    assert row.expires_at == end_of(months_later(approval_day, 18))
    assert (row.organisation_siret, row.recipients, row.request_id) == (
        VILLEBOURG,
        [VILLEBOURG],
        request_id,
    )
    assert (service.name, service.organisation_siret) == ("Cantine de Villebourg", VILLEBOURG)
    assert row.scopes == ["cnaf_quotient_familial", "cnaf_enfants"]
    assert (row.optional_scopes, row.consent_mode, row.consent_days) == (
        ["cnaf_enfants"],
        "recurring",
        365,
    )
    assert (row.contact, row.dpo) == ("alice@villebourg.example", "dpo@villebourg.example")
    assert row.controller == "Mairie de Villebourg"
    assert row.reasons == {"cnaf_quotient_familial": "Il fixe le tarif de la cantine."}
    assert (request.status, request.decided_by, request.decision_reason) == (
        Status.APPROVED,
        agents["ines"].id,
        "Conforme.",
    )
    assert [e.action for e in trail][-2:] == ["habilitation.approve", "request.approve"]
    assert trail[-2].target_id == row.id and trail[-2].before is None


def test_attack_service_of_another_organisation_is_refused(db, agents):
    with db.transaction() as session:
        add_habilitation(
            session,
            HabilitationRequest(
                service="Piscine du Val Fleuri",
                scopes="cnaf_quotient_familial",
                purpose="Tarifs",
                legal_basis="Code",
                create_service=True,
                organisation_siret=VAL_FLEURI,
            ),
        )
    with refused(Refusal.INVALID) as caught, db.transaction() as session:
        lifecycle.create_request(session, agents["alice"], content(service="Piscine du Val Fleuri"))
    assert "service" in caught.value.errors


def test_service_taken_between_submission_and_approval_is_refused_whole(db, agents):
    with db.transaction() as session:
        request_id = lifecycle.create_request(session, agents["alice"], content()).id
    with db.transaction() as session:
        lifecycle.submit(session, agents["alice"], request_id)
    with db.transaction() as session:
        add_habilitation(
            session,
            HabilitationRequest(
                service="Cantine de Villebourg",
                scopes="cnaf_quotient_familial",
                purpose="Tarifs",
                legal_basis="Code",
                create_service=True,
                organisation_siret=VAL_FLEURI,
            ),
        )
    with refused(Refusal.INVALID) as caught, db.transaction() as session:
        lifecycle.approve(session, agents["ines"], request_id)
    assert caught.value.errors["service"].message == lifecycle.SERVICE_TAKEN
    with db.reader() as session:
        assert load_request(session, request_id).status == Status.SUBMITTED
        assert (
            session.exec(select(Habilitation).where(Habilitation.request_id == request_id)).all()
            == []
        )


def ownerless_service(db, name: str = "Cantine de Villebourg") -> None:
    """A service registered without an organisation (``broker clients add``, or before the
    portal): no organisation owns it yet."""
    with db.transaction() as session:
        add_habilitation(
            session,
            HabilitationRequest(
                service=name,
                scopes="cnaf_quotient_familial",
                purpose="Tarifs",
                legal_basis="Code",
                create_service=True,
            ),
        )


def test_attack_request_claims_ownerless_service(db, agents):
    """An organisation cannot take over a service (its clients, its keys) by naming it in a
    request: refused at submission, and at approval if it appeared after the submission."""
    ownerless_service(db)
    with refused(Refusal.INVALID) as caught, db.transaction() as session:
        lifecycle.create_request(session, agents["alice"], content())
    assert caught.value.errors["service"].message == lifecycle.SERVICE_OWNERLESS
    assert "--organisation" in lifecycle.SERVICE_OWNERLESS

    with db.transaction() as session:
        request_id = lifecycle.create_request(
            session, agents["alice"], content(service="Piscine de Villebourg")
        ).id
    with db.transaction() as session:
        lifecycle.submit(session, agents["alice"], request_id)
    ownerless_service(db, "Piscine de Villebourg")  # registered meanwhile, without owner
    with refused(Refusal.INVALID) as caught, db.transaction() as session:
        lifecycle.approve(session, agents["ines"], request_id)
    assert caught.value.errors["service"].message == lifecycle.SERVICE_OWNERLESS
    with db.reader() as session:
        assert load_request(session, request_id).status == Status.SUBMITTED
        services = session.exec(select(Service).where(Service.name.like("% de Villebourg"))).all()
    assert {s.organisation_siret for s in services} == {None}


def test_attack_habilitation_from_a_request_cannot_attach_ownerless_service(db, agents):
    """The habilitations' own rule, under the request checks: only an operator (no request
    behind it) attaches an ownerless service to an organisation."""
    ownerless_service(db)
    wanted = HabilitationRequest(
        service="Cantine de Villebourg",
        scopes="cnaf_quotient_familial",
        purpose="Tarifs",
        legal_basis="Code",
        organisation_siret=VILLEBOURG,
    )
    with pytest.raises(AdminError, match="without an organisation"), db.transaction() as s:
        add_habilitation(s, replace(wanted, request_id="req_x"))
    with db.transaction() as session:  # the operator's command line does it
        made = add_habilitation(session, wanted)
    with db.reader() as session:
        assert session.get(Service, made["service_id"]).organisation_siret == VILLEBOURG


def running_terms(db, habilitation_id: str) -> dict:
    with db.reader() as session:
        row = session.get(Habilitation, habilitation_id)
        return row.model_dump()


def test_reopening_keeps_the_running_habilitation_until_approval(db, agents):
    first_request, habilitation = approved(db, agents)
    with db.transaction() as session:
        key = issue_by_operator(
            session, "cli:test", habilitation["id"], "Cantine", int(time.time())
        )
    before = running_terms(db, habilitation["id"])
    with db.transaction() as session:
        request_id, created = reopen(session, agents["bruno"], habilitation["id"])
    assert created
    with db.reader() as session:
        [terms] = versions_of(session, request_id)
        request = load_request(session, request_id)
    assert terms.submitted_at is not None  # frozen: the baseline
    assert terms.content == content()  # the approved content, as in force
    assert (request.status, request.habilitation_id, request.organisation_siret) == (
        Status.DRAFT,
        habilitation["id"],
        VILLEBOURG,
    )
    changed = content(scopes=["cnaf_quotient_familial", "cnaf_adresse"], optional_scopes=[])
    steps = [
        lambda s: lifecycle.edit_request(s, agents["bruno"], request_id, changed),
        lambda s: lifecycle.submit(s, agents["bruno"], request_id),
        lambda s: lifecycle.ask_changes(s, agents["ines"], request_id, "Pourquoi l'adresse ?"),
        lambda s: lifecycle.post_message(s, agents["bruno"], request_id, "Pour le courrier."),
        lambda s: lifecycle.submit(s, agents["bruno"], request_id),
    ]
    for step in steps:
        with db.transaction() as session:
            step(session)
        assert running_terms(db, habilitation["id"]) == before
    with db.transaction() as session:
        again, created = reopen(session, agents["alice"], habilitation["id"])
    assert (again, created) == (request_id, False)  # one open change at a time
    with db.transaction() as session:
        result = lifecycle.approve(session, agents["ivan"], request_id)
    after = running_terms(db, habilitation["id"])
    assert result["id"] == habilitation["id"]
    assert after["scopes"] == ["cnaf_quotient_familial", "cnaf_adresse"]
    assert after["optional_scopes"] == [] and after["request_id"] == request_id
    assert after["created_at"] == before["created_at"]
    with db.reader() as session:
        decided = load_request(session, request_id).decided_at
        assert session.get(ApiKey, key.key.id).habilitation_id == habilitation["id"]
        old = load_request(session, first_request)
        trail = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert after["expires_at"] == end_of(
        months_later(datetime.fromtimestamp(decided, UTC).date(), 18)
    )
    assert old.status == Status.APPROVED
    approval = [e for e in trail if e.action == "habilitation.approve"][-1]
    assert (
        approval.before["scopes"] == before["scopes"] and approval.after["id"] == habilitation["id"]
    )


def test_reopening_keeps_service_and_needs_a_complete_request(db, agents):
    _, habilitation = approved(db, agents)
    with db.transaction() as session:
        request_id, _ = reopen(session, agents["alice"], habilitation["id"])
    with refused(Refusal.INVALID) as caught, db.transaction() as session:
        lifecycle.edit_request(session, agents["alice"], request_id, content(service="Autre"))
    assert "service" in caught.value.errors
    with db.transaction() as session:  # renewal unchanged: a copy of the terms, submitted
        lifecycle.submit(session, agents["alice"], request_id)
    with db.reader() as session:
        first, second = versions_of(session, request_id)
    assert second.content == first.content and second.submitted_at is not None


def test_role_other_organisation_cannot_reopen(db, agents):
    _, habilitation = approved(db, agents)
    for who in ("carole", "ines", "nadia"):
        with refused(Refusal.NOT_FOUND), db.transaction() as session:
            reopen(session, agents[who], habilitation["id"])
    with refused(Refusal.NOT_FOUND), db.transaction() as session:
        reopen(session, agents["alice"], "hab_nope")


def test_revoked_habilitation_is_not_reopened_nor_changed(db, agents):
    _, habilitation = approved(db, agents)
    with db.transaction() as session:
        request_id, _ = reopen(session, agents["alice"], habilitation["id"])
        lifecycle.submit(session, agents["alice"], request_id)
    with db.transaction() as session:
        revoke_habilitation(session, habilitation["id"])
    with refused(Refusal.CONFLICT), db.transaction() as session:
        lifecycle.approve(session, agents["ines"], request_id)
    with db.transaction() as session:
        lifecycle.refuse(session, agents["ines"], request_id, "Habilitation révoquée.")
    with refused(Refusal.CONFLICT), db.transaction() as session:
        reopen(session, agents["alice"], habilitation["id"])


def test_habilitation_from_the_command_line_is_reopened_with_blanks_to_fill(db, agents):
    with db.transaction() as session:
        made = add_habilitation(
            session,
            HabilitationRequest(
                service="Cantine de Villebourg",
                scopes="cnaf_quotient_familial",
                purpose="Tarifs",
                legal_basis="Code",
                create_service=True,
                organisation_siret=VILLEBOURG,
                information=StatedInformation(
                    controller="Mairie", contact="mairie@villebourg.example"
                ),
            ),
        )
    with db.transaction() as session:
        request_id, _ = reopen(session, agents["alice"], made["id"])
    with refused(Refusal.INVALID) as caught, db.transaction() as session:
        lifecycle.submit(session, agents["alice"], request_id)
    assert {"expected_volume", "responsible_name", "technical_email"} <= set(caught.value.errors)
    with db.reader() as session:
        [terms] = versions_of(session, request_id)
    assert terms.content["contacts"]["responsible"]["email"] == "mairie@villebourg.example"
    assert terms.content["organisation"] == {"siret": VILLEBOURG, "name": "Mairie de Villebourg"}
