"""``broker habilitations`` and ``broker apikeys``: JSON out, keys shown once, stored as digests."""

from __future__ import annotations

import json
from datetime import date, timedelta

from broker.admin import audit
from broker.core.db import Database
from broker.core.security import digest
from broker.store.clients import load_client
from broker.store.data_access_models import ApiKey, Habilitation
from consent.screen.information import information

QF = "cnaf_quotient_familial cnaf_enfants"


def add(cli, *extra: str, ok: bool = True):
    return cli(
        "habilitations",
        "add",
        "--service",
        "CCAS de Villebourg",
        "--create-service",
        "--scopes",
        QF,
        "--purpose",
        "Tarifs sociaux",
        "--legal-basis",
        "Code de l'action sociale",
        *extra,
        ok=ok,
    )


def test_habilitation_add_prints_json(cli, database_url):
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    created = json.loads(add(cli, "--expires", tomorrow, "--rate-limit", "5").stdout)
    assert created["id"].startswith("hab_") and created["service"] == "CCAS de Villebourg"
    assert created["scopes"] == ["cnaf_quotient_familial", "cnaf_enfants"]
    assert created["rate_limit"] == 5 and created["active"] is True
    assert created["expires_at"] > created["created_at"]
    listed = json.loads(cli("habilitations", "list").stdout)
    assert [h["id"] for h in listed if h["service"] == "CCAS de Villebourg"] == [created["id"]]


def test_habilitation_refuses_bad_input_in_one_line(cli):
    cases = [
        (["--scopes", "openid profile"], "identity scopes need no habilitation"),
        (["--scopes", "cnaf_quotient_familial nope"], "unknown scopes: nope"),
        (["--expires", "2001-01-01"], "in the past"),
        (["--rate-limit", "0"], "--rate-limit"),
    ]
    for extra, message in cases:
        args = [
            "habilitations",
            "add",
            "--service",
            "S",
            "--scopes",
            QF,
            "--purpose",
            "p",
            "--legal-basis",
            "l",
            *extra,
        ]
        result = cli(*args, ok=False)
        assert result.exit_code == 1 and message in result.stderr, (extra, result.stderr)
        assert "Traceback" not in result.stderr
    blank = cli(
        "habilitations",
        "add",
        "--service",
        "S",
        "--scopes",
        QF,
        "--purpose",
        " ",
        "--legal-basis",
        "l",
        "--create-service",
        ok=False,
    )
    assert blank.exit_code == 1 and "must not be blank" in blank.stderr
    assert [h for h in json.loads(cli("habilitations", "list").stdout) if h["service"] == "S"] == []
    typo = cli(
        "habilitations",
        "add",
        "--service",
        "CCAS de Vilebourg",
        "--scopes",
        QF,
        "--purpose",
        "p",
        "--legal-basis",
        "l",
        ok=False,
    )
    assert typo.exit_code == 1 and "no service named 'CCAS de Vilebourg'" in typo.stderr


def test_habilitation_consent_terms(cli, tmp_path):
    created = json.loads(
        add(
            cli,
            "--optional-scopes",
            "cnaf_enfants",
            "--consent-days",
            "90",
            "--legal-basis-url",
            "https://www.legifrance.gouv.fr/x",
        ).stdout
    )
    assert created["optional_scopes"] == ["cnaf_enfants"]
    assert (created["consent_mode"], created["consent_days"]) == ("recurring", 90)
    one_time = json.loads(add(cli, "--consent", "one_time").stdout)
    assert (one_time["consent_mode"], one_time["consent_days"]) == ("one_time", None)
    default = json.loads(add(cli).stdout)
    assert default["consent_days"] == 365 and default["optional_scopes"] == []
    cases = [
        (["--consent-days", "400"], "between 1 and 365"),
        (["--consent-days", "0"], "between 1 and 365"),
        (["--consent", "one_time", "--consent-days", "30"], "recurring consents only"),
        (["--optional-scopes", "cnaf_adresse"], "must be among --scopes"),
        (["--optional-scopes", QF], "at least one scope must be required"),
        (["--legal-basis-url", "javascript:alert(1)"], "--legal-basis-url"),
    ]
    for extra, message in cases:
        result = add(cli, *extra, ok=False)
        assert result.exit_code == 1 and message in result.stderr, (extra, result.stderr)
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    set_logo = json.loads(cli("clients", "logo", "--name", "CCAS de Villebourg", str(logo)).stdout)
    assert set_logo["logo_type"] == "image/png"
    svg = tmp_path / "logo.svg"
    svg.write_text("<svg onload='alert(1)'/>")
    refused = cli("clients", "logo", "--name", "CCAS de Villebourg", str(svg), ok=False)
    assert refused.exit_code == 1 and "PNG or JPEG" in refused.stderr


