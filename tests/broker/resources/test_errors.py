"""Platform errors carry siade's codes and titles (401, 403, 422, 429), checked against the
answers recorded from API Particulier v3 (tests/fixtures/siade/); the few codes of ours are in
the platform range and unused by those answers."""

from __future__ import annotations

from datetime import date

import pytest

from broker.catalogue.products import IDENTITE, INE, product
from broker.resources import errors, siade_codes
from broker.resources.params import ParameterProblems, parse_query
from tests.broker.resources.siade_recorded import documented, documented_item, http_answers

TODAY = date(2026, 12, 7)


def recorded_codes() -> set[str]:
    answers = [*documented(), *http_answers()]
    return {item["code"] for answer in answers for item in answer["body"]["errors"]}


def same_shape(ours: dict, recorded: dict) -> None:
    """Code, title and source as recorded; meta as recorded, plus what ours says more."""
    assert (ours["code"], ours["title"]) == (recorded["code"], recorded["title"])
    assert ours["source"] == recorded.get("source")
    assert recorded["meta"].items() <= ours["meta"].items()


@pytest.mark.parametrize(
    ("reason", "code"),
    [(errors.INVALID, "00101"), (errors.EXPIRED, "00103"), (errors.REVOKED, "00105")],
)
def test_credential_refusals_are_siades_401s(reason, code):
    error = errors.unauthorized(
        "Cette clé d'API est inconnue.", {"WWW-Authenticate": "Bearer"}, reason=reason
    )
    [item] = error.body()["errors"]
    status, recorded = documented_item(code)
    assert error.status == status == 401
    same_shape(item, recorded)
    assert item["meta"] == {}
    assert item["detail"] == "Cette clé d'API est inconnue."  # ours says which credential
    assert error.headers == {"WWW-Authenticate": "Bearer"}


def test_forbidden_points_at_the_introspection_endpoint():
    """siade: 00100 "Privilèges insuffisants", listing the rights at /api/introspect; ours at
    /v3/introspect, in the detail and in meta.introspect, after our own reason."""
    error = errors.forbidden("Ce jeton ne porte aucun des scopes de ce produit.")
    [item] = error.body()["errors"]
    status, recorded = documented_item("00100")
    assert error.status == status == 403
    same_shape(item, recorded)
    assert item["meta"] == {"introspect": "/v3/introspect"}
    assert item["detail"] == (
        "Ce jeton ne porte aucun des scopes de ce produit. "
        "Listez vos privilèges sur /v3/introspect."
    )
    assert "Listez vos privilèges sur /api/introspect" in recorded["detail"]
    other = errors.forbidden("Non.", introspect="https://api.example/v3/introspect")
    assert other.body()["errors"][0]["meta"] == {"introspect": "https://api.example/v3/introspect"}


def test_rate_limited_is_siades_429():
    error = errors.rate_limited(17)
    [item] = error.body()["errors"]
    status, recorded = documented_item("00429")
    assert error.status == status == 429
    same_shape(item, recorded)
    assert item["meta"] == {}
    assert item["detail"].startswith(recorded["detail"]) and "17 s" in item["detail"]
    assert error.headers == {"Retry-After": "17"}


def problems(key: str, mode: str, query: dict[str, list[str]]) -> list[dict]:
    with pytest.raises(ParameterProblems) as raised:
        parse_query(query, product(key), mode, api_key=True, today=TODAY)
    error = errors.invalid_parameters(raised.value.problems)
    assert error.status == 422
    return error.body()["errors"]


def test_missing_identity_has_the_recorded_per_parameter_codes():
    """run.txt recorded v3 mesri/statut_etudiant/identite without parameters: 00420 (name),
    00421 (given names), 00422 (birth year), 00427 (sex), all "Entité non traitable"."""
    [recorded] = [
        a
        for a in http_answers()
        if a["url"].endswith("/v3/mesri/statut_etudiant/identite") and a["status"] == 422
    ]
    ours = {
        item["source"]["parameter"]: item
        for item in problems("mesri/statut_etudiant", IDENTITE, {})
    }
    codes = {item["code"] for item in recorded["body"]["errors"]}
    assert codes == {"00420", "00421", "00422", "00427"}
    assert {
        ours[p]["code"]
        for p in ("nomNaissance", "prenoms[]", "anneeDateNaissance", "sexeEtatCivil")
    } == codes
    assert ours["recipient"]["code"] == documented_item("00203")[1]["code"]
    assert ours["recipient"]["source"] == documented_item("00203")[1]["source"]
    for item in ours.values():
        assert item["title"] == recorded["body"]["errors"][0]["title"] == "Entité non traitable"
        assert item["meta"] == {}


def test_badly_formatted_identity_ine_and_recipient():
    identity = {
        "nomNaissance": ["DUBOIS"],
        "prenoms[]": ["Angela"],
        "anneeDateNaissance": ["1962"],
        "moisDateNaissance": ["13"],
        "jourDateNaissance": ["24"],
        "sexeEtatCivil": ["F"],
        "codeCogInseeCommuneNaissance": ["08480"],
        "recipient": ["12345678901234"],
    }
    ours = {
        i["source"]["parameter"]: i["code"]
        for i in problems("mesri/statut_etudiant", IDENTITE, identity)
    }
    assert ours == {"moisDateNaissance": "00366", "recipient": "00302"}
    assert documented_item("00366")[0] == 422
    ine = problems("mesri/statut_etudiant", INE, {"ine": ["123"], "recipient": ["13002526500013"]})
    assert [(i["code"], i["source"]) for i in ine] == [("00360", {"parameter": "ine"})]
    assert documented_item("00360")[1]["title"] == ine[0]["title"]


def test_our_own_codes_are_unused_by_the_recorded_answers():
    ours = {
        siade_codes.OURS_UNKNOWN_ROUTE[0],
        siade_codes.OURS_UNAVAILABLE[0],
        siade_codes.OURS_INVALID_PARAMETER,
    }
    assert all(code.startswith(siade_codes.PLATFORM) for code in ours)
    assert not ours & recorded_codes()
    unknown = problems(
        "mesri/statut_etudiant",
        INE,
        {"ine": ["1234567890A"], "recipient": ["13002526500013"], "x": ["1"]},
    )
    assert [(i["code"], i["source"]) for i in unknown] == [("00399", {"parameter": "x"})]


def test_store_outages_stay_ours_with_retry_after():
    down = errors.store_unavailable(5)
    assert (down.status, down.code, down.headers) == (503, "00503", {"Retry-After": "5"})
    assert down.body()["errors"][0]["meta"] == {"retry_in": 5}
    assert errors.journal_unavailable().code == errors.rate_limit_store_unavailable().code
