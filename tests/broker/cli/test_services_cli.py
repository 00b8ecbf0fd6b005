"""How the commands find a service (id, exact name, loose name; ambiguity refused), that the
commands which create a service join one only by its exact name or id, and the warning of
``broker clients add`` about data scopes no active habilitation covers."""

from __future__ import annotations

import json

import pytest
from sqlmodel import col, select

from broker.core.db import Database
from broker.store.data_access_models import Habilitation
from broker.store.models import OAuthClient, Service

REDIRECT = "https://mairie.example/cb"


def add_client(cli, *args: str, ok: bool = True):
    return cli("clients", "add", "--redirect-uri", REDIRECT, *args, ok=ok)


def add_habilitation(cli, service: str, scopes: str, *extra: str, ok: bool = True):
    return cli(
        "habilitations",
        "add",
        "--service",
        service,
        "--scopes",
        scopes,
        "--purpose",
        "Tarifs sociaux",
        "--legal-basis",
        "Code de l'action sociale",
        *extra,
        ok=ok,
    )


def warned(result) -> list[str]:
    """The scopes the warning names."""
    return result.stderr.split("these data scopes:")[1].split(".")[0].split()


def add_service(database_url: str, service_id: str, name: str) -> None:
    """A service as the portal's approvals or an earlier version may have left it."""
    db = Database(database_url)
    with db.transaction() as session:
        session.add(Service(id=service_id, name=name, sector_identifier=service_id, created_at=1))
    db.dispose()


def services_named(database_url: str, *names: str) -> list[Service]:
    db = Database(database_url)
    with db.reader() as session:
        found = list(session.exec(select(Service).where(col(Service.name).in_(names))).all())
    db.dispose()
    return found


def test_clients_add_warns_about_data_scopes_no_active_habilitation_covers(cli):
    created = add_client(
        cli, "--name", "Mairie de Brest", "--scope", "openid cnaf_quotient_familial cnaf_enfants"
    )
    described = json.loads(created.stdout)  # the JSON on stdout stays clean
    assert "warning: no active habilitation" in created.stderr
    assert warned(created) == ["cnaf_quotient_familial", "cnaf_enfants"]
    assert "invalid_scope" in created.stderr
    assert f"--service {described['service_id']}" in created.stderr

    add_habilitation(cli, described["service_id"], "cnaf_quotient_familial")
    partly = add_client(
        cli, "--name", "Mairie de Brest", "--scope", "openid cnaf_quotient_familial cnaf_enfants"
    )
    assert warned(partly) == ["cnaf_enfants"]

    add_habilitation(cli, described["service_id"], "cnaf_enfants")
    covered = add_client(
        cli, "--name", "Mairie de Brest", "--scope", "openid cnaf_quotient_familial cnaf_enfants"
    )
    assert "warning" not in covered.stderr


def test_clients_add_identity_scopes_alone_give_no_warning(cli):
    assert "warning" not in add_client(cli, "--name", "Mairie", "--scope", "openid profile").stderr


def test_a_revoked_or_expired_habilitation_covers_nothing(cli, database_url):
    first = json.loads(add_client(cli, "--name", "CCAS de Lorient", "--scope", "openid").stdout)
    hab = json.loads(add_habilitation(cli, first["service_id"], "cnaf_quotient_familial").stdout)
    cli("habilitations", "revoke", hab["id"], "--reason", "fin de la convention")
    again = add_client(cli, "--name", "CCAS de Lorient", "--scope", "openid cnaf_quotient_familial")
    assert "warning: no active habilitation" in again.stderr

    other = json.loads(add_habilitation(cli, first["service_id"], "cnaf_quotient_familial").stdout)
    db = Database(database_url)
    with db.transaction() as session:
        row = session.get(Habilitation, other["id"])
        row.expires_at = 1  # long past
        session.add(row)
    db.dispose()
    expired = add_client(
        cli, "--name", "CCAS de Lorient", "--scope", "openid cnaf_quotient_familial"
    )
    assert "warning: no active habilitation" in expired.stderr