def test_api_key_is_shown_once_and_stored_as_a_digest(cli, database_url):
    habilitation = json.loads(add(cli).stdout)
    no_name = cli("apikeys", "issue", habilitation["id"], ok=False)
    assert no_name.exit_code == 2 and "--name" in no_name.stderr
    bad_name = cli("apikeys", "issue", habilitation["id"], "--name", "a\x1bb", ok=False)
    assert bad_name.exit_code == 1 and "caractères de contrôle" in bad_name.stderr
    issued = json.loads(
        cli("apikeys", "issue", habilitation["id"], "--name", "Logiciel cantine").stdout
    )
    assert issued["api_key"].startswith("bpk_") and len(issued["api_key"]) >= 40
    assert (issued["name"], issued["created_by"]) == ("Logiciel cantine", audit.cli_actor())
    db = Database(database_url)
    with db.reader() as s:
        row = s.get(ApiKey, issued["id"])
    assert row.digest == digest(issued["api_key"])
    assert issued["api_key"] not in json.dumps(row.model_dump())
    listed = cli("apikeys", "list").stdout
    assert issued["api_key"] not in listed
    assert [k["name"] for k in json.loads(listed) if k["id"] == issued["id"]] == [
        "Logiciel cantine"
    ]

    revoked = json.loads(cli("apikeys", "revoke", issued["id"]).stdout)
    assert revoked["revoked_at"] and revoked["already_revoked"] is False
    assert json.loads(cli("apikeys", "revoke", issued["id"]).stdout)["already_revoked"] is True
    unknown = cli("apikeys", "revoke", "key_nope", ok=False)
    assert unknown.exit_code == 1 and "no API key" in unknown.stderr

    cli("habilitations", "revoke", habilitation["id"], "--reason", "Fin du marché")
    with db.reader() as s:
        assert s.get(Habilitation, habilitation["id"]).revoked_at is not None
    db.dispose()
    refused = cli("apikeys", "issue", habilitation["id"], "--name", "Trop tard", ok=False)
    assert refused.exit_code == 1 and "a pris fin" in refused.stderr


def test_introspection_clients(cli, database_url):
    created = json.loads(cli("introspection", "add", "--provider", "dgfip").stdout)
    assert created["client_id"].startswith("rs_") and len(created["client_secret"]) >= 43
    assert created["client_secret"] not in cli("introspection", "list").stdout
    bad = cli("introspection", "add", "--provider", "nope", ok=False)
    assert bad.exit_code == 1 and "--provider must be one of" in bad.stderr
    revoked = json.loads(cli("introspection", "revoke", created["client_id"]).stdout)
    assert revoked["revoked_at"]


INFORMATION = (
    "--controller",
    "CCAS de Villebourg",
    "--contact",
    "mailto:ccas@villebourg.example",
    "--dpo",
    "https://www.villebourg.example/donnees-personnelles",
    "--retention",
    "Deux ans après la fin de l'aide.",
    "--reason",
    "cnaf_quotient_familial=Il fixe le montant de l'aide.",
    "--reason",
    "cnaf_enfants=Pour compter les enfants du foyer.",
    "--reason",
    "email=Pour vous écrire.",
    "--if-refused",
    "Apportez votre attestation CAF au CCAS.",
)


