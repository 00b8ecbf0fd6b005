"""The habilitation pages of the portal: lists by role, the detail page, API keys issued (the
secret shown once), renamed and revoked by their organisation's requesters, habilitations
revoked by administrators only; every refusal a readable page, every change audited."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import select

from broker.core.security import digest
from broker.portal.principal import Role
from broker.store.data_access_models import ApiKey, Habilitation
from broker.store.portal_models import AuditEntry
from tests.broker.admin.habilitation_support import (
    DINUM,
    OPERATOR,
    VAL_FLEURI,
    VILLEBOURG,
    end_habilitation,
    organisation_habilitation,
)
from tests.broker.portal.conftest import sign_in

SECRET = re.compile(r"bpk_[A-Za-z0-9_-]{20,}")


def requester(portal, siret: str = VILLEBOURG, email: str = "alice@villebourg.fr"):
    return sign_in(portal, email=email, siret=siret, organisation="Mairie")


def instructor(portal):
    return sign_in(portal, email="ines@operateur.gouv.fr", siret=OPERATOR, roles=[Role.INSTRUCTOR])


def administrator(portal):
    return sign_in(
        portal, email="adam@operateur.gouv.fr", siret=OPERATOR, roles=[Role.ADMINISTRATOR]
    )


def issue(client, habilitation_id: str, name: str = "Logiciel cantine") -> httpx.Response:
    return client.post(
        f"/habilitations/{habilitation_id}/cles", data={"csrf": client.csrf, "name": name}
    )


def keys_of(portal, habilitation_id: str) -> list[ApiKey]:
    with portal.db.reader() as session:
        return list(session.exec(select(ApiKey).where(ApiKey.habilitation_id == habilitation_id)))


def audit_trail(portal) -> list[AuditEntry]:
    """The entries of keys and habilitations (signing agents in records their roles too)."""
    with portal.db.reader() as session:
        entries = session.exec(select(AuditEntry).order_by(AuditEntry.seq))  # type: ignore[arg-type]
        return [e for e in entries if e.target_type in ("api_key", "habilitation")]


# -- lists and pages by role -------------------------------------------------------------------


def test_role_requester_sees_only_own_organisation_habilitations(portal):
    mine = organisation_habilitation(portal.db, service="Cantine de Villebourg")
    theirs = organisation_habilitation(portal.db, VAL_FLEURI, service="Piscine du Val Fleuri")
    alice = requester(portal)

    listing = alice.get("/habilitations")
    assert listing.status_code == 200
    assert f'data-habilitation="{mine}"' in listing.text and "Cantine de Villebourg" in listing.text
    assert theirs not in listing.text and "Piscine du Val Fleuri" not in listing.text
    refused = alice.get(f"/habilitations/{theirs}")
    assert refused.status_code == 404 and "Piscine" not in refused.text
    assert "Habilitation introuvable" in refused.text

    for everyone in (instructor(portal), administrator(portal)):
        listing = everyone.get("/habilitations")
        assert f'data-habilitation="{mine}"' in listing.text
        assert f'data-habilitation="{theirs}"' in listing.text
        assert everyone.get(f"/habilitations/{theirs}").status_code == 200


def test_role_data_provider_and_anonymous_are_kept_out(portal):
    habilitation = organisation_habilitation(portal.db)
    provider = sign_in(portal, email="dp@cnaf.fr", roles=[Role.DATA_PROVIDER], providers=["cnaf"])
    assert provider.get("/habilitations").status_code == 403
    assert provider.get(f"/habilitations/{habilitation}").status_code == 403
    anonymous = portal.client()
    page = anonymous.get(f"/habilitations/{habilitation}", follow_redirects=False)
    assert page.status_code in (302, 303) and "/connexion" in page.headers["location"]
    assert (
        anonymous.post(f"/habilitations/{habilitation}/cles", data={"name": "x"}).status_code == 403
    )
    assert keys_of(portal, habilitation) == []


def test_detail_page_shows_terms_rights_and_keys(portal):
    habilitation = organisation_habilitation(
        portal.db, scopes="cnaf_quotient_familial dgfip_rfr", recipients=[DINUM]
    )
    alice = requester(portal)
    page = alice.get(f"/habilitations/{habilitation}")
    assert page.status_code == 200
    assert page.headers["cache-control"].startswith("no-store")
    body = page.text
    assert 'data-standing="active"' in body  # no expiry date: CLI-made, terms unchanged
    assert "Tarification sociale de la cantine scolaire" in body
    assert 'data-provider="cnaf"' in body and 'data-provider="dgfip"' in body
    assert 'data-scope="cnaf_quotient_familial"' in body
    assert "GET /v3/dss/quotient_familial/identite" in body
    assert "GET /v3/dgfip/situation_fiscale/france_connect" in body
    assert DINUM in body and "1200 requêtes par minute" in body
    assert 'action="/habilitations/' + habilitation + '/cles?lang=fr"' in body
    assert f'name="csrf" value="{alice.csrf}"' in body
    # Reopening is the requests' pages' business: a POST form to it, with the CSRF field.
    assert f'action="/habilitations/{habilitation}/reouvrir?lang=fr"' in body
    assert "Modifier ou renouveler l'habilitation" in body
    assert "/revocation" not in body.split('id="cles"')[0]  # no admin revocation for requesters


def test_detail_page_in_english(portal):
    habilitation = organisation_habilitation(portal.db)
    page = requester(portal).get(f"/habilitations/{habilitation}?lang=en")
    assert page.status_code == 200 and '<html lang="en">' in page.text


# -- keys --------------------------------------------------------------------------------------


def test_attack_key_secret_shown_once(portal):
    habilitation = organisation_habilitation(portal.db)
    alice = requester(portal)
    shown = issue(alice, habilitation)
    assert shown.status_code == 200
    assert shown.headers["cache-control"].startswith("no-store")
    [secret] = set(SECRET.findall(shown.text))
    assert "ne sera plus jamais affichée" in shown.text
    [stored] = keys_of(portal, habilitation)
    assert stored.digest == digest(secret) and stored.name == "Logiciel cantine"

    detail = alice.get(f"/habilitations/{habilitation}")
    assert "Logiciel cantine" in detail.text
    assert not SECRET.search(detail.text)
    assert not SECRET.search(alice.get("/habilitations").text)
    with portal.db.reader() as session:
        dump = "\n".join(
            repr(tuple(row))
            for table in ("audit_entry", "api_key")
            for row in session.execute(text(f"SELECT * FROM {table}")).all()
        )
    assert secret not in dump and secret.removeprefix("bpk_") not in dump
    [entry] = audit_trail(portal)
    assert entry.action == "api_key.issue" and digest(secret) not in repr(entry.after)
    assert entry.actor == alice.agent.actor


def test_bad_key_name_is_shown_again_with_its_error(portal):
    habilitation = organisation_habilitation(portal.db)
    alice = requester(portal)
    page = issue(alice, habilitation, "x" * 101)
    assert page.status_code == 400
    assert "ne doit pas dépasser 100 caractères" in page.text
    assert 'aria-invalid="true"' in page.text and 'href="#cle-nom"' in page.text
    assert not SECRET.search(page.text)
    assert issue(alice, habilitation, "  ").status_code == 400
    assert keys_of(portal, habilitation) == [] and audit_trail(portal) == []


def test_role_other_organisation_cannot_issue_key(portal):
    habilitation = organisation_habilitation(portal.db)  # Villebourg's
    mallory = requester(portal, VAL_FLEURI, email="mallory@valfleuri.fr")
    refused = issue(mallory, habilitation)
    assert refused.status_code == 404 and not SECRET.search(refused.text)
    alice = requester(portal)
    issue(alice, habilitation)
    [key] = keys_of(portal, habilitation)
    base = f"/habilitations/{habilitation}/cles/{key.id}"
    assert mallory.get(base + "/revocation").status_code == 404
    assert mallory.post(base + "/revocation", data={"csrf": mallory.csrf}).status_code == 404
    assert mallory.post(base + "/nom", data={"csrf": mallory.csrf, "name": "x"}).status_code == 404
    [key] = keys_of(portal, habilitation)
    assert key.revoked_at is None and key.name == "Logiciel cantine"


def test_role_instructor_cannot_issue_key(portal):
    """Keys belong to the requesters: an instructor sees them, without a form to change them."""
    habilitation = organisation_habilitation(portal.db)
    issue(requester(portal), habilitation)
    [key] = keys_of(portal, habilitation)
    ines = instructor(portal)
    page = ines.get(f"/habilitations/{habilitation}")
    assert "Logiciel cantine" in page.text
    assert "/cles?lang" not in page.text and "/revocation" not in page.text
    assert issue(ines, habilitation).status_code == 403
    base = f"/habilitations/{habilitation}/cles/{key.id}"
    assert ines.post(base + "/revocation", data={"csrf": ines.csrf}).status_code == 403
    assert ines.post(base + "/nom", data={"csrf": ines.csrf, "name": "x"}).status_code == 403
    assert len(keys_of(portal, habilitation)) == 1 and len(audit_trail(portal)) == 1


def test_attack_key_forms_without_the_sessions_csrf_token(portal):
    habilitation = organisation_habilitation(portal.db)
    alice = requester(portal)
    assert alice.post(f"/habilitations/{habilitation}/cles", data={"name": "x"}).status_code == 403
    forged = {"csrf": "forged", "name": "x"}
    assert alice.post(f"/habilitations/{habilitation}/cles", data=forged).status_code == 403
    assert keys_of(portal, habilitation) == []


@pytest.mark.parametrize("revoked", [True, False], ids=["revoked", "expired"])
def test_attack_key_on_revoked_habilitation_refused(portal, revoked):
    habilitation = organisation_habilitation(portal.db)
    end_habilitation(portal.db, habilitation, revoked=revoked)
    alice = requester(portal)
    page = alice.get(f"/habilitations/{habilitation}")
    assert f'data-standing="{"revoked" if revoked else "expired"}"' in page.text
    assert "/cles?lang" not in page.text
    refused = issue(alice, habilitation)
    assert refused.status_code == 409 and "a pris fin" in refused.text
    assert not SECRET.search(refused.text)
    assert keys_of(portal, habilitation) == []


def test_key_renamed_then_revoked_after_confirmation(portal):
    habilitation = organisation_habilitation(portal.db)
    alice = requester(portal)
    issue(alice, habilitation, "Ancien nom")
    [key] = keys_of(portal, habilitation)
    base = f"/habilitations/{habilitation}/cles/{key.id}"

    bad = alice.post(base + "/nom", data={"csrf": alice.csrf, "name": "a\x07b"})
    assert bad.status_code == 400 and "caractères de contrôle" in bad.text
    assert (
        f'href="#cle-{key.id}-nom"' in bad.text
        and '<details class="habilitations-rename" open' in bad.text
    )
    renamed = alice.post(
        base + "/nom", data={"csrf": alice.csrf, "name": "Nouveau nom"}, follow_redirects=False
    )
    assert renamed.status_code == 303
    assert renamed.headers["location"] == f"/habilitations/{habilitation}?fait=cle-renommee"

    confirm = alice.get(base + "/revocation")
    assert confirm.status_code == 200
    assert "Révoquer la clé « Nouveau nom » ?" in confirm.text
    assert f'action="{base}/revocation?lang=fr"' in confirm.text and alice.csrf in confirm.text
    revoked = alice.post(base + "/revocation", data={"csrf": alice.csrf}, follow_redirects=False)
    assert revoked.status_code == 303
    page = alice.get(revoked.headers["location"])
    assert "La clé a été révoquée" in page.text and "Révoquée le" in page.text
    assert alice.get(base + "/revocation").status_code == 409
    assert alice.post(base + "/revocation", data={"csrf": alice.csrf}).status_code == 409
    assert [e.action for e in audit_trail(portal)] == [
        "api_key.issue",
        "api_key.rename",
        "api_key.revoke",
    ]


def test_issued_key_really_works_on_the_data_api(portal, simulators):
    from broker.resources.app import build_resource_state, create_resource_asgi_app
    from tests.e2e.data_api_support import identite_params

    habilitation = organisation_habilitation(portal.db)
    [secret] = set(SECRET.findall(issue(requester(portal), habilitation).text))
    settings = portal.settings.model_copy(update={"providers_url": simulators, "redis_url": ""})
    state = build_resource_state(settings)
    app = create_resource_asgi_app(settings, state)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://data-api") as client:
            return await client.get(
                "/v3/dss/quotient_familial/identite",
                params={**identite_params("nom_composé"), "recipient": DINUM},
                headers={"X-Api-Key": secret},
            )

    try:
        answer = asyncio.run(call())
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["quotient_familial"]["valeur"] == 635
    finally:
        state.db.dispose()


# -- revoking a habilitation -------------------------------------------------------------------


def test_role_only_administrator_revokes_habilitation(portal):
    habilitation = organisation_habilitation(portal.db)
    path = f"/habilitations/{habilitation}/revocation"
    for who in (requester(portal), instructor(portal)):
        assert who.get(path).status_code == 403
        refused = who.post(path, data={"csrf": who.csrf, "reason": "Je veux"})
        assert refused.status_code == 403 and "Seuls les administrateurs" in refused.text
    with portal.db.reader() as session:
        assert session.get(Habilitation, habilitation).revoked_at is None

    adam = administrator(portal)
    assert f'href="{path}"' in adam.get(f"/habilitations/{habilitation}").text
    confirm = adam.get(path)
    assert confirm.status_code == 200 and 'name="reason"' in confirm.text
    assert '<label for="motif">' in confirm.text
    missing = adam.post(path, data={"csrf": adam.csrf, "reason": "  "})
    assert missing.status_code == 400 and 'aria-invalid="true"' in missing.text
    assert "Indiquez pourquoi" in missing.text
    done = adam.post(
        path, data={"csrf": adam.csrf, "reason": "Finalité détournée"}, follow_redirects=False
    )
    assert done.status_code == 303
    page = adam.get(done.headers["location"])
    assert 'data-standing="revoked"' in page.text and "Finalité détournée" in page.text
    assert f'href="{path}"' not in page.text
    [entry] = audit_trail(portal)
    assert (entry.action, entry.target_id, entry.actor) == (
        "habilitation.revoke",
        habilitation,
        adam.agent.actor,
    )
    assert adam.post(path, data={"csrf": adam.csrf, "reason": "Encore"}).status_code == 409
    # The requesters see it ended, with the reason, and no form to issue keys.
    alice_page = requester(portal).get(f"/habilitations/{habilitation}")
    assert "Finalité détournée" in alice_page.text and "/cles?lang" not in alice_page.text


def test_unknown_habilitation_and_key_are_readable_404_pages(portal):
    alice = requester(portal)
    page = alice.get("/habilitations/hab_nope")
    assert page.status_code == 404 and "Habilitation introuvable" in page.text
    habilitation = organisation_habilitation(portal.db)
    assert alice.get(f"/habilitations/{habilitation}/cles/key_nope/revocation").status_code == 404
    assert alice.get("/habilitations/" + "h" * 300).status_code == 404


def test_revocation_pages_say_when_it_applies_not_at_once(portal):
    """The data API keeps clients (and their habilitations) up to 10 s per process: the pages
    say so rather than promise an immediate effect."""
    habilitation = organisation_habilitation(portal.db)
    adam = administrator(portal)
    path = f"/habilitations/{habilitation}/revocation"
    assert "au plus 10 s" in adam.get(path).text
    done = adam.post(path, data={"csrf": adam.csrf, "reason": "Fin"}, follow_redirects=False)
    page = adam.get(done.headers["location"]).text
    assert "dans les secondes qui suivent (au plus 10 s)" in page
    assert "dès maintenant" not in page
