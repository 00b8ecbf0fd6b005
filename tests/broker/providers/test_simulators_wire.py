"""The simulators as integrators see them, raw over HTTP: URL layout, provider-native formats,
honest 404s and 400s (never a generic success), matching of partial and accented identities,
credentials, and the adapters' registry."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from broker.catalogue.scopes import PROVIDERS
from broker.demo.simulators import ROUTERS, SimulatorOptions, create_app_for
from broker.providers.base import Found, ProductCall, ProviderConfig, Unavailable
from broker.providers.registry import ADAPTER_CLASSES, build_adapters
from tests.broker.providers.conftest import pivot_of, with_adapters
from tests.servers import bound_socket, serve_app

HEALTH = {
    "cnaf": "/qf/v1/sante",
    "dss": "/prestations/v1/sante",
    "cnous": "/api/v1/health",
    "mesri": "/etudiants/v1/statut",
    "france_travail": "/partenaire/v1/ping",
    "men": "/scolarite/v1/sante",
    "dgfip": "/impotparticulier/v1/ping",
    "ants": "/siv/v1/sante",
    "sdh": "/psqs/v1/sante",
    "dsnj": "/recensement/v1/sante",
    "gip_mds": "/dsn/v1/sante",
}
TEST_CNAF = {
    "nomNaissance": "DUBOIS",
    "prenoms": "Angela",
    "sexe": "2",
    "dateNaissance": "19620824",
    "codePaysNaissance": "99100",
    "codeInseeLieuNaissance": "75107",
}


def test_every_provider_has_an_adapter_and_a_simulator():
    keys = {p.key for p in PROVIDERS}
    assert set(ADAPTER_CLASSES) == keys == set(ROUTERS) == set(HEALTH)
    assert all(cls.provider == key for key, cls in ADAPTER_CLASSES.items())


def test_build_adapters_refuses_unknown_providers():
    async def go():
        async with httpx.AsyncClient() as client:
            adapters = build_adapters({"cnaf": ProviderConfig(base_url="http://x")}, client)
            assert list(adapters) == ["cnaf"] and adapters["cnaf"].provider == "cnaf"
            with pytest.raises(ValueError, match="nope"):
                build_adapters({"nope": ProviderConfig(base_url="http://x")}, client)

    asyncio.run(go())


@pytest.mark.parametrize("key", list(HEALTH))
def test_combined_app_serves_each_provider_under_its_key(simulators_url, key):
    response = httpx.get(f"{simulators_url}/{key}{HEALTH[key]}")
    assert response.status_code == 200 and response.json() == {"statut": "disponible"}


def test_unknown_person_is_a_404_with_the_error_envelope(simulators_url):
    response = httpx.get(
        f"{simulators_url}/cnaf/qf/v1/allocataires/quotient",
        params=TEST_CNAF | {"nomNaissance": "DUPONT"},
    )
    assert response.status_code == 404
    assert response.json()["erreur"]["code"] == "NON_TROUVE"
    assert "DUPONT" not in response.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sexe": "F"}, "sexe"),
        ({"dateNaissance": "1962-08-24"}, "dateNaissance"),
        ({"dateNaissance": "19620024"}, "dateNaissance"),  # a day without a month
        ({"codePaysNaissance": "FR"}, "codePaysNaissance"),
        ({"codeInseeLieuNaissance": ""}, "codeInseeLieuNaissance"),
        ({"prenoms": "  "}, "prenoms"),
        ({"annee": "2026"}, "mois"),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(simulators_url, params, field):
    response = httpx.get(
        f"{simulators_url}/cnaf/qf/v1/allocataires/quotient", params=TEST_CNAF | params
    )
    assert response.status_code == 400
    error = response.json()["erreur"]
    assert error["code"] == "PARAMETRE_INVALIDE" and error["champ"] == field


def test_dss_rejects_a_body_that_is_not_json(simulators_url):
    response = httpx.post(
        f"{simulators_url}/dss/prestations/v1/rsa",
        content=b"nom=SANTUCCI",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400 and response.json()["erreur"]["champ"] == "individu"


def test_identifier_or_identity_but_not_both(simulators_url):
    response = httpx.get(
        f"{simulators_url}/cnous/api/v1/students/scholarship",
        params={"ine": "2406012345K", "lastName": "LAMBERT"},
    )
    assert response.status_code == 400 and response.json()["erreur"]["champ"] == "ine"


def test_provider_native_formats_differ_from_v3(simulators_url):
    cnaf = httpx.get(f"{simulators_url}/cnaf/qf/v1/allocataires/quotient", params=TEST_CNAF)
    assert cnaf.json()["quotientFamilial"] == 2550 and "quotient_familial" not in cnaf.json()
    assert cnaf.json()["allocataires"][0]["dateNaissance"] == "24081962"
    cnous = httpx.get(
        f"{simulators_url}/cnous/api/v1/students/scholarship", params={"ine": "2406012345k"}
    )
    assert cnous.json()[0]["grantEchelon"] == "5"
    ft = httpx.get(
        f"{simulators_url}/france_travail/partenaire/v1/paiements",
        params={"identifiant": "4127395M"},
    )
    assert ft.json()["listePaiement"][0]["montantPaiement"] == 1287.3


@pytest.mark.parametrize(
    "pivot_changes",
    [
        {"given_names": ("Angela",)},  # first given name only (API-key callers)
        {"birthdate": "1962-08-00"},  # year and month only
        {"birthdate": "1962-00-00"},  # year only
        {"family_name": "dubois", "given_names": ("angéla claire",)},  # case and accents
    ],
)
def test_partial_and_unnormalised_identities_match(simulators_url, pivot_changes):
    async def steps(adapters):
        return await adapters["cnaf"].fetch(
            ProductCall(
                "dss/quotient_familial", "identite", pivot=pivot_of("test", **pivot_changes)
            )
        )

    outcome = with_adapters(simulators_url, steps)
    assert isinstance(outcome, Found) and outcome.data["quotient_familial"]["valeur"] == 2550


def test_hyphens_apostrophes_and_spaces_in_names(simulators_url):
    async def steps(adapters):
        return [
            await adapters["cnaf"].fetch(
                ProductCall(
                    "dss/quotient_familial",
                    "identite",
                    pivot=pivot_of("nom_composé", family_name=name, given_names=("Mélissandre",)),
                )
            )
            for name in ("Trois Dupré", "trois-dupre", "TROIS  DUPRE", "Trois'Dupre")
        ]

    assert all(isinstance(o, Found) for o in with_adapters(simulators_url, steps))


@pytest.fixture(scope="module")
def guarded_cnaf():
    sock = bound_socket()
    with serve_app(create_app_for("cnaf", SimulatorOptions(token="jeton-de-test")), sock):
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize(
    ("credentials", "expected"),
    [("jeton-de-test", Found), ("mauvais", Unavailable), ("", Unavailable)],
)
def test_simulator_credentials(guarded_cnaf, credentials, expected):
    async def go():
        async with httpx.AsyncClient() as client:
            adapter = ADAPTER_CLASSES["cnaf"](
                ProviderConfig(base_url=guarded_cnaf, credentials=credentials), client
            )
            return await adapter.fetch(
                ProductCall("dss/quotient_familial", "identite", pivot=pivot_of("test"))
            )

    assert isinstance(asyncio.run(go()), expected)


def test_logs_carry_no_personal_data(simulators_url, caplog):
    caplog.set_level(logging.DEBUG)

    async def steps(adapters):
        await adapters["cnaf"].fetch(
            ProductCall(
                "dss/quotient_familial", "identite", pivot=pivot_of("test"), request_id="rid-7"
            )
        )
        await adapters["france_travail"].fetch(
            ProductCall("france_travail/statut", "identifiant", identifier="4127395M")
        )
        await adapters["cnaf"].fetch(
            ProductCall(
                "dss/quotient_familial", "identite", pivot=pivot_of("scenario_erreur_serveur")
            )
        )

    with_adapters(simulators_url, steps)
    ours = [r for r in caplog.records if r.name == "broker.providers"]
    assert {r.outcome for r in ours} == {"reply", "unavailable"}
    assert any(r.request_id == "rid-7" and r.http_status == 200 for r in ours)
    # The message and the extra fields; not the record's own numbers (a timestamp such as
    # 1764305836341.4919622 would "contain" 1962).
    standard = set(logging.makeLogRecord({}).__dict__)
    text = "\n".join(
        f"{r.getMessage()} { {k: v for k, v in r.__dict__.items() if k not in standard} }"
        for r in caplog.records
        if r.name.startswith(("broker", "httpx"))
    )
    for secret in (
        "DUBOIS",
        "Angela",
        "19620824",
        "1962",
        "4127395M",
        "PANNE",
        "Sophie",
        "nomNaissance",
        "?",
    ):
        assert secret not in text, secret


def test_repeated_given_names_are_read_in_order(simulators_url):
    url = f"{simulators_url}/cnaf/qf/v1/allocataires/quotient"
    in_order = httpx.get(url, params=TEST_CNAF | {"prenoms": ["Angela", "Claire"]})
    swapped = httpx.get(url, params=TEST_CNAF | {"prenoms": ["Claire", "Angela"]})
    assert (in_order.status_code, swapped.status_code) == (200, 404)
