"""The clients' pages of the portal: requesters manage their organisation's clients only,
administrators all, instructors and data providers none; each form refused with its errors
beside the fields and nothing written; a rotated secret shown once, the previous one refused
by the broker's token endpoint once the overlap is over; no secret ever in the audit trail."""

from __future__ import annotations

import html
import json
import re
import time

import httpx
import pytest
from joserfc.jwk import ECKey
from sqlmodel import col, select

from broker.admin.clients import ClientRegistration, add_client
from broker.core.security import digest
from broker.demo.seed import DEMO_CLIENT_ID, DEMO_DATA_SCOPES
from broker.portal.principal import Role
from broker.store.clients import ClientCache
from broker.store.data_access_models import Habilitation
from broker.store.models import OAuthClient, Service
from broker.store.portal_models import AuditEntry
from tests.broker.portal.conftest import OPERATOR, VAL_FLEURI, VILLEBOURG, sign_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
SECRET_ON_PAGE = re.compile(r"<code data-secret>([^<]+)</code>")


def make_client(portal, name: str, siret: str | None) -> dict:
    with portal.db.transaction() as session:
        created = add_client(
            session,
            ClientRegistration(
                name=name, redirect_uris=["https://cantine.example/callback"], scope="openid"
            ),
        )
        service = session.get(Service, created["service_id"])
        service.organisation_siret = siret
        session.add(service)
    return created


def stored(portal, client_id: str) -> OAuthClient:
    with portal.db.reader() as session:
        return session.get(OAuthClient, client_id)


def audit_trail(portal) -> list[AuditEntry]:
    with portal.db.reader() as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all())


def requester(portal, siret: str = VILLEBOURG, email: str = "alice@villebourg.fr"):
    return sign_in(portal, email=email, siret=siret, organisation="Mairie de Villebourg")


def administrator(portal):
    return sign_in(
        portal, email="adam@operateur.gouv.fr", siret=OPERATOR, roles=[Role.ADMINISTRATOR]
    )


def post_addresses(client, client_id: str, redirect_uris: str, **fields: str) -> httpx.Response:
    data = {"csrf": client.csrf, "redirect_uris": redirect_uris, **fields}
    return client.post(f"/clients/{client_id}/adresses", data=data, follow_redirects=False)


def post_keys(client, client_id: str, jwks: str = "", jwks_uri: str = "") -> httpx.Response:
    data = {"csrf": client.csrf, "jwks": jwks, "jwks_uri": jwks_uri}
    return client.post(f"/clients/{client_id}/cles", data=data, follow_redirects=False)


def rotate(client, client_id: str, overlap: str = "24") -> httpx.Response:
    data = {"csrf": client.csrf, "overlap_hours": overlap}
    return client.post(f"/clients/{client_id}/secret", data=data, follow_redirects=False)


def shown_secret(response: httpx.Response) -> str:
    found = SECRET_ON_PAGE.findall(response.text)
    assert len(found) == 1, response.text
    return html.unescape(found[0])


def assert_field_error(page: httpx.Response, field: str) -> None:
    """The error beside the field, the field marked, and the summary linking to it."""
    assert page.status_code == 400, page.text
    assert f'id="{field}-erreur"' in page.text
    field_tag = re.search(rf'<(?:textarea|input)[^>]*id="{field}"[^>]*>', page.text)
    assert field_tag and 'aria-invalid="true"' in field_tag.group(0)
    assert f"{field}-erreur" in field_tag.group(0)
    assert f'href="#{field}"' in page.text and 'role="alert"' in page.text


# -- who manages what --------------------------------------------------------------------------