def test_habilitation_consent_information_on_the_command_line(cli):
    """The command-line contract: every option stored, normalised, printed and listed."""
    result = add(cli, *INFORMATION)
    assert "consent screen" not in result.stderr  # everything stated: no warning
    created = json.loads(result.stdout)
    assert created["controller"] == "CCAS de Villebourg"
    assert created["contact"] == "ccas@villebourg.example"  # mailto: dropped
    assert created["dpo"] == "https://www.villebourg.example/donnees-personnelles"
    assert created["retention"] == "Deux ans après la fin de l'aide."
    assert created["reasons"] == {
        "cnaf_quotient_familial": "Il fixe le montant de l'aide.",
        "cnaf_enfants": "Pour compter les enfants du foyer.",
        "email": "Pour vous écrire.",
    }
    assert created["if_refused"] == "Apportez votre attestation CAF au CCAS."
    listed = json.loads(cli("habilitations", "list").stdout)
    assert [h for h in listed if h["id"] == created["id"]] == [created]


def test_habilitation_without_consent_information_warns_and_is_added(cli):
    result = add(cli, "--controller", "CCAS", "--reason", "cnaf_enfants=Pour compter.")
    created = json.loads(result.stdout)
    assert created["controller"] == "CCAS" and created["contact"] is None
    assert created["reasons"] == {"cnaf_enfants": "Pour compter."}
    assert (
        "warning: the consent screen cannot tell citizens what these would say: --contact, "
        "--dpo, --retention, --if-refused, --reason cnaf_quotient_familial"
    ) in result.stderr.splitlines()


def test_habilitation_consent_information_refused_in_one_line(cli):
    cases = [
        (["--contact", "javascript:alert(1)"], "--contact must be an email address or an https"),
        (["--dpo", "dpo@"], "--dpo must be an email address"),
        (["--controller", " "], "--controller must not be blank"),
        (["--retention", "x" * 1001], "--retention must be at most 1000 characters"),
        (["--if-refused", "Un\ndeux"], "--if-refused must not contain control"),
        (["--reason", "cnaf_enfants"], "--reason must be SCOPE=TEXT"),
        (["--reason", "cnaf_adresse=Pour écrire."], "cnaf_adresse, which is not among --scopes"),
        (["--reason", "email=a", "--reason", "email=b"], "--reason given twice for email"),
        (["--reason", "nope=a"], "--reason names an unknown scope: nope"),
        (["--reason", "openid=Pour vous reconnaître."], "--reason openid: the consent screen"),
    ]
    for extra, message in cases:
        result = add(cli, *extra, ok=False)
        assert result.exit_code == 1 and message in result.stderr, (extra, result.stderr)
        assert "Traceback" not in result.stderr and result.stdout == ""
    listed = json.loads(cli("habilitations", "list").stdout)
    assert [h for h in listed if h["service"] == "CCAS de Villebourg"] == []  # nothing written


def test_attack_javascript_contact_url_is_not_stored(cli):
    for option in ("--contact", "--dpo"):
        result = add(cli, option, "javascript:alert(document.cookie)//@x.example", ok=False)
        assert result.exit_code == 1 and f"{option} must be" in result.stderr
    assert "javascript" not in cli("habilitations", "list").stdout


def test_optional_scopes_help_says_they_are_opt_in(cli):
    text = " ".join(cli("habilitations", "add", "--help").stdout.split())
    assert "offers unticked: shared only when the citizen ticks them (opt-in)" in text
    assert "untick." not in text
    for option in ("--controller", "--contact", "--dpo", "--retention", "--reason", "--if-refused"):
        assert option in text
    changing = " ".join(cli("habilitations", "set-information", "--help").stdout.split())
    for option in ("--controller", "--contact", "--dpo", "--retention", "--reason", "--if-refused"):
        assert option in changing
    assert "Options left out keep their text" in changing and "--clear-reasons" not in changing
    assert "--clear [controller|contact|dpo|retention|if-refused|reasons]" in changing


def set_information(cli, habilitation_id: str, *extra: str, ok: bool = True):
    return cli("habilitations", "set-information", habilitation_id, *extra, ok=ok)


def listed(cli, habilitation_id: str) -> dict:
    [found] = [
        h for h in json.loads(cli("habilitations", "list").stdout) if h["id"] == habilitation_id
    ]
    return found


