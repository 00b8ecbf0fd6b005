"""The roles page: administrators only; grants and revocations through broker.admin.agents,
each in the audit trail; the form's mistakes shown next to their fields; the last
administrator kept."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import text

from broker.admin.agents import agent_roles, list_roles, revoke_role
from broker.admin.audit import entries
from broker.portal.principal import Role
from tests.broker.portal.conftest import VILLEBOURG, sign_in

ADMIN = "admin@operateur.example"
NEWCOMER = "nouvel.instructeur@operateur.example"


def admin(portal):
    return sign_in(portal, email=ADMIN, roles=["administrator"])


def text_of(page) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


def roles_of(portal, email: str):
    with portal.db.reader() as session:
        return agent_roles(session, email)


def grant(client, **fields):
    return client.post("/roles", data={"csrf": client.csrf, **fields}, follow_redirects=False)


def revoke(client, **fields):
    data = {"csrf": client.csrf, "provider": "", **fields}
    return client.post("/roles/retrait", data=data, follow_redirects=False)


def test_role_only_administrators_manage_roles(portal):
    anonymous = portal.client()
    assert anonymous.get("/roles", follow_redirects=False).status_code in (302, 303)
    assert (
        anonymous.post("/roles", data={"email": NEWCOMER, "role": "administrator"}).status_code
        == 403
    )
    others = [
        sign_in(portal, email="sophie@villebourg.example", siret=VILLEBOURG),
        sign_in(portal, email="helene@operateur.example", roles=["instructor"]),
        sign_in(portal, email="claire@cnaf.example", roles=["data_provider"], providers=["cnaf"]),
    ]
    for client in others:
        assert client.get("/roles").status_code == 403
        assert grant(client, email=client.agent.email, role="administrator").status_code == 403
        assert revoke(client, email=ADMIN, role="administrator").status_code == 403
        assert Role.ADMINISTRATOR not in roles_of(portal, client.agent.email)[0]
    administrator = admin(portal)
    page = administrator.get("/roles")
    assert page.status_code == 200
    assert ADMIN in page.text
    assert revoke(others[1], email=ADMIN, role="administrator").status_code == 403
    assert Role.ADMINISTRATOR in roles_of(portal, ADMIN)[0]


def test_attack_role_form_without_csrf_refused(portal):
    administrator = admin(portal)
    forged = administrator.post("/roles", data={"email": NEWCOMER, "role": "administrator"})
    assert forged.status_code == 403
    other_session = sign_in(portal, email="other.admin@operateur.example", roles=["administrator"])
    stolen = administrator.post(
        "/roles",
        data={"csrf": other_session.csrf, "email": NEWCOMER, "role": "administrator"},
    )
    assert stolen.status_code == 403
    assert roles_of(portal, NEWCOMER) == (frozenset(), frozenset())


def test_administrator_grants_and_revokes_roles(portal):
    administrator = admin(portal)
    granted = grant(
        administrator, email=" Nouvel.Instructeur@Operateur.example ", role="instructor"
    )
    assert granted.status_code == 303 and granted.headers["location"] == "/roles?fait=accorde"
    assert roles_of(portal, NEWCOMER)[0] == {Role.INSTRUCTOR}
    shown = administrator.get("/roles?fait=accorde")
    assert "Le rôle a été accordé" in text_of(shown)
    assert NEWCOMER in shown.text and "Instructeur" in shown.text
    again = grant(administrator, email=NEWCOMER, role="instructor")
    assert again.headers["location"] == "/roles?fait=deja"

    provider = grant(
        administrator, email="claire@cnaf.example", role="data_provider", provider="cnaf"
    )
    assert provider.status_code == 303
    assert roles_of(portal, "claire@cnaf.example") == ({Role.DATA_PROVIDER}, {"cnaf"})

    revoked = revoke(administrator, email=NEWCOMER, role="instructor")
    assert revoked.headers["location"] == "/roles?fait=retire"
    assert roles_of(portal, NEWCOMER)[0] == frozenset()
    assert revoke(administrator, email=NEWCOMER, role="instructor").headers["location"] == (
        "/roles?fait=absent"
    )
    with portal.db.reader() as session:
        trail = entries(session, limit=10, before_seq=None, action="role", target=NEWCOMER)
    assert [(e.action, e.actor) for e in trail] == [
        ("role.revoke", administrator.agent.actor),
        ("role.grant", administrator.agent.actor),
    ]
    assert trail[1].after == {"email": NEWCOMER, "role": "instructor", "provider": ""}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"email": "pas-une-adresse", "role": "instructor"},
            "email",
            "adresse électronique valable",
        ),
        ({"email": NEWCOMER, "role": "requester"}, "role", "Choisissez un rôle"),
        ({"email": NEWCOMER}, "role", "Choisissez un rôle"),
        ({"email": NEWCOMER, "role": "data_provider"}, "provider", "Choisissez le fournisseur"),
        (
            {"email": NEWCOMER, "role": "data_provider", "provider": "nope"},
            "provider",
            "Choisissez le fournisseur",
        ),
        (
            {"email": NEWCOMER, "role": "administrator", "provider": "cnaf"},
            "provider",
            "ne s'indique que pour le rôle",
        ),
    ],
)
def test_bad_grant_shown_next_to_its_field(portal, fields, field, message):
    administrator = admin(portal)
    before = len_roles(portal)
    page = grant(administrator, **fields)
    assert page.status_code == 400
    text = text_of(page)
    assert "Le rôle n'a pas été accordé" in text and message in text
    assert f'href="#role-{field}"' in page.text
    assert f'id="role-{field}-erreur"' in page.text
    assert f'value="{fields["email"]}"' in page.text  # the form keeps what was typed
    assert len_roles(portal) == before


def len_roles(portal) -> int:
    with portal.db.reader() as session:
        return len(list_roles(session))


def test_tampered_revocation_gets_a_readable_page(portal):
    page = revoke(admin(portal), email="x", role="instructor")
    assert page.status_code == 400
    assert "Ce rôle n'existe pas" in html.unescape(page.text)


def test_role_last_administrator_cannot_be_revoked(portal):
    administrator = admin(portal)
    with portal.db.transaction() as session:
        for other in list_roles(session):
            if other.role == Role.ADMINISTRATOR and other.email != ADMIN:
                revoke_role(session, email=other.email, role=other.role, actor="test:setup")
    refused = revoke(administrator, email=ADMIN, role="administrator")
    assert refused.status_code == 409
    assert "Le dernier rôle d'administrateur ne peut pas être retiré" in html.unescape(refused.text)
    assert Role.ADMINISTRATOR in roles_of(portal, ADMIN)[0]
    with portal.db.reader() as session:
        revocations = session.execute(
            text(
                "SELECT COUNT(*) FROM audit_entry WHERE action = 'role.revoke' AND target_id = :e"
            ),
            {"e": ADMIN},
        ).scalar_one()
    assert revocations == 0  # rolled back with the refused revocation
    second = sign_in(portal, email="second.admin@operateur.example", roles=["administrator"])
    assert revoke(second, email=ADMIN, role="administrator").status_code == 303
    assert Role.ADMINISTRATOR not in roles_of(portal, ADMIN)[0]
    assert administrator.get("/roles").status_code == 403  # at their next request