def test_role_requester_manages_only_own_organisation_clients(portal):
    mine = make_client(portal, "Cantine de Villebourg", VILLEBOURG)
    theirs = make_client(portal, "Piscine du Val Fleuri", VAL_FLEURI)
    alice = requester(portal)

    listing = alice.get("/clients")
    assert listing.status_code == 200
    assert f'data-client="{mine["client_id"]}"' in listing.text
    assert f'data-client="{DEMO_CLIENT_ID}"' in listing.text, "the demo service is Villebourg's"
    assert theirs["client_id"] not in listing.text and "Piscine" not in listing.text

    page = alice.get(f"/clients/{mine['client_id']}")
    assert page.status_code == 200 and "https://cantine.example/callback" in page.text
    done = post_addresses(alice, mine["client_id"], "https://cantine.example/cb2\n")
    assert done.status_code in (302, 303) and done.headers["location"].endswith("?fait=adresses")
    assert stored(portal, mine["client_id"]).redirect_uris == ["https://cantine.example/cb2"]

    for attempt in (
        alice.get(f"/clients/{theirs['client_id']}"),
        alice.get(f"/clients/{theirs['client_id']}/logo"),
        post_addresses(alice, theirs["client_id"], "https://attacker.example/cb"),
        post_keys(alice, theirs["client_id"], jwks_uri="https://attacker.example/jwks"),
        rotate(alice, theirs["client_id"]),
    ):
        assert attempt.status_code == 404, attempt.text
        assert "Client introuvable" in attempt.text and "Piscine" not in attempt.text
    row = stored(portal, theirs["client_id"])
    assert row.redirect_uris == ["https://cantine.example/callback"] and row.jwks_uri is None
    assert row.secret_digest == digest(theirs["client_secret"])


def test_role_administrator_manages_every_client(portal):
    theirs = make_client(portal, "Piscine du Val Fleuri", VAL_FLEURI)
    adam = administrator(portal)
    listing = adam.get("/clients")
    assert theirs["client_id"] in listing.text and DEMO_CLIENT_ID in listing.text
    done = post_addresses(adam, theirs["client_id"], "https://piscine.example/cb")
    assert done.status_code in (302, 303)
    assert stored(portal, theirs["client_id"]).redirect_uris == ["https://piscine.example/cb"]
    assert audit_trail(portal)[-1].actor == adam.agent.actor


def test_role_instructor_cannot_edit_clients(portal):
    mine = make_client(portal, "Cantine de Villebourg", VILLEBOURG)
    # An instructor of the operator: a requester of the operator's organisation at most.
    ines = sign_in(portal, email="ines@operateur.gouv.fr", siret=OPERATOR, roles=[Role.INSTRUCTOR])
    assert mine["client_id"] not in ines.get("/clients").text
    for attempt in (
        ines.get(f"/clients/{mine['client_id']}"),
        post_addresses(ines, mine["client_id"], "https://attacker.example/cb"),
        rotate(ines, mine["client_id"]),
    ):
        assert attempt.status_code == 404, attempt.text
    # An instructor named by no organisation: no client page at all.
    solo = sign_in(portal, email="solo@operateur.gouv.fr", roles=[Role.INSTRUCTOR])
    assert solo.get("/clients").status_code == 403
    assert post_addresses(solo, mine["client_id"], "https://attacker.example/cb").status_code == 403
    assert rotate(solo, mine["client_id"]).status_code == 403
    row = stored(portal, mine["client_id"])
    assert row.redirect_uris == ["https://cantine.example/callback"]
    assert row.secret_digest == digest(mine["client_secret"])
    assert not [e for e in audit_trail(portal) if e.target_id == mine["client_id"]]


def test_role_data_provider_cannot_reach_clients(portal):
    mine = make_client(portal, "Cantine de Villebourg", VILLEBOURG)
    paula = sign_in(portal, email="paula@cnaf.fr", roles=[Role.DATA_PROVIDER], providers=["cnaf"])
    assert paula.get("/clients").status_code == 403
    assert paula.get(f"/clients/{mine['client_id']}").status_code == 403
    assert rotate(paula, mine["client_id"]).status_code == 403


def test_attack_change_without_the_session_csrf_token_refused(portal):
    mine = make_client(portal, "Cantine de Villebourg", VILLEBOURG)
    alice = requester(portal)
    forged = alice.post(
        f"/clients/{mine['client_id']}/adresses",
        data={"csrf": "forged", "redirect_uris": "https://attacker.example/cb"},
    )
    assert forged.status_code == 403
    assert stored(portal, mine["client_id"]).redirect_uris == ["https://cantine.example/callback"]


