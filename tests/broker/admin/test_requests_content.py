"""A request's content: every field checked, one readable French problem per form field; the
form's fields make the content and the diff tells instructors what changed."""

from __future__ import annotations

import pytest

from broker.admin.requests.content import checked_content, data_catalogue
from broker.admin.requests.diff import compare
from broker.admin.requests.errors import Refusal, RequestError
from broker.admin.requests.form import content_from_form
from broker.catalogue.scopes import REGISTRY
from tests.broker.admin.requests_support import CONTENT, VILLEBOURG, content


def problems(raw) -> dict[str, str]:
    with pytest.raises(RequestError) as caught:
        checked_content(raw, VILLEBOURG)
    assert caught.value.refusal == Refusal.INVALID
    return {f: p.message % dict(p.params) for f, p in caught.value.errors.items()}


def test_a_complete_request_passes_as_it_is():
    assert checked_content(content(), VILLEBOURG) == CONTENT


def contacts(role: str, **given) -> dict:
    made = content()["contacts"]
    made[role] = {**made[role], **given}
    return made


CASES = [
    ({"organisation": {"siret": "21730001500014", "name": "M"}}, "organisation_siret", "clé"),
    (
        {"organisation": {"siret": "2173000150001", "name": "M"}},
        "organisation_siret",
        "14 chiffres",
    ),
    (
        {"organisation": {"siret": VILLEBOURG, "name": " "}},
        "organisation_name",
        "nom de l'organisation",
    ),
    ({"service": ""}, "service", "nom du service"),
    ({"service": "x" * 201}, "service", "au plus 200 caractères (il en a 201)"),
    ({"purpose": "  \n "}, "purpose", "finalité"),
    ({"legal_basis": ""}, "legal_basis", "cadre juridique"),
    ({"legal_basis_url": "javascript:alert(1)"}, "legal_basis_url", "https"),
    ({"legal_basis_url": "http://www.legifrance.gouv.fr/x"}, "legal_basis_url", "https"),
    ({"legal_basis_url": "https://a b.example/"}, "legal_basis_url", "https"),
    ({"scopes": []}, "scopes", "au moins une donnée"),
    ({"scopes": ["openid", "cnaf_quotient_familial"]}, "scopes", "openid"),
    ({"scopes": ["nope"], "optional_scopes": []}, "scopes", "nope"),
    ({"optional_scopes": ["cnaf_adresse"]}, "optional_scopes", "aussi être cochée"),
    (
        {"optional_scopes": ["cnaf_quotient_familial", "cnaf_enfants"]},
        "optional_scopes",
        "obligatoire",
    ),
    ({"consent_mode": "forever"}, "consent_mode", "mode de consentement"),
    ({"consent_mode": "one_time", "consent_days": 30}, "consent_days", "renouvelable"),
    ({"consent_days": 366}, "consent_days", "entre 1 et 365"),
    ({"consent_days": "0"}, "consent_days", "entre 1 et 365"),
    ({"consent_days": "douze"}, "consent_days", "en chiffres"),
    ({"recipients": []}, "recipients", "au moins un organisme"),
    ({"recipients": [VILLEBOURG, "12345678901234"]}, "recipients", "12345678901234"),
    ({"expected_volume": ""}, "expected_volume", "volume"),
    ({"contacts": contacts("dpo", name="")}, "dpo_name", "nom du contact"),
    ({"contacts": contacts("technical", email="")}, "technical_email", "adresse électronique"),
    ({"contacts": contacts("responsible", email="a@b")}, "responsible_email", "invalide"),
    ({"contacts": contacts("dpo", email="x@y.example?cc=z")}, "dpo_email", "invalide"),
    ({"contacts": contacts("dpo", phone="appelez-moi")}, "dpo_phone", "téléphone"),
    ({"controller": ""}, "controller", "responsable"),
    ({"retention": "x" * 1001}, "retention", "au plus 1000"),
    ({"if_refused": "Un\u202edeux"}, "if_refused", "invisible"),
    ({"reasons": {"cnaf_enfants": "x" * 301}}, "reason_cnaf_enfants", "au plus 300"),
]


@pytest.mark.parametrize(("changes", "field", "words"), CASES)
def test_each_field_gets_its_problem(changes, field, words):
    found = problems(content(**changes))
    assert field in found, found
    assert words in found[field], found[field]


