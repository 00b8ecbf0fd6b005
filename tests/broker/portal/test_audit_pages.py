"""The audit trail page: administrators only, entries newest first with their changes field by
field, filters and pages, and the chain's verification at the top, broken when tampered."""

from __future__ import annotations

import html
import re

import pytest

from broker.admin.audit import record
from broker.portal import audit_pages
from tests.broker.admin.test_audit import rows, tamper
from tests.broker.portal.conftest import VILLEBOURG, sign_in

ADMIN = "admin@operateur.example"


def admin(portal):
    return sign_in(portal, email=ADMIN, roles=["administrator"])


def write(portal, *, action="client.update", target_id="c-1", before=None, after=None):
    with portal.db.transaction() as session:
        record(
            session,
            actor="agent:ag-42 sophie.martin@villebourg.example",
            action=action,
            target_type="client",
            target_id=target_id,
            before=before,
            after=after,
        )


def text_of(page) -> str:
    """The page's text, tags removed, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


def entry_seqs(page) -> list[int]:
    return [int(seq) for seq in re.findall(r'id="entree-(\d+)"', page.text)]


def test_role_only_administrators_read_audit(portal):
    anonymous = portal.client().get("/audit", follow_redirects=False)
    assert anonymous.status_code in (302, 303)
    assert anonymous.headers["location"].startswith("/connexion")
    others = [
        sign_in(portal, email="sophie@villebourg.example", siret=VILLEBOURG),
        sign_in(portal, email="helene@operateur.example", roles=["instructor"]),
        sign_in(portal, email="claire@cnaf.example", roles=["data_provider"], providers=["cnaf"]),
    ]
    for client in others:
        refused = client.get("/audit")
        assert refused.status_code == 403
        assert "Accès refusé" in refused.text and "client.update" not in refused.text
        assert 'href="/audit"' not in refused.text  # nor offered in the menu
    allowed = admin(portal).get("/audit")
    assert allowed.status_code == 200
    assert "Chaîne intègre" in text_of(allowed)


def test_entries_shown_with_their_changes(portal):
    write(
        portal,
        before={"redirect_uris": ["https://a.example/cb"], "pkce": True, "name": "Cantine"},
        after={"redirect_uris": ["https://b.example/cb"], "pkce": False, "name": "Cantine"},
    )
    write(portal, action="client.create", target_id="c-2", after={"name": "Périscolaire"})
    write(portal, action="client.delete", target_id="c-3", before={"name": "Ancien"})
    page = admin(portal).get("/audit")
    assert page.status_code == 200
    text = text_of(page)
    assert "sophie.martin@villebourg.example" in text
    assert "redirect_uris : avant : https://a.example/cb → après : https://b.example/cb" in text
    assert "pkce : avant : oui → après : non" in text
    assert "name : avant" not in text  # unchanged fields are not listed
    assert "Création name : ajouté : Périscolaire" in text
    assert "Suppression name : retiré : Ancien" in text
    seqs = entry_seqs(page)
    assert seqs == sorted(seqs, reverse=True)  # newest first
    total = rows(portal.db)[-1]["seq"]
    assert f"Chaîne intègre : {total} entrées vérifiées" in text


def test_filters_and_pages(portal, monkeypatch):
    monkeypatch.setattr(audit_pages, "PAGE_SIZE", 2)
    for n in range(3):
        write(portal, target_id=f"c-{n}", after={"n": n})
    write(portal, action="api_key.issue", target_id="k-1", after={"name": "Clé"})
    client = admin(portal)
    first = client.get("/audit", params={"action": "client.update"})
    seqs = entry_seqs(first)
    assert len(seqs) == 2
    older = re.search(r'href="(/audit\?[^"]*avant=\d+[^"]*)"', first.text)
    assert older is not None
    second = client.get(html.unescape(older.group(1)))
    remaining = entry_seqs(second)
    assert len(remaining) == 1 and remaining[0] < min(seqs)
    assert "api_key.issue</span>" not in second.text
    assert "Entrées les plus récentes" in second.text
    by_target = client.get("/audit", params={"cible": "client:c-1"})
    assert len(entry_seqs(by_target)) == 1
    nothing = client.get("/audit", params={"cible": "absent"})
    assert "Aucune entrée ne correspond" in nothing.text


@pytest.mark.parametrize("params", [{"avant": "abc"}, {"avant": "0"}, {"cible": "x" * 201}])
def test_bad_query_gets_a_readable_page(portal, params):
    page = admin(portal).get("/audit", params=params)
    assert page.status_code == 400
    assert "Demande non valable" in page.text and "Traceback" not in page.text


def test_attack_tampered_chain_shown_on_the_page(portal):
    write(portal, after={"redirect_uris": ["https://a.example/cb"]})
    write(portal, after={"redirect_uris": ["https://b.example/cb"]})
    client = admin(portal)
    edited = rows(portal.db)[-2]["seq"]
    tamper(
        portal.db,
        f"""UPDATE audit_entry SET after = '{{"redirect_uris": ["https://evil.example/cb"]}}' """
        f"WHERE seq = {edited}",
    )
    page = client.get("/audit")
    assert page.status_code == 200
    text = text_of(page)
    assert f"Chaîne rompue à l'entrée n° {edited}" in text
    assert "a été modifiée après son enregistrement" in text
    assert "Chaîne intègre" not in text
    row = re.search(rf'<tr id="entree-{edited}" class="audit-broken">.*?</tr>', page.text, re.S)
    assert row is not None and "Entrée altérée" in row.group(0)


def test_attack_edit_inside_a_prefix_verified_by_an_earlier_view_is_detected(portal):
    """A view verifies the chain; then an entry it verified is edited: the next view reads
    the stored rows again and shows the break (nothing trusted from the earlier view)."""
    write(portal, after={"redirect_uris": ["https://a.example/cb"]})
    write(portal, after={"redirect_uris": ["https://b.example/cb"]})
    client = admin(portal)
    assert "Chaîne intègre" in text_of(client.get("/audit"))
    edited = rows(portal.db)[-2]["seq"]
    tamper(portal.db, f"UPDATE audit_entry SET actor = 'cli:someone-else' WHERE seq = {edited}")
    text = text_of(client.get("/audit"))
    assert f"Chaîne rompue à l'entrée n° {edited}" in text
    assert "Chaîne intègre" not in text