def test_set_information_changes_only_the_options_given(cli):
    created = json.loads(add(cli, *INFORMATION, "--optional-scopes", "cnaf_enfants").stdout)
    result = set_information(
        cli,
        created["id"],
        "--dpo",
        "mailto:DPO@Villebourg.example",
        "--reason",
        "email=Pour vous envoyer la décision.",
        "--reason",
        "profile=Pour ouvrir votre dossier.",
    )
    assert "consent screen" not in result.stderr  # everything still stated: no warning
    changed = json.loads(result.stdout)
    assert changed == {
        **created,
        "dpo": "DPO@villebourg.example",
        "reasons": {
            "cnaf_quotient_familial": "Il fixe le montant de l'aide.",
            "cnaf_enfants": "Pour compter les enfants du foyer.",
            "email": "Pour vous envoyer la décision.",
            "profile": "Pour ouvrir votre dossier.",
        },
    }
    assert listed(cli, created["id"]) == changed  # stored, the rights and terms untouched


def test_set_information_may_clear_the_reasons(cli):
    created = json.loads(add(cli, *INFORMATION).stdout)
    result = set_information(
        cli, created["id"], "--clear", "reasons", "--reason", "cnaf_enfants=Pour compter."
    )
    changed = json.loads(result.stdout)
    assert changed == {**created, "reasons": {"cnaf_enfants": "Pour compter."}}
    assert (
        "warning: the consent screen cannot tell citizens what these would say: "
        "--reason cnaf_quotient_familial"
    ) in result.stderr.splitlines()


def register_client(cli) -> None:
    cli(
        "clients",
        "add",
        "--name",
        "CCAS de Villebourg",
        "--redirect-uri",
        "https://ccas.villebourg.example/cb",
        "--scope",
        "openid email " + QF,
    )


def consent_screen(cli, database_url: str, habilitation_id: str):
    """What the consent screen reads: the client loaded as the protocol loads it, with its
    service's active habilitations, and the screen's information drawn from them."""
    clients = json.loads(cli("clients", "list").stdout)
    [client_id] = [c["client_id"] for c in clients if c["name"] == "CCAS de Villebourg"]
    db = Database(database_url)
    with db.connect() as conn:
        client = load_client(conn, client_id)
    db.dispose()
    assert client is not None
    [grant] = [h for h in client.habilitations if h.id == habilitation_id]
    return information(grant, ["openid", "email", *QF.split()])


def test_set_information_reaches_the_consent_screen(cli, database_url):
    register_client(cli)
    created = json.loads(add(cli, *INFORMATION).stdout)
    set_information(
        cli,
        created["id"],
        "--controller",
        "Ville de Villebourg",
        "--retention",
        "Trois ans.",
        "--reason",
        "cnaf_enfants=Pour connaître la taille du foyer.",
        "--if-refused",
        "Venez au CCAS avec votre attestation.",
    )
    shown = consent_screen(cli, database_url, created["id"])
    assert shown.controller == "Ville de Villebourg" and shown.retention == "Trois ans."
    assert shown.contact and shown.contact.href == "mailto:ccas@villebourg.example"
    assert shown.if_refused == "Venez au CCAS avec votre attestation."
    assert dict(shown.reasons) == {
        "cnaf_quotient_familial": "Il fixe le montant de l'aide.",
        "cnaf_enfants": "Pour connaître la taille du foyer.",
        "email": "Pour vous écrire.",
    }


def test_set_information_may_clear_texts(cli, database_url):
    """A text once stated can be removed (blank is refused): the habilitation then has none,
    the command warns as for one never stated, and the consent screen no longer shows it."""
    register_client(cli)
    created = json.loads(add(cli, *INFORMATION).stdout)
    result = set_information(
        cli,
        created["id"],
        *("--clear", "dpo", "--clear", "retention", "--clear", "if-refused"),
        *("--clear", "reasons", "--contact", "https://www.villebourg.example/ccas"),
    )
    changed = json.loads(result.stdout)
    assert changed == {
        **created,
        "contact": "https://www.villebourg.example/ccas",
        "dpo": None,
        "retention": None,
        "reasons": {},
        "if_refused": None,
    }
    assert listed(cli, created["id"]) == changed
    assert (
        "warning: the consent screen cannot tell citizens what these would say: --dpo, "
        "--retention, --if-refused, --reason cnaf_quotient_familial, --reason cnaf_enfants"
    ) in result.stderr.splitlines()
    shown = consent_screen(cli, database_url, created["id"])
    assert shown.dpo is None and shown.retention is None and shown.if_refused is None
    assert dict(shown.reasons) == {}
    assert shown.controller == "CCAS de Villebourg"  # not cleared: still shown
    assert shown.contact and shown.contact.href == "https://www.villebourg.example/ccas"

    cleared = json.loads(
        set_information(cli, created["id"], "--clear", "controller", "--clear", "contact").stdout
    )
    assert (cleared["controller"], cleared["contact"]) == (None, None)
    shown = consent_screen(cli, database_url, created["id"])
    assert shown.controller is None and shown.contact is None and not shown.has_controller


