"""Clients managed by their owners (issue 15, point 6): the same rules as ``broker clients
add``, each refusal writing nothing, every change in the audit trail without a secret, and a
secret rotation whose previous secret authenticates at the real token endpoint during the
overlap and not after."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from joserfc.jwk import ECKey, OctKey, RSAKey
from sqlmodel import col, select

from broker.admin.client_access import ClientManager, ClientNotFound, managed_clients
from broker.admin.client_jwks import holds_private_material, parse_jwks
from broker.admin.client_registration import NewClient, register_client, registrable_services
from broker.admin.client_secrets import rotate_secret
from broker.admin.client_settings import (
    JWKS,
    JWKS_URI,
    LOGO,
    NOTIFICATION_URI,
    POST_LOGOUT_REDIRECT_URIS,
    REDIRECT_URIS,
    WHOLE,
    Addresses,
    ClientChangeRefused,
    Keys,
    set_client_logo,
    update_addresses,
    update_keys,
)
from broker.admin.clients import AdminError, ClientRegistration, add_client
from broker.admin.principal import Agent, Role
from broker.core.db import Database
from broker.core.outbound.policy import OutboundPolicy
from broker.core.security import digest
from broker.store.data_access_models import Habilitation
from broker.store.models import OAuthClient, Service
from broker.store.portal_models import AuditEntry

VILLEBOURG = "21730001500013"
VAL_FLEURI = "20005478900017"
PRODUCTION = OutboundPolicy(allow_loopback=False, require_https=True)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
OPERATOR = ClientManager.operator("cli:test")


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def agent(siret: str | None, *roles: Role) -> Agent:
    return Agent(
        id=f"agent-{siret}-{'-'.join(roles)}",
        email="agent@mairie.example",
        given_name="Camille",
        family_name="Martin",
        siret=siret,
        organisation=None,
        roles=frozenset(roles),
    )


VILLEBOURG_AGENT = ClientManager.of_agent(agent(VILLEBOURG, Role.REQUESTER))


def make_client(db: Database, name: str, siret: str | None, **kwargs) -> dict:
    kwargs.setdefault("redirect_uris", ["https://cantine.example/callback"])
    with db.transaction() as session:
        created = add_client(session, ClientRegistration(name=name, scope="openid", **kwargs))
        service = session.get(Service, created["service_id"])
        service.organisation_siret = siret
        session.add(service)
    return created


def stored(db: Database, client_id: str) -> OAuthClient:
    with db.reader() as session:
        return session.get(OAuthClient, client_id)


def trail(db: Database) -> list[AuditEntry]:
    with db.reader() as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all())


def refused(db: Database, change, *, field: str, match: str) -> None:
    """``change(session)`` is refused on ``field`` and leaves no trace."""
    entries = len(trail(db))
    with pytest.raises(ClientChangeRefused) as caught, db.transaction() as session:
        change(session)
    assert field in caught.value.errors, caught.value.errors
    assert match in caught.value.errors[field], caught.value.errors
    assert len(trail(db)) == entries


# --- Addresses ------------------------------------------------------------------------------


def test_addresses_are_replaced_and_audited(db):
    created = make_client(db, "Cantine de Villebourg", VILLEBOURG)
    addresses = Addresses(
        redirect_uris=(
            "https://cantine.example/cb",
            "https://cantine.example/cb",
            "http://127.0.0.1:9/cb",
        ),
        post_logout_redirect_uris=("https://cantine.example/",),
        notification_uri="https://cantine.example/events",
        backchannel_logout_uri="https://cantine.example/logout",
    )
    with db.transaction() as session:
        update_addresses(session, VILLEBOURG_AGENT, created["client_id"], addresses)
    row = stored(db, created["client_id"])
    assert row.redirect_uris == ["https://cantine.example/cb", "http://127.0.0.1:9/cb"]
    assert row.post_logout_redirect_uris == ["https://cantine.example/"]
    assert (row.notification_uri, row.backchannel_logout_uri) == (
        "https://cantine.example/events",
        "https://cantine.example/logout",
    )
    entry = trail(db)[-1]
    assert (entry.action, entry.target_type, entry.target_id) == (
        "client.update",
        "client",
        created["client_id"],
    )
    assert entry.actor == VILLEBOURG_AGENT.actor
    assert entry.before[REDIRECT_URIS] == ["https://cantine.example/callback"]
    assert entry.after[REDIRECT_URIS] == row.redirect_uris


@pytest.mark.parametrize(
    ("uri", "match"),
    [
        ("javascript:alert(1)", "absolute http(s)"),
        ("data:text/html,<script>alert(1)</script>", "URL characters only"),
        ("http://cantine.example/cb", "plain http is only allowed on loopback"),
        ("https://*.cantine.example/cb", "wildcard"),
        ("https://cantine.example/cb#frag", "fragment"),
        ("https://user:pw@cantine.example/cb", "userinfo"),
        ("https://cantine.example/" + "a" * 2000, "at most 2000 characters"),
    ],
)
def test_attack_redirect_uri_refused_as_the_cli_refuses_it(db, uri, match):
    created = make_client(db, "Cantine de Villebourg", VILLEBOURG)
    refused(
        db,
        lambda s: update_addresses(
            s, VILLEBOURG_AGENT, created["client_id"], Addresses(redirect_uris=(uri,))
        ),
        field=REDIRECT_URIS,
        match=match,
    )
    assert stored(db, created["client_id"]).redirect_uris == ["https://cantine.example/callback"]


def test_a_client_keeps_at_least_one_redirect_uri(db):
    created = make_client(db, "Cantine de Villebourg", VILLEBOURG)
    refused(
        db,
        lambda s: update_addresses(s, VILLEBOURG_AGENT, created["client_id"], Addresses(())),
        field=REDIRECT_URIS,
        match="at least one",
    )


def test_attack_post_logout_redirect_uri_refused(db):
    created = make_client(db, "Cantine de Villebourg", VILLEBOURG)
    change = Addresses(
        redirect_uris=("https://cantine.example/cb",),
        post_logout_redirect_uris=("javascript:history.back()",),
    )
    refused(
        db,
        lambda s: update_addresses(s, VILLEBOURG_AGENT, created["client_id"], change),
        field=POST_LOGOUT_REDIRECT_URIS,
        match="absolute http(s)",
    )


@pytest.mark.parametrize(
    ("uri", "policy", "match"),
    [
        (
            "http://10.0.0.5/events",
            OutboundPolicy(allow_loopback=True, require_https=False),
            "refused",
        ),
        (
            "http://169.254.169.254/latest",
            OutboundPolicy(allow_loopback=True, require_https=False),
            "refused",
        ),
        ("http://127.0.0.1:9/events", PRODUCTION, "refused"),
        ("http://cantine.example/events", PRODUCTION, "refused"),
    ],
)
def test_attack_notification_uri_towards_an_internal_or_plain_address(db, uri, policy, match):
    created = make_client(db, "Cantine de Villebourg", VILLEBOURG)
    change = Addresses(redirect_uris=("https://cantine.example/cb",), notification_uri=uri)
    refused(
        db,
        lambda s: update_addresses(s, VILLEBOURG_AGENT, created["client_id"], change, policy),
        field=NOTIFICATION_URI,
        match=match,
    )


# --- Keys -----------------------------------------------------------------------------------


def public_ec(kid: str = "k1") -> dict:
    return ECKey.generate_key("P-256", {"kid": kid, "use": "sig"}).as_dict(private=False)


def test_public_keys_replace_the_registered_ones(db, jwks_server):
    created = make_client(
        db,
        "Cantine de Villebourg",
        VILLEBOURG,
        auth_method="private_key_jwt",
        jwks={"keys": [public_ec("old")]},
    )
    jwks = {"keys": [public_ec("new"), RSAKey.generate_key(2048).as_dict(private=False)]}
    with db.transaction() as session:
        update_keys(session, VILLEBOURG_AGENT, created["client_id"], Keys(jwks=jwks))
    assert stored(db, created["client_id"]).jwks == jwks
    uri = jwks_server(jwks)
    with db.transaction() as session:
        update_keys(session, VILLEBOURG_AGENT, created["client_id"], Keys(jwks_uri=uri))
    row = stored(db, created["client_id"])
    assert (row.jwks, row.jwks_uri) == (None, uri)
    entry = trail(db)[-1]
    assert entry.action == "client.update_keys"
    assert entry.before == {JWKS: jwks, JWKS_URI: None}
    assert entry.after == {JWKS: None, JWKS_URI: uri}


@pytest.mark.parametrize(
    ("jwks", "match"),
    [
        pytest.param(
            {"keys": [ECKey.generate_key("P-256").as_dict(private=True)]},
            "private key material (d)",
            id="ec-private",
        ),
        pytest.param(
            {"keys": [RSAKey.generate_key(2048).as_dict(private=True)]},
            "private key material",
            id="rsa-private",
        ),
        pytest.param(
            {"keys": [OctKey.generate_key(256).as_dict()]}, "private key material (k)", id="oct"
        ),
        pytest.param(
            {"keys": [RSAKey.generate_key(1024).as_dict(private=False)]},
            "under 2048 bits",
            id="rsa-1024",
        ),
        pytest.param({"keys": []}, "holds no key", id="empty"),
        pytest.param(
            {"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]},
            "cannot be read",
            id="bad-point",
        ),
        pytest.param([], '"keys" array', id="not-a-set"),
        pytest.param(
            {"keys": [public_ec("same"), public_ec("same")]}, "repeats the kid", id="same-kid"
        ),
    ],
)
def test_attack_unusable_or_private_jwks_refused(db, jwks, match):
    created = make_client(
        db,
        "Cantine de Villebourg",
        VILLEBOURG,
        auth_method="private_key_jwt",
        jwks={"keys": [public_ec()]},
    )
    before = stored(db, created["client_id"]).jwks
    refused(
        db,
        lambda s: update_keys(s, VILLEBOURG_AGENT, created["client_id"], Keys(jwks=jwks)),
        field=JWKS,
        match=match,
    )
    assert stored(db, created["client_id"]).jwks == before


def test_the_cli_refuses_a_private_jwks_too(db):
    """The rule lives in ``validate``: ``broker clients add`` applies it as the portal does."""
    with pytest.raises(AdminError, match="private key material"), db.transaction() as session:
        add_client(
            session,
            ClientRegistration(
                name="Cantine",
                redirect_uris=["https://cantine.example/cb"],
                scope="openid",
                auth_method="private_key_jwt",
                jwks={"keys": [ECKey.generate_key("P-256").as_dict(private=True)]},
            ),
        )


def test_keys_inline_and_by_address_at_once_refused(db):
    created = make_client(db, "Cantine de Villebourg", VILLEBOURG)
    both = Keys(jwks={"keys": [public_ec()]}, jwks_uri="https://cantine.example/jwks")
    refused(
        db,
        lambda s: update_keys(s, VILLEBOURG_AGENT, created["client_id"], both),
        field=JWKS,
        match="not both",
    )


def test_attack_plain_http_jwks_uri_refused_in_production(db):
    created = make_client(db, "Cantine de Villebourg", VILLEBOURG)
    refused(
        db,
        lambda s: update_keys(
            s,
            VILLEBOURG_AGENT,
            created["client_id"],
            Keys(jwks_uri="http://cantine.example/jwks"),
            PRODUCTION,
        ),
        field=JWKS_URI,
        match="refused",
    )


def test_a_private_key_jwt_client_cannot_drop_its_keys(db):
    """A rule across fields, from ``validate``: the keys are what it authenticates with."""
    created = make_client(
        db, "Cantine", VILLEBOURG, auth_method="private_key_jwt", jwks={"keys": [public_ec()]}
    )
    refused(
        db,
        lambda s: update_keys(s, VILLEBOURG_AGENT, created["client_id"], Keys()),
        field=WHOLE,
        match="private_key_jwt needs",
    )


# --- Logo -----------------------------------------------------------------------------------


def test_logo_is_set_on_the_service_and_audited(db):
    created = make_client(db, "Cantine de Villebourg", VILLEBOURG)
    with db.transaction() as session:
        set_client_logo(session, VILLEBOURG_AGENT, created["client_id"], PNG)
    with db.reader() as session:
        service = session.get(Service, created["service_id"])
    assert (service.logo, service.logo_type) == (PNG, "image/png")
    entry = trail(db)[-1]
    assert (entry.action, entry.target_type, entry.target_id) == (
        "service.set_logo",
        "service",
        created["service_id"],
    )
    assert entry.after["logo_bytes"] == len(PNG)


@pytest.mark.parametrize(
    ("image", "match"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "PNG or JPEG"),
        (b"GIF89a" + b"\x00" * 10, "PNG or JPEG"),
        (PNG + b"\x00" * 100_000, "at most 100 kB"),
        (b"", "empty"),
    ],
)
def test_attack_logo_other_than_a_small_png_or_jpeg_refused(db, image, match):
    created = make_client(db, "Cantine de Villebourg", VILLEBOURG)
    refused(
        db,
        lambda s: set_client_logo(s, VILLEBOURG_AGENT, created["client_id"], image),
        field=LOGO,
        match=match,
    )


# --- Who manages what -----------------------------------------------------------------------


def test_role_requester_sees_and_changes_only_their_organisation_clients(db):
    own = make_client(db, "Cantine de Villebourg", VILLEBOURG)
    other = make_client(db, "Piscine du Val Fleuri", VAL_FLEURI)
    orphan = make_client(db, "Service sans organisation", None)
    with db.reader() as session:
        listed = {c.client_id for c in managed_clients(session, VILLEBOURG_AGENT, 0)}
        everything = {c.client_id for c in managed_clients(session, OPERATOR, 0)}
    assert own["client_id"] in listed
    assert not listed & {other["client_id"], orphan["client_id"]}
    assert {own["client_id"], other["client_id"], orphan["client_id"]} <= everything
    for foreign in (other, orphan):
        change = Addresses(redirect_uris=("https://attacker.example/cb",))
        with pytest.raises(ClientNotFound), db.transaction() as session:
            update_addresses(session, VILLEBOURG_AGENT, foreign["client_id"], change)
        with pytest.raises(ClientNotFound), db.transaction() as session:
            rotate_secret(session, VILLEBOURG_AGENT, foreign["client_id"])
        with pytest.raises(ClientNotFound), db.transaction() as session:
            set_client_logo(session, VILLEBOURG_AGENT, foreign["client_id"], PNG)
        assert stored(db, foreign["client_id"]).redirect_uris == [
            "https://cantine.example/callback"
        ]


def test_role_administrator_manages_every_client(db):
    other = make_client(db, "Piscine du Val Fleuri", VAL_FLEURI)
    admin = ClientManager.of_agent(agent(None, Role.ADMINISTRATOR))
    change = Addresses(redirect_uris=("https://piscine.example/cb",))
    with db.transaction() as session:
        update_addresses(session, admin, other["client_id"], change)
    assert stored(db, other["client_id"]).redirect_uris == ["https://piscine.example/cb"]


@pytest.mark.parametrize(
    "roles", [(Role.INSTRUCTOR,), (Role.DATA_PROVIDER,), (Role.REQUESTER,)], ids=str
)
def test_role_instructors_data_providers_and_requesters_without_siret_manage_none(roles):
    siret = None if roles == (Role.REQUESTER,) else VILLEBOURG
    assert ClientManager.of_agent(agent(siret, *roles)) is None


# --- Secret rotation ------------------------------------------------------------------------


def test_rotation_keeps_the_previous_secret_for_the_overlap_only(db):
    created = make_client(db, "Cantine de Villebourg", VILLEBOURG)
    now = int(time.time())
    with db.transaction() as session:
        rotated = rotate_secret(
            session, VILLEBOURG_AGENT, created["client_id"], overlap_hours=24, now=now
        )
    row = stored(db, created["client_id"])
    assert row.secret_digest == digest(rotated.client_secret) != digest(created["client_secret"])
    assert row.previous_secret_digest == digest(created["client_secret"])
    assert row.previous_secret_expires_at == rotated.previous_accepted_until == now + 86_400
    with db.transaction() as session:
        again = rotate_secret(
            session, VILLEBOURG_AGENT, created["client_id"], overlap_hours=0, now=now
        )
    row = stored(db, created["client_id"])
    assert row.secret_digest == digest(again.client_secret)
    assert (row.previous_secret_digest, row.previous_secret_expires_at) == (None, None)


@pytest.mark.parametrize("hours", [1, 720, -24])
def test_overlap_outside_the_offered_choices_refused(db, hours):
    created = make_client(db, "Cantine de Villebourg", VILLEBOURG)
    with pytest.raises(AdminError, match="overlap must be one of"), db.transaction() as session:
        rotate_secret(session, VILLEBOURG_AGENT, created["client_id"], overlap_hours=hours)
    assert stored(db, created["client_id"]).secret_digest == digest(created["client_secret"])


def test_a_private_key_jwt_client_has_no_secret_to_rotate(db):
    created = make_client(
        db, "Cantine", VILLEBOURG, auth_method="private_key_jwt", jwks={"keys": [public_ec()]}
    )
    with pytest.raises(AdminError, match="no secret to rotate"), db.transaction() as session:
        rotate_secret(session, VILLEBOURG_AGENT, created["client_id"])
    assert stored(db, created["client_id"]).secret_digest is None


def test_attack_secret_and_its_digest_never_in_the_audit_trail(db):
    created = make_client(db, "Cantine de Villebourg", VILLEBOURG)
    with db.transaction() as session:
        rotated = rotate_secret(session, VILLEBOURG_AGENT, created["client_id"])
    entry = trail(db)[-1]
    assert entry.action == "client.rotate_secret"
    assert entry.after["rotated"] is True and entry.after["overlap_hours"] == 24
    written = json.dumps([e.model_dump() for e in trail(db)])
    for secret in (created["client_secret"], rotated.client_secret):
        assert secret not in written
        assert digest(secret) not in written


# --- Through the broker's token endpoint, over a socket -------------------------------------


def authenticates(broker, client_id: str, secret: str) -> bool:
    """Client authentication alone: a made-up code is ``invalid_grant`` for an authenticated
    client, ``invalid_client`` otherwise (authlib authenticates before it reads the code)."""
    response = httpx.post(
        f"{broker.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": "made-up-code",
            "redirect_uri": "https://cantine.example/callback",
            "code_verifier": "v" * 43,
        },
        auth=(client_id, secret),
        timeout=10,
    )
    error = response.json().get("error")
    assert error in ("invalid_grant", "invalid_client"), response.text
    return error == "invalid_grant"


def test_old_secret_works_during_the_overlap_and_is_refused_after(broker):
    db = broker.state.db
    during = make_client(db, "Cantine de Villebourg", VILLEBOURG)
    ended = make_client(db, "Piscine de Villebourg", VILLEBOURG)
    now = int(time.time())
    with db.transaction() as session:
        fresh = rotate_secret(session, VILLEBOURG_AGENT, during["client_id"], overlap_hours=24)
        # Rotated 25 hours ago with a day's overlap: the overlap is over.
        stale = rotate_secret(
            session, VILLEBOURG_AGENT, ended["client_id"], overlap_hours=24, now=now - 90_000
        )
    assert authenticates(broker, during["client_id"], during["client_secret"])
    assert authenticates(broker, during["client_id"], fresh.client_secret)
    assert not authenticates(broker, ended["client_id"], ended["client_secret"])
    assert authenticates(broker, ended["client_id"], stale.client_secret)
    assert not authenticates(broker, during["client_id"], "not-" + fresh.client_secret)


def test_rotation_without_overlap_stops_the_old_secret_at_once(broker):
    db = broker.state.db
    created = make_client(db, "Cantine de Villebourg", VILLEBOURG)
    assert authenticates(broker, created["client_id"], created["client_secret"])
    with db.transaction() as session:
        rotated = rotate_secret(session, OPERATOR, created["client_id"], overlap_hours=0)
    # Each broker process keeps a client a few seconds (ClientCache): expire it now.
    broker.state.context.clients.invalidate()
    assert not authenticates(broker, created["client_id"], created["client_secret"])
    assert authenticates(broker, created["client_id"], rotated.client_secret)


# --- A deeply nested JWKS --------------------------------------------------------------------


@pytest.mark.parametrize("text", ["[" * 19000, '{"keys": ' + "[" * 19000, '[{"d": ' * 2000])
def test_attack_deeply_nested_jwks_refused(text):
    """Nesting deeper than the JSON parser goes (a RecursionError, not a ValueError) is
    refused like any text that is not a key set, and checked for private members without
    failing, as the command line's --jwks-file and the portal's form read it."""
    with pytest.raises(AdminError, match="nested too deeply"):
        parse_jwks(text)
    assert holds_private_material(text) is ('"d"' in text)


# --- Registering a client --------------------------------------------------------------------


def habilitation(db: Database, service_id: str, siret: str, scopes: list[str], **kwargs) -> str:
    now = int(time.time())
    row = Habilitation(
        id=f"hab_{service_id[:8]}_{len(kwargs)}_{now % 997}",
        service_id=service_id,
        scopes=scopes,
        purpose="Tarifs de la cantine",
        legal_basis="Délibération du conseil municipal",
        created_at=now,
        expires_at=kwargs.pop("expires_at", now + 86400 * 365),
        organisation_siret=siret,
        **kwargs,
    )
    with db.transaction() as session:
        session.add(row)
    return row.id


def new_client(service_id: str, **kwargs) -> NewClient:
    kwargs.setdefault("redirect_uris", ("https://cantine.example/portal-cb",))
    kwargs.setdefault("scopes", ("openid", "profile", "cnaf_quotient_familial"))
    return NewClient(service_id=service_id, name="Cantine en ligne", **kwargs)


def test_requester_registers_a_client_for_their_habilitated_service(db):
    service = make_client(db, "Cantine de Villebourg", VILLEBOURG)["service_id"]
    habilitation(db, service, VILLEBOURG, ["cnaf_quotient_familial", "cnaf_adresse"])
    with db.reader() as session:
        offered = registrable_services(session, VILLEBOURG_AGENT, int(time.time()))
    offered_scopes = {s.service_id: s.data_scopes for s in offered}
    assert offered_scopes[service] == ("cnaf_quotient_familial", "cnaf_adresse")
    assert all(s.organisation_siret == VILLEBOURG for s in offered)
    with db.transaction() as session:
        created = register_client(session, VILLEBOURG_AGENT, new_client(service))
    row = stored(db, created["client_id"])
    assert row.service_id == service and row.name == "Cantine en ligne"
    assert row.scope == "openid profile cnaf_quotient_familial"
    assert row.secret_digest == digest(created["client_secret"])
    entry = trail(db)[-1]
    assert (entry.action, entry.target_id) == ("client.create", created["client_id"])
    written = json.dumps([e.model_dump() for e in trail(db)])
    assert (
        created["client_secret"] not in written and digest(created["client_secret"]) not in written
    )


def test_attack_client_scopes_beyond_habilitation_refused(db):
    service = make_client(db, "Cantine de Villebourg", VILLEBOURG)["service_id"]
    habilitation(db, service, VILLEBOURG, ["cnaf_quotient_familial"])
    count = len(trail(db))
    with db.reader() as session:
        clients = len(session.exec(select(OAuthClient)).all())
    for scopes, match in (
        (("openid", "cnaf_enfants"), "cnaf_enfants"),
        (("openid", "not_a_scope"), "not_a_scope"),
        (("profile", "cnaf_quotient_familial"), "openid scope is required"),
    ):
        with pytest.raises(ClientChangeRefused) as caught, db.transaction() as session:
            register_client(session, VILLEBOURG_AGENT, new_client(service, scopes=scopes))
        assert match in caught.value.errors["scopes"]
    with db.reader() as session:
        assert len(session.exec(select(OAuthClient)).all()) == clients
    assert len(trail(db)) == count


@pytest.mark.parametrize("state", ["other-organisation", "revoked", "expired", "none"])
def test_role_requester_registers_only_for_own_running_habilitation(db, state):
    siret = VAL_FLEURI if state == "other-organisation" else VILLEBOURG
    service = make_client(db, "Piscine", siret)["service_id"]
    now = int(time.time())
    if state == "revoked":
        habilitation(db, service, siret, ["cnaf_quotient_familial"], revoked_at=now - 1)
    elif state == "expired":
        habilitation(db, service, siret, ["cnaf_quotient_familial"], expires_at=now - 1)
    elif state != "none":
        habilitation(db, service, siret, ["cnaf_quotient_familial"])
    with pytest.raises(ClientChangeRefused) as caught, db.transaction() as session:
        register_client(session, VILLEBOURG_AGENT, new_client(service))
    assert "service" in caught.value.errors


def test_registration_keeps_the_cli_rules(db):
    service = make_client(db, "Cantine de Villebourg", VILLEBOURG)["service_id"]
    habilitation(db, service, VILLEBOURG, ["cnaf_quotient_familial"])
    private = ECKey.generate_key("P-256", {"kid": "k"}).as_dict(private=True)
    for new, field in (
        (new_client(service, redirect_uris=("javascript:alert(1)",)), REDIRECT_URIS),
        (new_client(service, auth_method="private_key_jwt"), JWKS),
        (new_client(service, auth_method="private_key_jwt", jwks={"keys": [private]}), JWKS),
        (new_client(service, auth_method="client_secret_post"), "auth_method"),
        (new_client(service, notification_uri="http://10.0.0.1/hook"), NOTIFICATION_URI),
    ):
        with pytest.raises(ClientChangeRefused) as caught, db.transaction() as session:
            register_client(session, VILLEBOURG_AGENT, new, PRODUCTION)
        assert field in caught.value.errors, caught.value.errors
    public = {"keys": [public_ec()]}
    with db.transaction() as session:
        created = register_client(
            session,
            VILLEBOURG_AGENT,
            new_client(service, auth_method="private_key_jwt", jwks=public),
        )
    assert "client_secret" not in created and stored(db, created["client_id"]).jwks == public
