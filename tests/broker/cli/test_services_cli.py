"""How the commands find a service (id, exact name, loose name; ambiguity refused), and the
warning of ``broker clients add`` about data scopes no active habilitation covers."""

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
    joined = json.loads(add_client(cli, "--name", written, "--scope", "openid").stdout)
    assert joined["service_id"] == first["service_id"], "no near-duplicate service is created"


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