# -- forms refused with their errors -----------------------------------------------------------


def test_attack_javascript_redirect_uri_refused(portal):
    mine = make_client(portal, "Cantine de Villebourg", VILLEBOURG)
    alice = requester(portal)
    typed = "https://cantine.example/ok\njavascript:alert(document.cookie)"
    page = post_addresses(alice, mine["client_id"], typed)
    assert_field_error(page, "redirect_uris")
    assert "absolute http(s) URL: javascript:alert(document.cookie)" in html.unescape(page.text)
    assert "javascript:alert(document.cookie)</textarea>" in page.text, "what was typed, again"
    assert stored(portal, mine["client_id"]).redirect_uris == ["https://cantine.example/callback"]
    assert not [e for e in audit_trail(portal) if e.target_id == mine["client_id"]]


def test_attack_notification_uri_towards_an_internal_address_refused(portal):
    mine = make_client(portal, "Cantine de Villebourg", VILLEBOURG)
    alice = requester(portal)
    page = post_addresses(
        alice,
        mine["client_id"],
        "https://cantine.example/cb",
        notification_uri="http://169.254.169.254/latest/meta-data",
    )
    assert_field_error(page, "notification_uri")
    assert stored(portal, mine["client_id"]).notification_uri is None


def test_attack_private_key_in_jwks_refused(portal):
    mine = make_client(portal, "Cantine de Villebourg", VILLEBOURG)
    alice = requester(portal)
    private = ECKey.generate_key("P-256", {"kid": "leaked"}).as_dict(private=True)
    page = post_keys(alice, mine["client_id"], jwks=json.dumps({"keys": [private]}))
    assert_field_error(page, "jwks")
    assert "private key material (d)" in page.text
    assert private["d"] not in page.text, "a leaked private key is not sent back"
    row = stored(portal, mine["client_id"])
    assert (row.jwks, row.jwks_uri) == (None, None)
    assert not [e for e in audit_trail(portal) if e.target_id == mine["client_id"]]


def test_public_keys_saved_and_audited(portal):
    alice = requester(portal)
    public = {"keys": [ECKey.generate_key("P-256", {"kid": "k2"}).as_dict(private=False)]}
    # The demo client authenticates with private_key_jwt: its keys are replaced, never dropped.
    done = post_keys(alice, DEMO_CLIENT_ID, jwks=json.dumps(public))
    assert done.status_code in (302, 303), done.text
    assert stored(portal, DEMO_CLIENT_ID).jwks == public
    entry = audit_trail(portal)[-1]
    assert (entry.action, entry.target_id, entry.actor) == (
        "client.update_keys",
        DEMO_CLIENT_ID,
        alice.agent.actor,
    )
    dropped = post_keys(alice, DEMO_CLIENT_ID)
    assert_field_error(dropped, "jwks")
    assert "private_key_jwt needs" in dropped.text
    assert stored(portal, DEMO_CLIENT_ID).jwks == public