def test_every_problem_is_reported_at_once():
    found = problems(content(service="", purpose="", recipients=["1"], consent_days=0))
    assert {"service", "purpose", "recipients", "consent_days"} <= set(found)


def test_values_are_normalised():
    checked = checked_content(
        content(
            service="  Cantine\nde   Villebourg ",
            recipients=["217 300 015 00013", VILLEBOURG],
            scopes=["cnaf_enfants", "cnaf_quotient_familial"],
            consent_mode="one_time",
            consent_days="",
            reasons={"cnaf_enfants": "Pour compter.", "cnaf_adresse": "Pas demandée."},
        ),
        VILLEBOURG,
    )
    assert checked["service"] == "Cantine de Villebourg"
    assert checked["recipients"] == [VILLEBOURG]
    assert checked["scopes"] == ["cnaf_quotient_familial", "cnaf_enfants"]  # registry order
    assert checked["consent_days"] is None
    assert checked["reasons"] == {"cnaf_enfants": "Pour compter."}  # only items asked for


def test_the_form_makes_the_content():
    form = {
        "organisation_siret": [VILLEBOURG],
        "organisation_name": ["Mairie de Villebourg"],
        "service": ["Cantine de Villebourg"],
        "purpose": [CONTENT["purpose"]],
        "legal_basis": [CONTENT["legal_basis"]],
        "legal_basis_url": [CONTENT["legal_basis_url"]],
        "scopes": ["cnaf_quotient_familial", "cnaf_enfants"],
        "optional_scopes": ["cnaf_enfants"],
        "consent_mode": ["recurring"],
        "consent_days": ["365"],
        "recipients": [f"{VILLEBOURG}\r\n"],
        "expected_volume": ["500 par mois"],
        "controller": ["Mairie de Villebourg"],
        "retention": [CONTENT["retention"]],
        "if_refused": [CONTENT["if_refused"]],
        "reason_cnaf_quotient_familial": ["Il fixe le tarif de la cantine."],
        "reason_cnaf_enfants": [""],
    }
    for role, person in CONTENT["contacts"].items():
        for part, value in person.items():
            form[f"{role}_{part}"] = [value]
    assert checked_content(content_from_form(form), VILLEBOURG) == CONTENT


def test_the_catalogue_groups_every_data_scope_by_provider():
    groups = data_catalogue()
    names = [s.name for _, scopes in groups for s in scopes]
    assert sorted(names) == sorted(s.name for s in REGISTRY.data_scopes())
    assert all(s.provider == p.key for p, scopes in groups for s in scopes)
    assert groups[0][0].key == "cnaf" and groups[0][1][0].label_fr.startswith("Votre quotient")


def test_diff_between_versions():
    old = content()
    new = content(
        purpose="Autre finalité.",
        scopes=["cnaf_quotient_familial", "cnaf_adresse"],
        optional_scopes=[],
        consent_mode="one_time",
        consent_days=None,
        contacts=contacts("dpo", email="nouveau@villebourg.example"),
        reasons={"cnaf_quotient_familial": "Pour le tarif."},
    )
    diff = compare(old, new)
    assert [s.name for s in diff.added] == ["cnaf_adresse"]
    assert [s.name for s in diff.removed] == ["cnaf_enfants"]
    assert diff.added[0].label_fr == "Votre adresse connue de la CAF ou de la MSA"
    changes = {(c.label, c.detail): (c.before, c.after) for c in diff.changes}
    assert changes[("Finalité", None)] == (CONTENT["purpose"], "Autre finalité.")
    assert changes[("Consentement", None)] == ("renouvelable", "ponctuel")
    assert changes[("Durée du consentement, en jours", None)] == ("365", "")
    assert changes[("Délégué à la protection des données", "adresse électronique")] == (
        "dpo@villebourg.example",
        "nouveau@villebourg.example",
    )
    [reason] = [c for c in diff.changes if c.scope is not None]
    assert (reason.scope.name, reason.after) == ("cnaf_quotient_familial", "Pour le tarif.")
    assert compare(old, content()).empty
    made_required = compare(old, content(optional_scopes=[]))
    assert [s.name for s in made_required.made_required] == ["cnaf_enfants"]
    assert not made_required.added and not made_required.changes