def test_set_information_refuses_clearing_and_giving_a_text_at_once(cli):
    created = json.loads(add(cli, *INFORMATION).stdout)
    cases = [
        (
            ["--clear", "contact", "--contact", "ccas@villebourg.example"],
            "--clear contact and --contact together: give one or the other",
        ),
        (
            ["--if-refused", "Au guichet.", "--clear", "if-refused", "--clear", "dpo"],
            "--clear if-refused and --if-refused together: give one or the other",
        ),
    ]
    for extra, message in cases:
        result = set_information(cli, created["id"], *extra, ok=False)
        assert result.exit_code == 1 and message in result.stderr, (extra, result.stderr)
        assert "Traceback" not in result.stderr and result.stdout == ""
    for field in ("purpose", "scopes", "if_refused", "--reason"):
        unknown = set_information(cli, created["id"], "--clear", field, ok=False)
        assert unknown.exit_code == 2 and "Invalid value for '--clear'" in unknown.stderr
        assert "Traceback" not in unknown.stderr and unknown.stdout == ""
    assert listed(cli, created["id"]) == created  # nothing written


def test_set_information_refused_in_one_line(cli):
    created = json.loads(add(cli, *INFORMATION).stdout)
    cases = [
        (["--contact", "javascript:alert(1)"], "--contact must be an email address or an https"),
        (["--dpo", "dpo@"], "--dpo must be an email address"),
        (["--controller", " "], "--controller must not be blank"),
        (["--retention", "x" * 1001], "--retention must be at most 1000 characters"),
        (["--if-refused", "Un\ndeux"], "--if-refused must not contain control"),
        (["--reason", "cnaf_enfants"], "--reason must be SCOPE=TEXT"),
        (["--reason", "cnaf_adresse=Pour écrire."], "cnaf_adresse, which is not among --scopes"),
        (["--reason", "email=a", "--reason", "email=b"], "--reason given twice for email"),
        (["--reason", "openid=Pour vous reconnaître."], "--reason openid: the consent screen"),
    ]
    nothing = set_information(cli, created["id"], ok=False)
    assert nothing.exit_code == 1 and "nothing to change: give --controller" in nothing.stderr
    for extra, message in cases:
        result = set_information(cli, created["id"], "--retention", "Un an.", *extra, ok=False)
        assert result.exit_code == 1 and message in result.stderr, (extra, result.stderr)
        assert "Traceback" not in result.stderr and result.stdout == ""
    assert listed(cli, created["id"]) == created  # nothing written, not even --retention


def test_attack_set_information_on_a_revoked_habilitation(cli):
    """A revoked habilitation stays as it was when it ended (its consents' history refers to
    it); changing its texts would rewrite what citizens were told."""
    created = json.loads(add(cli, *INFORMATION).stdout)
    revoked = json.loads(
        cli("habilitations", "revoke", created["id"], "--reason", "Fin du marché").stdout
    )
    for extra in (["--controller", "Autre"], ["--clear", "reasons"], ["--clear", "dpo"]):
        result = set_information(cli, created["id"], *extra, ok=False)
        assert result.exit_code == 1 and "no longer active" in result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
    assert listed(cli, created["id"]) == revoked
    unknown = set_information(cli, "hab_nope", "--controller", "Autre", ok=False)
    assert unknown.exit_code == 1 and "no habilitation 'hab_nope'" in unknown.stderr