@pytest.mark.parametrize(
    "written",
    [
        "Mairie de Saint-Étienne",
        "mairie de saint-étienne",
        "MAIRIE-DE-SAINT-ETIENNE",
        "mairie de saint etienne",
    ],
)
def test_service_is_found_by_a_loosely_written_name(cli, written):
    first = json.loads(
        add_client(cli, "--name", "Mairie de Saint-Étienne", "--scope", "openid").stdout
    )
    hab = json.loads(add_habilitation(cli, written, "cnaf_quotient_familial").stdout)
    assert hab["service"] == "Mairie de Saint-Étienne"
    joined = json.loads(
        add_client(cli, "--name", "Portail", "--service", written, "--scope", "openid").stdout
    )
    assert joined["service_id"] == first["service_id"]


def test_service_is_found_by_its_id(cli, database_url):
    first = json.loads(add_client(cli, "--name", "Mairie de Quimper", "--scope", "openid").stdout)
    hab = json.loads(add_habilitation(cli, first["service_id"], "cnaf_quotient_familial").stdout)
    assert hab["service"] == "Mairie de Quimper"
    joined = json.loads(
        add_client(
            cli, "--name", "Portail familles", "--service", first["service_id"], "--scope", "openid"
        ).stdout
    )
    assert joined["service_id"] == first["service_id"] and joined["name"] == "Portail familles"
    rules = json.loads(cli("clients", "idps", "--service", first["service_id"]).stdout)
    assert rules["service"] == "Mairie de Quimper"
    assert set(rules["clients"]) == {first["client_id"], joined["client_id"]}


def test_ambiguous_loose_name_is_refused_with_the_candidates(cli, database_url):
    one = {"service_id": "svc-vannes-1"}
    two = {"service_id": "svc-vannes-2"}
    add_service(database_url, one["service_id"], "Mairie de Vannes")
    add_service(database_url, two["service_id"], "Mairie-de-Vannes")

    for args in (
        (
            "habilitations",
            "add",
            "--service",
            "mairie de vannes",
            "--scopes",
            "cnaf_enfants",
            "--purpose",
            "p",
            "--legal-basis",
            "l",
        ),
        ("clients", "idps", "--service", "MAIRIE DE VANNES"),
        (
            "clients",
            "add",
            "--name",
            "mairie de vannes",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "openid",
        ),
    ):
        refused = cli(*args, ok=False)
        assert refused.exit_code == 1 and "Traceback" not in refused.stderr
        if args[:2] == ("clients", "add"):  # would create a service: exact names only
            assert "is not the exact name of a service, but close to" in refused.stderr
            assert "pass --service <id>" in refused.stderr
        else:
            assert "could be several services" in refused.stderr
        assert one["service_id"] in refused.stderr and two["service_id"] in refused.stderr
        assert "'Mairie de Vannes'" in refused.stderr and "'Mairie-de-Vannes'" in refused.stderr
    # An exact name is never ambiguous.
    exact = json.loads(add_habilitation(cli, "Mairie-de-Vannes", "cnaf_enfants").stdout)
    assert exact["service"] == "Mairie-de-Vannes"
    db = Database(database_url)
    with db.reader() as session:
        clients = session.exec(
            select(OAuthClient).where(OAuthClient.name == "mairie de vannes")
        ).all()
    db.dispose()
    assert clients == []


def test_unknown_service_is_refused_and_nothing_is_created(cli, database_url):
    for args in (
        ("clients", "idps", "--service", "Mairie inconnue"),
        (
            "clients",
            "add",
            "--name",
            "x",
            "--service",
            "Mairie inconnue",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "openid",
        ),
    ):
        refused = cli(*args, ok=False)
        assert refused.exit_code == 1 and "no service 'Mairie inconnue'" in refused.stderr
    assert services_named(database_url, "Mairie inconnue", "x") == []


