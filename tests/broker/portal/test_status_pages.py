"""The public status page (no sign-in, no personal data), its JSON form, and the maintenance
notices administrators manage."""

from __future__ import annotations

import html as html_module
import re
import time
from datetime import datetime

import pytest
from sqlmodel import select

from broker.admin.status import (
    DEGRADED,
    DOWN,
    MAINTENANCE,
    UP,
    Probe,
    Target,
    record_probes,
)
from broker.admin.status_notices import add_notice
from broker.store.portal_models import AuditEntry, StatusNotice
from broker.web.i18n import TIMEZONE
from tests.broker.portal.conftest import VILLEBOURG, sign_in

ADMIN = "admin@operateur.gouv.fr"
HOUR = 3600


def record(portal, now: int, states: dict[str, str], detail: str = "") -> None:
    """The board as ``check_all`` would leave it after pings giving ``states``."""
    with portal.db.transaction() as session:
        record_probes(
            session,
            [
                Probe(Target(key, label_of(key), None), state, detail if state != UP else "", 12)
                for key, state in states.items()
            ],
            now,
        )


def label_of(key: str) -> str:
    return {
        "provider:cnaf": "Caisse nationale des allocations familiales (CAF) et MSA",
        "provider:dgfip": "Direction générale des Finances publiques (impots.gouv.fr)",
        "idp:demo": "Identité de démonstration",
    }[key]


def notice(portal, message: str, starts_at: int, ends_at: int, target: str = "") -> int:
    with portal.db.transaction() as session:
        created = add_notice(
            session,
            target=target,
            message=message,
            starts_at=starts_at,
            ends_at=ends_at,
            actor=f"agent:a1 {ADMIN}",
            now=starts_at if starts_at < int(time.time()) else int(time.time()),
        )
    assert created.id is not None
    return created.id


def text_of(html: str) -> str:
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def local(moment: int) -> str:
    return datetime.fromtimestamp(moment, TIMEZONE).strftime("%Y-%m-%dT%H:%M")


def admin_client(portal):
    return sign_in(portal, email=ADMIN, roles=["administrator"], given_name="Alex")


# -- the public page ---------------------------------------------------------------------


def test_status_page_is_public_and_words_every_state(portal):
    now = int(time.time())
    record(portal, now - 2 * HOUR, {"provider:cnaf": UP, "provider:dgfip": UP, "idp:demo": UP})
    record(
        portal, now - HOUR, {"provider:cnaf": UP, "provider:dgfip": DOWN, "idp:demo": MAINTENANCE}
    )
    page = portal.client().get("/status")
    assert page.status_code == 200
    assert "set-cookie" not in page.headers, "no session is opened for a visitor"
    text = text_of(page.text)
    assert "Perturbations en cours" in text
    assert "Tous les services fonctionnent" not in text
    assert "Fonctionne normalement" in text and "Indisponible" in text and "En maintenance" in text
    assert "Direction générale des Finances publiques" in text
    assert "Identité de démonstration" in text
    assert "Incidents des 30 derniers jours" in text
    assert text.count("en cours") >= 2, "both incidents are still open"
    assert "<caption>" in page.text and 'scope="col"' in page.text and 'scope="row"' in page.text
    assert 'href="/static/status.css"' in page.text


def test_overall_line_when_everything_is_up_and_closed_incidents_have_a_duration(portal):
    now = int(time.time())
    record(portal, now - 3 * HOUR, {"provider:cnaf": DOWN, "provider:dgfip": UP})
    record(portal, now - HOUR, {"provider:cnaf": UP, "provider:dgfip": UP})
    text = text_of(portal.client().get("/status").text)
    assert "Tous les services fonctionnent" in text
    assert "Interruption" in text and "2 heures" in text
    assert " en cours " not in text


def test_degraded_is_a_disruption(portal):
    record(portal, int(time.time()), {"provider:cnaf": DEGRADED, "provider:dgfip": UP})
    text = text_of(portal.client().get("/status").text)
    assert "Perturbations en cours" in text and "Ralenti" in text


def test_never_checked_says_so(portal):
    text = text_of(portal.client().get("/status").text)
    assert "L'état des services n'a pas encore été vérifié." in text
    assert "Aucun incident ces 30 derniers jours." in text


def test_status_page_in_english_names_providers_in_english(portal):
    record(portal, int(time.time()), {"provider:cnaf": UP})
    text = text_of(portal.client().get("/status?lang=en").text)
    assert "National Family Allowance Fund" in text