def test_logo_uploaded_then_served_with_the_brokers_headers(portal):
    mine = make_client(portal, "Cantine de Villebourg", VILLEBOURG)
    alice = requester(portal)
    done = alice.post(
        f"/clients/{mine['client_id']}/logo",
        data={"csrf": alice.csrf},
        files={"logo": ("logo.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert done.status_code in (302, 303), done.text
    page = alice.get(f"/clients/{mine['client_id']}")
    src = re.search(r'<img src="([^"]+)"', page.text).group(1)
    image = alice.get(html.unescape(src))
    assert image.status_code == 200 and image.content == PNG
    assert image.headers["content-type"] == "image/png"
    assert image.headers["x-content-type-options"] == "nosniff"
    # Behind the sign-in: no shared cache may keep it and hand it to someone else.
    assert (
        image.headers["cache-control"].startswith("private")
        and "public" not in image.headers["cache-control"]
    )
    assert audit_trail(portal)[-1].action == "service.set_logo"


@pytest.mark.parametrize(
    ("name", "content", "media_type"),
    [
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "image/png"),
        ("big.png", PNG + b"\x00" * 100_001, "image/png"),
    ],
    ids=["svg-called-png", "too-big"],
)
def test_attack_logo_other_than_a_small_png_or_jpeg_refused(portal, name, content, media_type):
    mine = make_client(portal, "Cantine de Villebourg", VILLEBOURG)
    alice = requester(portal)
    page = alice.post(
        f"/clients/{mine['client_id']}/logo",
        data={"csrf": alice.csrf},
        files={"logo": (name, content, media_type)},
    )
    assert_field_error(page, "logo")
    with portal.db.reader() as session:
        assert session.get(Service, mine["service_id"]).logo is None


# -- secret rotation ---------------------------------------------------------------------------


def authenticates(broker, client_id: str, secret: str) -> bool:
    """Client authentication at the broker's token endpoint: a made-up code is
    ``invalid_grant`` for an authenticated client, ``invalid_client`` otherwise."""
    broker.state.context.clients.invalidate()  # each process keeps a client a few seconds
    response = httpx.post(
        f"{broker.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": "made-up",
            "redirect_uri": "https://cantine.example/callback",
            "code_verifier": "v" * 43,
        },
        auth=(client_id, secret),
        timeout=10,
    )
    error = response.json().get("error")
    assert error in ("invalid_grant", "invalid_client"), response.text
    return error == "invalid_grant"


def test_rotated_secret_shown_once_on_a_page_no_cache_keeps(portal):
    mine = make_client(portal, "Cantine de Villebourg", VILLEBOURG)
    alice = requester(portal)
    page = rotate(alice, mine["client_id"], "168")
    assert page.status_code == 200
    assert "no-store" in page.headers["cache-control"]
    secret = shown_secret(page)
    assert stored(portal, mine["client_id"]).secret_digest == digest(secret)
    detail = alice.get(f"/clients/{mine['client_id']}").text
    assert secret not in detail and digest(secret) not in detail
    assert "reste accepté jusqu" in detail


def test_rotation_overlap_outside_the_choices_refused(portal):
    mine = make_client(portal, "Cantine de Villebourg", VILLEBOURG)
    alice = requester(portal)
    page = rotate(alice, mine["client_id"], "720")
    assert page.status_code == 400 and 'id="overlap_hours-erreur"' in page.text
    error = re.search(r'id="overlap_hours-erreur".*?</p>', page.text, re.S).group(0)
    assert "0, 24 ou 168 heures" in html.unescape(error) and 'lang="en"' not in error
    assert stored(portal, mine["client_id"]).secret_digest == digest(mine["client_secret"])


def test_a_client_without_secret_offers_no_rotation(portal):
    alice = requester(portal)
    page = alice.get(f"/clients/{DEMO_CLIENT_ID}")
    assert page.status_code == 200 and "/secret?" not in page.text
    assert rotate(alice, DEMO_CLIENT_ID).status_code == 409


def test_attack_rotated_secret_after_overlap_refused(portal, broker):
    """The portal and the broker on one database, the broker over a socket."""
    mine = make_client(portal, "Cantine de Villebourg", VILLEBOURG)
    old = mine["client_secret"]
    alice = requester(portal)
    new = shown_secret(rotate(alice, mine["client_id"], "24"))
    assert authenticates(broker, mine["client_id"], old), "during the overlap"
    assert authenticates(broker, mine["client_id"], new)
    with portal.db.transaction() as session:  # a day later: the overlap is over
        row = session.get(OAuthClient, mine["client_id"])
        row.previous_secret_expires_at = int(time.time()) - 1
        session.add(row)
    assert not authenticates(broker, mine["client_id"], old)
    assert authenticates(broker, mine["client_id"], new)

    newest = shown_secret(rotate(alice, mine["client_id"], "0"))
    assert not authenticates(broker, mine["client_id"], new), "no overlap: refused at once"
    assert not authenticates(broker, mine["client_id"], old)
    assert authenticates(broker, mine["client_id"], newest)


def test_attack_secret_never_in_audit_trail(portal):
    mine = make_client(portal, "Cantine de Villebourg", VILLEBOURG)
    alice = requester(portal)
    first = shown_secret(rotate(alice, mine["client_id"], "24"))
    second = shown_secret(rotate(alice, mine["client_id"], "0"))
    post_addresses(alice, mine["client_id"], "https://cantine.example/cb")
    entries = [e for e in audit_trail(portal) if e.target_id == mine["client_id"]]
    assert [e.action for e in entries] == [
        "client.rotate_secret",
        "client.rotate_secret",
        "client.update",
    ]
    assert entries[0].after["overlap_hours"] == 24 and entries[1].after["overlap_hours"] == 0
    assert {e.actor for e in entries} == {alice.agent.actor}
    written = json.dumps([e.model_dump() for e in audit_trail(portal)])
    for secret in (mine["client_secret"], first, second):
        assert secret not in written and digest(secret) not in written


def error_of(page: httpx.Response, field: str) -> str:
    return re.search(rf'id="{field}-erreur".*?</p>', page.text, re.S).group(0)


def test_attack_deeply_nested_jwks_refused(portal):
    """Deeper than the JSON parser goes: a field error, not a 500 page."""
    alice = requester(portal)
    page = post_keys(alice, DEMO_CLIENT_ID, jwks="[" * 19000)
    assert_field_error(page, "jwks")
    assert "nested too deeply" in error_of(page, "jwks")
    with portal.db.reader() as session:
        assert session.get(OAuthClient, DEMO_CLIENT_ID).jwks != []


def test_cli_detail_shown_only_where_it_adds_information(portal):
    mine = make_client(portal, "Cantine de Villebourg", VILLEBOURG)
    alice = requester(portal)
    empty = post_addresses(alice, mine["client_id"], "\n")
    assert_field_error(empty, "redirect_uris")
    assert "Raison" not in error_of(empty, "redirect_uris"), "it would only repeat the rule"
    named = post_addresses(alice, mine["client_id"], "http://cantine.example/cb")
    assert "http://cantine.example/cb" in error_of(named, "redirect_uris")


def test_pages_promise_what_the_broker_client_cache_keeps(portal):
    """The broker keeps a client at most ClientCache's ttl: addresses, keys and secrets alike
    (a cached client carries them all), so the pages' "au plus 10 s" must stay true."""
    assert ClientCache().ttl <= 10
    mine = make_client(portal, "Cantine de Villebourg", VILLEBOURG)
    alice = requester(portal)
    done = post_addresses(alice, mine["client_id"], "https://cantine.example/cb2")
    page = alice.get(done.headers["location"])
    promise = "dans les secondes qui suivent (au plus 10 s)"
    assert promise in html.unescape(page.text)
    assert promise in html.unescape(rotate(alice, mine["client_id"], "24").text)


# -- registering a client ----------------------------------------------------------------------


def habilitated_service(portal, name: str, siret: str, scopes: list[str]) -> str:
    service_id = make_client(portal, name, siret)["service_id"]
    now = int(time.time())
    with portal.db.transaction() as session:
        session.add(
            Habilitation(
                id=f"hab_{service_id[:12]}",
                service_id=service_id,
                scopes=scopes,
                purpose="Inscriptions",
                legal_basis="Délibération",
                created_at=now,
                expires_at=now + 86400 * 365,
                organisation_siret=siret,
            )
        )
    return service_id


def demo_service_id(portal) -> str:
    with portal.db.reader() as session:
        return session.get(OAuthClient, DEMO_CLIENT_ID).service_id


def register(client, service_id: str, scopes=("openid", "profile"), **fields) -> httpx.Response:
    data = {
        "csrf": client.csrf,
        "name": "Cantine en ligne",
        "service": service_id,
        "redirect_uris": "https://cantine.example/callback",
        "auth_method": "client_secret_basic",
        "scopes": list(scopes),
        **fields,
    }
    return client.post("/clients/nouveau", data=data, follow_redirects=False)


def client_ids(portal) -> set[str]:
    with portal.db.reader() as session:
        return set(session.exec(select(OAuthClient.client_id)).all())


def test_role_requester_registers_client_only_for_own_service(portal, broker):
    """The portal and the broker on one database, the broker over a socket."""
    theirs = habilitated_service(portal, "Piscine du Val Fleuri", VAL_FLEURI, DEMO_DATA_SCOPES)
    mine = demo_service_id(portal)  # Villebourg's, with the demo's running habilitation
    alice = requester(portal)
    form = alice.get("/clients/nouveau")
    assert form.status_code == 200 and f'value="{mine}"' in form.text
    assert theirs not in form.text and "Piscine" not in form.text

    before = client_ids(portal)
    refused = register(alice, theirs)
    assert refused.status_code == 400 and 'id="service-erreur"' in refused.text
    assert client_ids(portal) == before

    scopes = ("openid", "profile", *DEMO_DATA_SCOPES)
    page = register(alice, mine, scopes=scopes)
    assert page.status_code == 200, page.text
    assert "no-store" in page.headers["cache-control"]
    secret = shown_secret(page)
    (client_id,) = client_ids(portal) - before
    row = stored(portal, client_id)
    assert (row.service_id, row.name, row.scope) == (mine, "Cantine en ligne", " ".join(scopes))
    assert row.secret_digest == digest(secret)
    entry = audit_trail(portal)[-1]
    assert (entry.action, entry.target_id, entry.actor) == (
        "client.create",
        client_id,
        alice.agent.actor,
    )
    written = json.dumps([e.model_dump() for e in audit_trail(portal)])
    assert secret not in written and digest(secret) not in written
    assert authenticates(broker, client_id, secret), "the broker's token endpoint accepts it"
    assert not authenticates(broker, client_id, "not-" + secret)

    # Neither instructors nor data providers register clients.
    solo = sign_in(portal, email="solo@operateur.gouv.fr", roles=[Role.INSTRUCTOR])
    assert solo.get("/clients/nouveau").status_code == 403
    assert register(solo, mine).status_code == 403
    # A requester of an organisation without a running habilitation: nothing offered.
    val = requester(portal, siret=OPERATOR, email="val@operateur.gouv.fr")
    assert 'name="service"' not in val.get("/clients/nouveau").text
    assert register(val, mine).status_code == 400
    assert client_ids(portal) == before | {client_id}


def test_attack_client_scopes_beyond_habilitation_refused(portal):
    mine = demo_service_id(portal)
    alice = requester(portal)
    before, entries = client_ids(portal), len(audit_trail(portal))
    for scopes in (("openid", "cnaf_enfants"), ("openid", "scolarite_eleve"), ("profile",)):
        page = register(alice, mine, scopes=scopes)
        assert page.status_code == 400, page.text
        assert 'id="scopes-erreur"' in page.text and 'href="#scopes"' in page.text
    assert "cnaf_enfants" in error_of(register(alice, mine, ("openid", "cnaf_enfants")), "scopes")
    assert client_ids(portal) == before and len(audit_trail(portal)) == entries


def test_registration_form_refused_with_errors_beside_fields(portal):
    mine = demo_service_id(portal)
    alice = requester(portal)
    private = ECKey.generate_key("P-256", {"kid": "leaked"}).as_dict(private=True)
    page = register(
        alice,
        mine,
        name="",
        redirect_uris="javascript:alert(1)",
        auth_method="private_key_jwt",
        jwks="[" * 19000,
    )
    for field in ("name", "redirect_uris", "jwks"):
        assert_field_error(page, field)
    leaked = register(
        alice, mine, auth_method="private_key_jwt", jwks=json.dumps({"keys": [private]})
    )
    assert_field_error(leaked, "jwks")
    assert private["d"] not in leaked.text
    public = {"keys": [ECKey.generate_key("P-256", {"kid": "k"}).as_dict(private=False)]}
    done = register(alice, mine, auth_method="private_key_jwt", jwks=json.dumps(public))
    assert done.status_code == 200 and "data-secret" not in done.text