def test_logo_takes_the_service_by_id_and_the_former_name_option(cli, tmp_path):
    first = json.loads(add_client(cli, "--name", "Mairie de Rennes", "--scope", "openid").stdout)
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    by_id = json.loads(cli("clients", "logo", "--service", first["service_id"], str(logo)).stdout)
    assert by_id["service"] == "Mairie de Rennes"
    by_name = json.loads(cli("clients", "logo", "--name", "mairie de rennes", str(logo)).stdout)
    assert by_name["service_id"] == first["service_id"]


# -- commands that create a service join one only by its exact name or id ----------------------


def clients_of(database_url: str, name: str) -> list[OAuthClient]:
    db = Database(database_url)
    with db.reader() as session:
        found = list(session.exec(select(OAuthClient).where(OAuthClient.name == name)).all())
    db.dispose()
    return found


def habilitations_of(database_url: str, service_id: str) -> list[Habilitation]:
    db = Database(database_url)
    with db.reader() as session:
        found = list(
            session.exec(
                select(Habilitation).where(col(Habilitation.service_id) == service_id)
            ).all()
        )
    db.dispose()
    return found


def assert_refused_naming(result, service_id: str, name: str) -> None:
    assert result.exit_code == 1 and "Traceback" not in result.stderr, result.stderr
    assert "is not the exact name of a service, but close to" in result.stderr
    assert f"{name!r} (id {service_id})" in result.stderr
    assert f"pass --service {service_id}" in result.stderr


def test_attack_clients_add_does_not_join_a_service_whose_name_is_only_close(cli, database_url):
    """``clients add --name`` without --service: a client named like another administration's
    service (a dash, an accent apart) would have joined it, and with it its habilitations."""
    add_service(database_url, "svc-ccas-brest", "CCAS de Brest")
    add_habilitation(cli, "svc-ccas-brest", "cnaf_quotient_familial")
    for near in ("ccas de brest", "CCAS-de-Brest", "Ccas de Brést"):
        refused = add_client(cli, "--name", near, "--scope", "openid", ok=False)
        assert_refused_naming(refused, "svc-ccas-brest", "CCAS de Brest")
        assert clients_of(database_url, near) == [] and services_named(database_url, near) == []
    # The operator says which service: by id, or by its exact name.
    joined = json.loads(
        add_client(
            cli, "--name", "ccas de brest", "--service", "svc-ccas-brest", "--scope", "openid"
        ).stdout
    )
    assert joined["service_id"] == "svc-ccas-brest"
    exact = json.loads(add_client(cli, "--name", "CCAS de Brest", "--scope", "openid").stdout)
    assert exact["service_id"] == "svc-ccas-brest"
    other = json.loads(add_client(cli, "--name", "CCAS de Brest-Ouest", "--scope", "openid").stdout)
    assert other["service_id"] != "svc-ccas-brest"  # not close: a service of its own


def test_attack_create_service_does_not_attach_rights_to_a_close_name(cli, database_url):
    """``habilitations add --create-service``: a service name only close to an existing one
    must neither give that service new rights nor create a near-duplicate."""
    add_service(database_url, "svc-mairie-lorient", "Mairie de Lorient")
    for near in ("mairie de lorient", "Mairie-de-Lorient"):
        refused = add_habilitation(
            cli, near, "cnaf_quotient_familial", "--create-service", ok=False
        )
        assert_refused_naming(refused, "svc-mairie-lorient", "Mairie de Lorient")
        assert services_named(database_url, near) == []
    assert habilitations_of(database_url, "svc-mairie-lorient") == []
    by_id = json.loads(
        add_habilitation(
            cli, "svc-mairie-lorient", "cnaf_quotient_familial", "--create-service"
        ).stdout
    )
    exact = json.loads(
        add_habilitation(cli, "Mairie de Lorient", "cnaf_enfants", "--create-service").stdout
    )
    assert by_id["service"] == exact["service"] == "Mairie de Lorient"
    assert len(habilitations_of(database_url, "svc-mairie-lorient")) == 2
    # Without --create-service, naming an existing service loosely stays a lookup.
    looked_up = json.loads(add_habilitation(cli, "mairie de lorient", "cnaf_enfants").stdout)
    assert looked_up["service"] == "Mairie de Lorient"