def test_status_json_gives_the_same_data(portal):
    now = int(time.time())
    record(
        portal, now - HOUR, {"provider:cnaf": UP, "provider:dgfip": MAINTENANCE}, "retry in 600 s"
    )
    notice(portal, "Bascule du centre de calcul", now - 60, now + HOUR, "provider:dgfip")
    answer = portal.client().get("/status.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["status"] == "disrupted"
    services = {s["id"]: s for s in body["services"]}
    assert services["provider:dgfip"]["state"] == MAINTENANCE
    assert services["provider:dgfip"]["detail"] == "retry in 600 s"
    assert services["provider:cnaf"]["kind"] == "data_provider"
    assert [n["message"] for n in body["notices"]] == ["Bascule du centre de calcul"]
    [incident] = body["incidents"]
    assert (incident["id"], incident["state"], incident["ended_at"]) == (
        "provider:dgfip",
        MAINTENANCE,
        None,
    )
    assert ADMIN not in answer.text, "who wrote a notice is not published"


def test_notices_shown_while_current_only(portal):
    now = int(time.time())
    notice(portal, "Maintenance passée", now - 3 * HOUR, now - 2 * HOUR)
    notice(portal, "Maintenance en cours sur la CAF", now - HOUR, now + HOUR, "provider:cnaf")
    notice(portal, "Maintenance à venir", now + HOUR, now + 2 * HOUR)
    page = portal.client().get("/status")
    text = text_of(page.text)
    assert "Maintenance en cours sur la CAF" in text
    assert "Maintenance passée" not in text and "Maintenance à venir" not in text
    assert ADMIN not in page.text


# -- managing notices -------------------------------------------------------------------


def test_administrator_publishes_then_ends_a_notice(portal):
    client = admin_client(portal)
    assert "Gérer les annonces" in client.get("/status").text
    form = client.get("/status/annonces")
    assert form.status_code == 200 and "Nouvelle annonce" in form.text
    now = int(time.time())
    answer = client.post(
        "/status/annonces",
        data={
            "csrf": client.csrf,
            "target": "provider:cnaf",
            "message": "Mise à jour de la CAF",
            "starts_at": local(now - 120),
            "ends_at": local(now + HOUR),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/status/annonces"
    assert "Mise à jour de la CAF" in portal.client().get("/status").text
    with portal.db.reader() as session:
        [row] = session.exec(select(StatusNotice)).all()
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.action == "status_notice.add")
        ).all()
    assert row.created_by == client.agent.actor
    assert [e.target_id for e in entries] == [str(row.id)]

    listed = client.get("/status/annonces").text
    assert "Mise à jour de la CAF" in listed and "Terminer maintenant" in listed
    ended = client.post(
        f"/status/annonces/{row.id}/fin", data={"csrf": client.csrf}, follow_redirects=False
    )
    assert ended.status_code == 303
    assert "Mise à jour de la CAF" not in portal.client().get("/status").text
    with portal.db.reader() as session:
        assert session.get(StatusNotice, row.id).ends_at <= int(time.time())
        assert session.exec(
            select(AuditEntry).where(AuditEntry.action == "status_notice.end")
        ).all()
    again = client.post(f"/status/annonces/{row.id}/fin", data={"csrf": client.csrf})
    assert again.status_code == 409 and "Cette annonce est déjà terminée." in again.text
    missing = client.post("/status/annonces/999999/fin", data={"csrf": client.csrf})
    assert missing.status_code == 404 and "Cette annonce n'existe pas." in text_of(missing.text)


def test_notice_form_shows_each_error_next_to_its_field(portal):
    client = admin_client(portal)
    now = int(time.time())
    cases = [
        (
            {"message": "  ", "starts_at": local(now), "ends_at": local(now + HOUR)},
            "message",
            "Écrivez le message de l'annonce.",
        ),
        (
            {"message": "x", "starts_at": "demain", "ends_at": local(now + HOUR)},
            "starts_at",
            "Indiquez une date et une heure valables",
        ),
        (
            {"message": "x", "starts_at": local(now + HOUR), "ends_at": local(now)},
            "ends_at",
            "La fin doit venir après le début.",
        ),
        (
            {"message": "x", "starts_at": local(now - 2 * HOUR), "ends_at": local(now - HOUR)},
            "ends_at",
            "La fin doit être dans le futur.",
        ),
        (
            {
                "message": "x",
                "target": "provider:inconnu",
                "starts_at": local(now),
                "ends_at": local(now + HOUR),
            },
            "target",
            "Choisissez un service de la liste.",
        ),
        (
            {"message": "x" * 1001, "starts_at": local(now), "ends_at": local(now + HOUR)},
            "message",
            "1000 caractères",
        ),
    ]
    for fields, field, message in cases:
        answer = client.post("/status/annonces", data={"csrf": client.csrf, "target": "", **fields})
        assert answer.status_code == 400, (fields, answer.status_code)
        assert message in text_of(answer.text), fields
        assert f'id="annonce-{field}-erreur"' in answer.text
        assert f'href="#annonce-{field}"' in answer.text, "the summary links to the field"
        assert 'aria-invalid="true"' in answer.text
    with portal.db.reader() as session:
        assert session.exec(select(StatusNotice)).all() == [], "nothing half-written"
        assert (
            session.exec(
                select(AuditEntry).where(AuditEntry.action.startswith("status_notice"))
            ).all()
            == []
        )


def test_role_only_administrators_manage_notices(portal):
    anonymous = portal.client()
    seen = anonymous.get("/status/annonces", follow_redirects=False)
    assert seen.status_code in (302, 303) and seen.headers["location"].startswith("/connexion")
    assert anonymous.post("/status/annonces", data={"message": "x"}).status_code == 403
    now = int(time.time())
    notice_id = notice(portal, "Maintenance de la plateforme", now - 60, now + HOUR)
    others = [
        sign_in(
            portal,
            email="agent@villebourg.fr",
            siret=VILLEBOURG,
            organisation="Mairie de Villebourg",
        ),
        sign_in(portal, email="instructeur@operateur.gouv.fr", roles=["instructor"]),
        sign_in(portal, email="caf@caf.fr", roles=["data_provider"], providers=["cnaf"]),
    ]
    for client in others:
        assert client.get("/status/annonces").status_code == 403
        posted = client.post(
            "/status/annonces",
            data={
                "csrf": client.csrf,
                "target": "",
                "message": "Pirate",
                "starts_at": local(now),
                "ends_at": local(now + HOUR),
            },
        )
        assert posted.status_code == 403
        assert (
            client.post(f"/status/annonces/{notice_id}/fin", data={"csrf": client.csrf}).status_code
            == 403
        )
        assert "Gérer les annonces" not in client.get("/status").text
    with portal.db.reader() as session:
        [only] = session.exec(select(StatusNotice)).all()
    assert only.message == "Maintenance de la plateforme" and only.ends_at == now + HOUR


def test_attack_notice_without_the_session_csrf_token_is_refused(portal):
    client = admin_client(portal)
    now = int(time.time())
    fields = {
        "target": "",
        "message": "Forgée",
        "starts_at": local(now),
        "ends_at": local(now + HOUR),
    }
    assert client.post("/status/annonces", data=fields).status_code == 403
    assert client.post("/status/annonces", data={**fields, "csrf": "0" * 43}).status_code == 403
    with portal.db.reader() as session:
        assert session.exec(select(StatusNotice)).all() == []


def test_attack_notice_markup_escaped(portal):
    client = admin_client(portal)
    now = int(time.time())
    attack = '<script>alert(1)</script><img src=x onerror="alert(2)"> fin'
    answer = client.post(
        "/status/annonces",
        data={
            "csrf": client.csrf,
            "target": "",
            "message": attack,
            "starts_at": local(now - 60),
            "ends_at": local(now + HOUR),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    for page in (portal.client().get("/status").text, client.get("/status/annonces").text):
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert portal.client().get("/status.json").json()["notices"][0]["message"] == attack


@pytest.mark.parametrize(
    ("detail", "words"),
    [
        ("retry in 600 s", "nouvel essai dans 600 s"),
        ("HTTP 502 07502", "réponse HTTP 502"),
        ("no answer within 8 s", "pas de réponse en 8 s"),
        ("unreachable (ConnectError)", "injoignable"),
        ("Migration en cours", "Migration en cours"),  # an operator's own words, as written
    ],
)
def test_details_are_worded_on_the_page_and_raw_in_the_json(portal, detail, words):
    now = int(time.time())
    record(portal, now, {"provider:dgfip": MAINTENANCE}, detail)
    text = text_of(portal.client().get("/status").text)
    assert words in text
    if words != detail:
        assert detail not in text
    services = {s["id"]: s for s in portal.client().get("/status.json").json()["services"]}
    assert services["provider:dgfip"]["detail"] == detail
