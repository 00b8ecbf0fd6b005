"""The request pages: filing, reviewing and deciding a habilitation request on the portal,
each role rule tried through the pages themselves."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from broker.admin.agents import list_roles
from broker.admin.requests.records import load_request, versions_of
from broker.admin.requests.states import Status
from broker.demo.smtp_sink import caught, start_sink
from broker.store.data_access_models import Habilitation
from tests.broker.admin.requests_support import CONTENT, content
from tests.broker.portal.conftest import OPERATOR, PORTAL_URL, VAL_FLEURI, VILLEBOURG, sign_in


def as_form(given: dict[str, Any], csrf: str) -> dict[str, Any]:
    """A content as the form posts it."""
    form: dict[str, Any] = {
        "csrf": csrf,
        "organisation_siret": given["organisation"]["siret"],
        "organisation_name": given["organisation"]["name"],
        "service": given["service"],
        "purpose": given["purpose"],
        "legal_basis": given["legal_basis"],
        "legal_basis_url": given["legal_basis_url"],
        "scopes": given["scopes"],
        "optional_scopes": given["optional_scopes"],
        "consent_mode": given["consent_mode"],
        "consent_days": str(given["consent_days"] or ""),
        "recipients": "\n".join(given["recipients"]),
        "expected_volume": given["expected_volume"],
        "controller": given["controller"],
        "retention": given["retention"],
        "if_refused": given["if_refused"],
    }
    for role, person in given["contacts"].items():
        for part, value in person.items():
            form[f"{role}_{part}"] = value
    for scope, reason in given["reasons"].items():
        form[f"reason_{scope}"] = reason
    return form


def requester(portal, name: str = "alice", siret: str = VILLEBOURG):
    return sign_in(
        portal,
        email=f"{name}@{siret}.example",
        siret=siret,
        organisation="Mairie de Villebourg" if siret == VILLEBOURG else "Val Fleuri",
        given_name=name.capitalize(),
    )


def instructor(portal, name: str = "ines", **extra):
    extra.setdefault("siret", OPERATOR)
    return sign_in(portal, email=f"{name}@operateur.example", roles=["instructor"], **extra)


def file_request(client, **changes) -> str:
    answer = client.post(
        "/demandes/nouvelle", data=as_form(content(**changes), client.csrf), follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/demandes/(req_[\w-]+)\?fait=creee", answer.headers["location"])
    assert found, answer.headers["location"]
    return found[1]


def post(client, path: str, body: str = "", **extra):
    return client.post(
        path, data={"csrf": client.csrf, "body": body, **extra}, follow_redirects=False
    )


def submitted(portal, client=None, **changes) -> str:
    client = client or requester(portal)
    request_id = file_request(client, **changes)
    assert post(client, f"/demandes/{request_id}/soumettre").status_code == 303
    return request_id


def stored(portal, request_id: str):
    with portal.db.reader() as session:
        return load_request(session, request_id), versions_of(session, request_id)


def test_new_request_form_groups_the_catalogue_by_provider(portal):
    client = requester(portal)
    page = client.get("/demandes/nouvelle")
    assert page.status_code == 200
    html = page.text
    assert "Caisse nationale des allocations familiales" in html  # a provider's legend
    assert "Votre quotient familial CAF ou MSA" in html  # an item's label
    assert 'name="optional_scopes" value="cnaf_quotient_familial"' in html
    assert "<legend>" in html and 'for="responsible_email"' in html
    assert f'value="{VILLEBOURG}"' in html  # the agent's organisation filled in
    assert "<script" not in html and "style=" not in html


def test_requester_files_a_draft_then_submits_it(portal):
    client = requester(portal)
    request_id = file_request(client)
    page = client.get(f"/demandes/{request_id}?fait=creee")
    assert page.status_code == 200
    assert "Brouillon" in page.text and "Déposer la demande" in page.text
    assert "Votre quotient familial CAF ou MSA" in page.text
    assert post(client, f"/demandes/{request_id}/soumettre").status_code == 303
    request, [version] = stored(portal, request_id)
    assert request.status == Status.SUBMITTED and version.submitted_at is not None
    assert version.content == CONTENT
    assert "Déposée, en instruction" in client.get(f"/demandes/{request_id}").text


def test_form_comes_back_with_errors_beside_fields_and_a_summary(portal):
    client = requester(portal)
    bad = as_form(content(service="", recipients=["12345678901234"]), client.csrf)
    bad["optional_scopes"] = bad["scopes"]
    answer = client.post("/demandes/nouvelle", data=bad)
    assert answer.status_code == 400
    html = answer.text
    assert 'href="#service"' in html and 'href="#recipients"' in html
    assert 'href="#donnees"' in html  # the optional items' rule: to the data section
    assert 'id="service-erreur"' in html and 'aria-invalid="true"' in html
    assert "12345678901234" in html  # what was typed is kept
    assert "Indiquez le nom du service en ligne." in html
    assert "elles ne peuvent pas toutes être facultatives" in html
    with portal.db.reader() as session:
        assert (
            session.exec(
                select(Habilitation).where(Habilitation.purpose == CONTENT["purpose"])
            ).all()
            == []
        )


def test_role_requester_sees_only_own_organisation_requests(portal):
    alice = requester(portal)
    carole = requester(portal, "carole", VAL_FLEURI)
    mine = file_request(alice)
    theirs = file_request(carole, organisation={"siret": VAL_FLEURI, "name": "Val Fleuri"})
    listed = alice.get("/demandes").text
    assert mine in listed and theirs not in listed
    colleague = requester(portal, "bruno")
    assert mine in colleague.get("/demandes").text  # the organisation's, not only who filed


def test_role_other_organisation_cannot_read_or_edit(portal):
    request_id = submitted(portal)
    carole = requester(portal, "carole", VAL_FLEURI)
    assert carole.get(f"/demandes/{request_id}").status_code == 404
    assert carole.get(f"/demandes/{request_id}/modifier").status_code == 404
    edited = carole.post(
        f"/demandes/{request_id}/modifier",
        data=as_form(content(purpose="Piratée"), carole.csrf),
    )
    assert edited.status_code == 404
    assert post(carole, f"/demandes/{request_id}/messages", "Bonjour").status_code == 404
    [version] = stored(portal, request_id)[1]
    assert version.content["purpose"] == CONTENT["purpose"]


def test_role_instructor_does_not_see_drafts(portal):
    draft = file_request(requester(portal))
    ines = instructor(portal)
    assert draft not in ines.get("/demandes").text
    assert ines.get(f"/demandes/{draft}").status_code == 404
    assert post(ines, f"/demandes/{draft}/approuver").status_code == 404


def test_role_instructor_sees_submitted_requests_of_every_organisation(portal):
    request_id = submitted(portal)
    ines = instructor(portal)
    assert request_id in ines.get("/demandes").text
    assert request_id in ines.get("/demandes?etat=submitted").text
    assert request_id not in ines.get("/demandes?etat=approved").text
    page = ines.get(f"/demandes/{request_id}").text
    assert "Approuver la demande" in page and "Refuser la demande" in page
    assert "Modifier la demande" not in page


def test_role_requester_cannot_approve(portal):
    alice = requester(portal)
    request_id = submitted(portal, alice)
    for move in ("approuver", "refuser", "modifications"):
        assert post(alice, f"/demandes/{request_id}/{move}", "Moi-même").status_code == 403
    assert "Approuver la demande" not in alice.get(f"/demandes/{request_id}").text
    assert stored(portal, request_id)[0].status == Status.SUBMITTED


def test_role_instructor_cannot_approve_own_request(portal):
    iris = sign_in(
        portal,
        email="iris@villebourg.example",
        siret=VILLEBOURG,
        organisation="Mairie de Villebourg",
        roles=["instructor"],
    )
    request_id = submitted(portal, iris)
    assert "Approuver la demande" not in iris.get(f"/demandes/{request_id}").text
    assert post(iris, f"/demandes/{request_id}/approuver").status_code == 403
    assert post(iris, f"/demandes/{request_id}/refuser", "Non").status_code == 403
    assert stored(portal, request_id)[0].status == Status.SUBMITTED


def test_role_data_provider_has_no_request_pages(portal):
    provider = sign_in(
        portal, email="cnaf@cnaf.example", roles=["data_provider"], providers=["cnaf"]
    )
    assert provider.get("/demandes").status_code == 403
    assert provider.get("/demandes/nouvelle").status_code == 403


def test_role_agent_without_organisation_cannot_file(portal):
    ines = instructor(portal, siret=None)
    assert ines.get("/demandes/nouvelle").status_code == 403
    answer = ines.post("/demandes/nouvelle", data=as_form(content(), ines.csrf))
    assert answer.status_code == 403


def test_attack_edit_submitted_version_refused(portal):
    alice = requester(portal)
    request_id = submitted(portal, alice)
    assert alice.get(f"/demandes/{request_id}/modifier").status_code == 409
    answer = alice.post(
        f"/demandes/{request_id}/modifier",
        data=as_form(content(purpose="Changée après dépôt"), alice.csrf),
    )
    assert answer.status_code == 409
    assert stored(portal, request_id)[1][0].content["purpose"] == CONTENT["purpose"]


def test_attack_form_without_csrf_refused(portal):
    alice = requester(portal)
    form = as_form(content(), "forged")
    assert alice.post("/demandes/nouvelle", data=form).status_code == 403
    assert alice.get("/demandes").text.count("data-request=") == 0


def test_refusing_needs_a_reason_shown_beside_the_field(portal):
    request_id = submitted(portal)
    ines = instructor(portal)
    answer = post(ines, f"/demandes/{request_id}/refuser", "  ")
    assert answer.status_code == 400
    assert 'id="body-refuse-erreur"' in answer.text and 'href="#body-refuse"' in answer.text
    assert stored(portal, request_id)[0].status == Status.SUBMITTED


def test_changes_asked_amended_compared_and_approved(portal):
    alice = requester(portal)
    request_id = submitted(portal, alice)
    ines = instructor(portal)
    assert (
        post(ines, f"/demandes/{request_id}/modifications", "Ajoutez l'adresse.").status_code == 303
    )
    page = unescape(alice.get(f"/demandes/{request_id}").text)
    assert "Modifications demandées" in page and "Ajoutez l'adresse." in page
    edit = alice.get(f"/demandes/{request_id}/modifier")
    assert edit.status_code == 200 and 'value="cnaf_enfants" checked' in edit.text
    amended = content(scopes=["cnaf_quotient_familial", "cnaf_enfants", "cnaf_adresse"])
    saved = alice.post(
        f"/demandes/{request_id}/modifier",
        data=as_form(amended, alice.csrf),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert post(alice, f"/demandes/{request_id}/messages", "C'est fait.").status_code == 303
    assert post(alice, f"/demandes/{request_id}/soumettre").status_code == 303
    review = unescape(ines.get(f"/demandes/{request_id}").text)
    assert "Ce qui a changé depuis la version 1" in review
    assert "Données ajoutées" in review and "Votre adresse connue de la CAF ou de la MSA" in review
    assert "C'est fait." in review
    assert post(ines, f"/demandes/{request_id}/approuver", "Conforme.").status_code == 303
    request, versions = stored(portal, request_id)
    assert request.status == Status.APPROVED and len(versions) == 2
    with portal.db.reader() as session:
        habilitation = session.exec(
            select(Habilitation).where(Habilitation.request_id == request_id)
        ).one()
    assert habilitation.scopes == ["cnaf_quotient_familial", "cnaf_enfants", "cnaf_adresse"]
    assert habilitation.organisation_siret == VILLEBOURG
    done = alice.get(f"/demandes/{request_id}").text
    assert "Approuvée" in done and habilitation.id in done


def test_reopening_from_a_habilitation(portal):
    alice = requester(portal)
    request_id = submitted(portal, alice)
    ines = instructor(portal)
    assert post(ines, f"/demandes/{request_id}/approuver").status_code == 303
    with portal.db.reader() as session:
        habilitation_id = session.exec(
            select(Habilitation.id).where(Habilitation.request_id == request_id)
        ).one()
    carole = requester(portal, "carole", VAL_FLEURI)
    assert post(carole, f"/habilitations/{habilitation_id}/reouvrir").status_code == 404
    assert post(ines, f"/habilitations/{habilitation_id}/reouvrir").status_code == 404
    ivan = instructor(portal, "ivan", siret=None)  # not a requester at all
    assert post(ivan, f"/habilitations/{habilitation_id}/reouvrir").status_code == 403
    answer = post(alice, f"/habilitations/{habilitation_id}/reouvrir")
    assert answer.status_code == 303
    found = re.fullmatch(r"/demandes/(req_[\w-]+)/modifier", answer.headers["location"])
    assert found and found[1] != request_id
    form = alice.get(answer.headers["location"])
    assert form.status_code == 200 and "readonly" in form.text
    again = post(alice, f"/habilitations/{habilitation_id}/reouvrir")
    assert again.headers["location"] == answer.headers["location"]  # the open one


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mailed(portal_factory, tmp_path) -> Iterator[tuple[Any, Path]]:
    """A portal whose mailer sends to a real SMTP server (the development sink)."""
    directory = tmp_path / "caught"
    sink = start_sink("127.0.0.1", free_port(), directory)
    yield portal_factory(smtp_url=f"smtp://127.0.0.1:{sink.port}"), directory
    sink.stop()


def mails_since(directory: Path, seen: int) -> list[Any]:
    return sorted(caught(directory), key=lambda mail: mail.id)[seen:]


def test_each_move_emails_the_other_side_once_committed(mailed):
    portal, directory = mailed
    alice = requester(portal)
    ines = instructor(portal)
    ada = sign_in(portal, email="ada@operateur.example", siret=OPERATOR, roles=["administrator"])
    with portal.db.reader() as session:  # the seeded ones too
        staff = sorted(
            {g.email for g in list_roles(session) if g.role in ("instructor", "administrator")}
        )
    assert {ines.agent.email, ada.agent.email} <= set(staff)
    organisation = sorted(
        [alice.agent.email, "alice@villebourg.example", "tech@villebourg.example"]
    )
    request_id = file_request(alice)
    assert caught(directory) == []  # a draft tells no one

    steps = [
        (alice, "soumettre", "", "déposée", staff),
        (ines, "messages", "Précisez le volume.", "Nouveau message", organisation),
        (alice, "messages", "Environ 500.", "Nouveau message", staff),
        (ines, "modifications", "Ajoutez l'adresse.", "Modifications demandées", organisation),
        (alice, "soumettre", "", "déposée", staff),
        (ines, "approuver", "", "acceptée", organisation),
    ]
    for seen, (who, move, body, subject, to) in enumerate(steps):
        assert post(who, f"/demandes/{request_id}/{move}", body).status_code == 303, move
        [mail] = mails_since(directory, seen)
        assert sorted(mail.to) == to, move
        assert subject in mail.subject and "Cantine de Villebourg" in mail.subject
        assert f"{PORTAL_URL}/demandes/{request_id}\n" in mail.body
        if body:
            assert body not in mail.body  # the details stay behind sign-in


def test_refusal_emails_the_organisation(mailed):
    portal, directory = mailed
    alice = requester(portal)
    request_id = submitted(portal, alice)
    before = len(caught(directory))
    answer = post(instructor(portal), f"/demandes/{request_id}/refuser", "Hors cadre.")
    assert answer.status_code == 303
    [mail] = mails_since(directory, before)
    assert "refusée" in mail.subject
    assert sorted(mail.to) == sorted(
        [alice.agent.email, "alice@villebourg.example", "tech@villebourg.example"]
    )


def test_mail_failure_never_fails_the_move(portal_factory):
    portal = portal_factory(smtp_url=f"smtp://127.0.0.1:{free_port()}")  # nobody listens
    instructor(portal)
    request_id = submitted(portal)  # asserts the 303
    assert stored(portal, request_id)[0].status == Status.SUBMITTED


@pytest.mark.parametrize("bad", ["\x00", "\x1b[31m"])
def test_attack_control_characters_in_a_message_are_a_field_error(portal, bad):
    """PostgreSQL refuses a NUL in text: a field error, never a 500."""
    request_id = submitted(portal)
    ines = instructor(portal)
    for move, field in (("messages", "body-message"), ("refuser", "body-refuse")):
        answer = post(ines, f"/demandes/{request_id}/{move}", f"Motif{bad}caché")
        assert answer.status_code == 400, move
        assert f'id="{field}-erreur"' in answer.text and "caractères de contrôle" in answer.text
    assert stored(portal, request_id)[0].status == Status.SUBMITTED


def test_role_instructor_cannot_decide_own_organisation_request(portal):
    """Iris, an instructor acting for Villebourg, neither filed nor wrote Alice's request for
    Villebourg: still not hers to decide."""
    request_id = submitted(portal)
    iris = sign_in(
        portal,
        email="iris@villebourg.example",
        siret=VILLEBOURG,
        organisation="Mairie de Villebourg",
        roles=["instructor"],
    )
    assert "Approuver la demande" not in iris.get(f"/demandes/{request_id}").text
    assert post(iris, f"/demandes/{request_id}/approuver").status_code == 403
    assert post(iris, f"/demandes/{request_id}/refuser", "Non").status_code == 403
    assert stored(portal, request_id)[0].status == Status.SUBMITTED
