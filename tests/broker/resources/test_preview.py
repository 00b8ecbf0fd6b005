"""The data preview of the consent screen, against the provider simulators over real HTTP."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import pytest

from broker.catalogue.products import FRANCE_CONNECT, PRODUCTS
from broker.catalogue.scopes import REGISTRY
from broker.core.settings import Settings
from broker.demo.citizens import DemoCitizen, by_login
from broker.demo.scenarios import SCENARIO_CITIZENS
from broker.oidc.models import CitizenIdentity
from broker.providers.base import Found, InvalidInput, NotFound, ProductCall, ProviderConfig
from broker.providers.registry import build_adapters
from broker.resources.preview import (
    DataPreview,
    PreviewValue,
    ProviderPreview,
    planned_providers,
    previewable,
)
from broker.resources.subjects import pivot_of

NBSP = "\u00a0"


def citizen(login: str) -> CitizenIdentity:
    demo: DemoCitizen | None = by_login(login) or next(
        (c for c in SCENARIO_CITIZENS if c.login == login), None
    )
    assert demo is not None, login
    return CitizenIdentity(
        id=f"id-{login}",
        given_name=demo.given_name,
        family_name=demo.family_name,
        birthdate=demo.birthdate,
        gender=demo.gender,
        birthplace=demo.birthplace,
        birthcountry=demo.birthcountry,
        preferred_username=demo.preferred_username,
        email=demo.email,
    )


class Recording:
    """A real adapter, with a record of the products it was asked for."""

    def __init__(self, adapter) -> None:
        self.adapter = adapter
        self.provider = adapter.provider
        self.asked: list[str] = []

    async def fetch(self, call):
        self.asked.append(call.product)
        return await self.adapter.fetch(call)

    async def ping(self):
        return await self.adapter.ping()


@pytest.fixture
def preview(simulators):
    """``preview(login, scopes, locale=..., budget=..., read_timeout=...)``: (result, seconds,
    products asked per provider), with fresh adapters (fresh breakers) over a real client."""

    def run(
        login: str,
        scopes: list[str],
        *,
        locale: str = "fr",
        budget: float = 3.0,
        read_timeout: float = 1.0,
        times: int = 1,
    ):
        async def go():
            async with httpx.AsyncClient() as client:
                configs = {
                    p.key: ProviderConfig(
                        base_url=f"{simulators}/{p.key}",
                        connect_timeout=0.5,
                        read_timeout=read_timeout,
                        retries=0,
                        breaker_failures=1000,
                    )
                    for p in REGISTRY.providers()
                }
                adapters = {k: Recording(a) for k, a in build_adapters(configs, client).items()}
                data_preview = DataPreview(adapters, budget)
                started = time.monotonic()
                for _ in range(times):
                    result = await data_preview.fetch(citizen(login), scopes, locale)
                asked = {k: a.asked for k, a in adapters.items() if a.asked}
                return result, time.monotonic() - started, asked

        return asyncio.run(go())

    return run


def lines(group: ProviderPreview, scope: str) -> list[tuple[str, str]]:
    return [(v.label, v.value) for v in group.values[scope]]


def test_caf_quotient_familial_of_the_reference_citizen(preview):
    result, _, asked = preview("test", ["openid", "profile", "cnaf_quotient_familial"])
    assert set(result) == {"cnaf"}
    cnaf = result["cnaf"]
    assert (cnaf.provider, cnaf.status, cnaf.reason) == ("cnaf", "ok", "")
    assert set(cnaf.values) == {"cnaf_quotient_familial"}
    assert ("Quotient familial", f"2{NBSP}550{NBSP}€") in lines(cnaf, "cnaf_quotient_familial")
    assert ("Organisme", "CNAF") in lines(cnaf, "cnaf_quotient_familial")
    assert asked == {"cnaf": ["dss/quotient_familial"]}


def test_english_labels_and_amounts(preview):
    result, _, _ = preview("test", ["cnaf_quotient_familial"], locale="en")
    assert ("Family quotient", "€2,550") in lines(result["cnaf"], "cnaf_quotient_familial")


def test_only_the_scopes_asked_appear(preview):
    """The product also carries the address and the beneficiaries: none of it shows."""
    result, _, _ = preview("test", ["cnaf_quotient_familial"])
    shown = repr(result)
    for other in ("SEGUR", "75007 PARIS", "DUBOIS", "Angela", "Destinataire", "Allocataires"):
        assert other not in shown

    result, _, _ = preview("test", ["cnaf_adresse"])
    address = lines(result["cnaf"], "cnaf_adresse")
    assert set(result["cnaf"].values) == {"cnaf_adresse"}
    assert ("Voie", "20 AVENUE DE SEGUR") in address
    assert ("Complément d'adresse", "non renseigné") in address
    assert "2550" not in repr(result) and "550" not in repr(result)


def test_lists_dates_and_codes_are_readable(preview):
    result, _, _ = preview("test", ["cnaf_allocataires", "cnaf_enfants"])
    person = (
        "1. Nom de naissance : DUBOIS ; Nom d'usage : non renseigné ; "
        "Prénoms : Angela Claire Louise ; Date de naissance : 24 août 1962 ; Sexe : Féminin"
    )
    assert lines(result["cnaf"], "cnaf_allocataires") == [("Allocataires", person)]
    assert lines(result["cnaf"], "cnaf_enfants") == [("Enfants", "aucun")]

    result, _, _ = preview("test", ["cnaf_allocataires"], locale="en")
    assert (
        "Date of birth : 24 August 1962 ; Sex : Female"
        in lines(result["cnaf"], "cnaf_allocataires")[0][1]
    )


def test_booleans_and_dates_of_benefits(preview):
    scopes = [
        "revenu_solidarite_active",
        "revenu_solidarite_active_majoration",
        "allocation_adulte_handicape",
    ]
    result, _, asked = preview("beneficiaire_rsa", scopes)
    dss = result["dss"]
    assert dss.status == "ok" and set(dss.values) == set(scopes)
    assert lines(dss, "revenu_solidarite_active") == [
        ("Bénéficiaire", "Oui"),
        ("Depuis le", "1 avril 2025"),
    ]
    assert lines(dss, "revenu_solidarite_active_majoration") == [("Avec majoration", "Non")]
    assert lines(dss, "allocation_adulte_handicape") == [
        ("Bénéficiaire", "Non"),
        ("Depuis le", "non renseigné"),
    ]
    assert sorted(asked["dss"]) == [
        "dss/allocation_adulte_handicape",
        "dss/revenu_solidarite_active",
    ]  # one call per product

    result, _, _ = preview("beneficiaire_rsa", scopes, locale="en")
    assert lines(result["dss"], "revenu_solidarite_active") == [
        ("Beneficiary", "Yes"),
        ("Since", "1 April 2025"),
    ]
    assert lines(result["dss"], "allocation_adulte_handicape")[1] == ("Since", "not provided")


def test_tax_data_and_presumed_birth_dates(preview):
    result, _, _ = preview("étranger_présumé_né_jour_et_mois", ["dgfip_sitfam", "dgfip_decl"])
    dgfip = result["dgfip"]
    assert dgfip.status == "ok"
    assert lines(dgfip, "dgfip_sitfam") == [("Situation de famille", "Célibataire")]
    assert ("Déclarant 1 – date de naissance", "1992") in lines(dgfip, "dgfip_decl")


@pytest.mark.parametrize(
    ("login", "reason"),
    [
        ("scenario_erreur_serveur", "unavailable"),
        ("scenario_passerelle", "unavailable"),
        ("scenario_maintenance", "maintenance"),
        ("scenario_reponse_invalide", "unexpected_payload"),
        ("scenario_forme_inattendue", "unexpected_payload"),
    ],
)
def test_a_failing_provider_is_reported_not_raised(preview, login, reason):
    scopes = [
        "cnaf_quotient_familial",
        "prime_activite",
        "cnous_statut_boursier",
        "mesri_admissions",
        "dgfip_rfr",
    ]
    result, _, _ = preview(login, scopes)
    assert set(result) == {"cnaf", "dss", "cnous", "mesri", "dgfip"}
    for group in result.values():
        assert (group.status, group.reason, group.values) == ("failed", reason, {})


def test_a_slow_provider_is_cut_off_by_the_budget(preview):
    """Adapters would wait 5 s; the simulators answer after 2 s; the preview gives 0.5 s."""
    scopes = [
        "cnaf_quotient_familial",
        "revenu_solidarite_active",
        "prime_activite",
        "complementaire_sante_solidaire",
        "cnous_statut_boursier",
        "dgfip_rfr",
    ]
    result, seconds, asked = preview("scenario_lent", scopes, budget=0.5, read_timeout=5.0)
    assert seconds < 1.2  # the budget, not the sum (nor the longest) of the calls
    assert len(asked["dss"]) == 3
    for group in result.values():
        assert (group.status, group.reason, group.values) == ("failed", "timeout", {})


def test_a_provider_read_timeout_is_a_failure_too(preview):
    result, seconds, _ = preview("scenario_lent", ["dgfip_rfr"], budget=3.0, read_timeout=0.3)
    assert seconds < 1.5
    assert (result["dgfip"].status, result["dgfip"].reason) == ("failed", "timeout")


def test_not_found(preview):
    scopes = ["cnaf_quotient_familial", "revenu_solidarite_active", "dgfip_rfr"]
    result, _, _ = preview("scenario_inconnu", scopes)
    assert {k: (g.status, g.values) for k, g in result.items()} == {
        "cnaf": ("not_found", {}),
        "dss": ("not_found", {}),
        "dgfip": ("not_found", {}),
    }

    result, _, _ = preview("test", ["cnaf_quotient_familial", "cnous_statut_boursier"])
    assert (result["cnaf"].status, result["cnous"].status) == ("ok", "not_found")


def test_identity_scopes_alone_call_no_provider(preview):
    scopes = [s.name for s in REGISTRY.identity_scopes()] + ["unknown_scope"]
    result, _, asked = preview("test", scopes)
    assert result == {} and asked == {}


def test_products_without_france_connect_mode_are_not_called(preview):
    """France Travail and MEN have no France Connect mode: the preview cannot ask them."""
    result, _, asked = preview(
        "beneficiaire_rsa", ["pole_emploi_inscription", "men_statut_scolarite", "dgfip_rfr"]
    )
    assert list(result) == ["france_travail", "men", "dgfip"]  # registry order
    for key in ("france_travail", "men"):
        assert (result[key].status, result[key].reason) == ("failed", "not_previewable")
    assert result["dgfip"].status == "ok"
    assert set(asked) == {"dgfip"}


ANTS_SCOPES = [
    "ants_extrait_immatriculation_vehicule_statut_rattachement",
    "ants_extrait_immatriculation_vehicule_donnees_immatriculation_vehicule",
]


def test_products_needing_a_parameter_only_the_service_knows_are_not_called(preview):
    """ANTS answers only about a registration number, which the citizen has not given: the
    preview shows it as not previewable, never as a failed call (``invalid_input``)."""
    result, _, asked = preview("nom_composé", [*ANTS_SCOPES, "cnav_allocation_enfant_handicape"])
    assert list(result) == ["dss", "ants"]  # registry order
    assert (result["ants"].status, result["ants"].reason, result["ants"].values) == (
        "failed",
        "not_previewable",
        {},
    )
    assert result["dss"].status == "ok"
    assert asked == {"dss": ["dss/allocation_enfant_handicape"]}
    assert planned_providers(ANTS_SCOPES) == []


def test_previewable_products_are_those_answering_the_citizen_s_identity_alone(simulators):
    """Every product the preview may ask, asked as it asks (France Connect mode, the pivot and
    no other parameter), gets an answer about the citizen, never a refusal of its input."""
    previewed = [p for p in PRODUCTS if previewable(p)]
    left_out = {p.key for p in PRODUCTS if not previewable(p)}
    assert {"ants/extrait_immatriculation_vehicule", "men/scolarites", "v4/men/scolarites"} <= (
        left_out
    )
    assert {"dss/quotient_familial", "v4/cnous/etudiant_boursier"} <= {p.key for p in previewed}

    async def go():
        async with httpx.AsyncClient() as client:
            configs = {
                p.key: ProviderConfig(base_url=f"{simulators}/{p.key}")
                for p in REGISTRY.providers()
            }
            adapters = build_adapters(configs, client)
            pivot = pivot_of(citizen("nom_composé"))
            return [
                await adapters[spec.provider].fetch(ProductCall(spec.key, FRANCE_CONNECT, pivot))
                for spec in previewed
            ]

    outcomes = dict(zip((p.key for p in previewed), asyncio.run(go()), strict=True))
    refused = {key: o for key, o in outcomes.items() if isinstance(o, InvalidInput)}
    assert not refused, refused
    assert all(isinstance(o, (Found, NotFound)) for o in outcomes.values()), outcomes


@pytest.mark.parametrize(
    "scopes",
    [
        ["openid", "cnous_statut_boursier", "cnaf_adresse"],
        ["pole_emploi_inscription", "men_statut_scolarite", "dgfip_rfr"],
        ["pole_emploi_inscription", "men_statut_scolarite"],
        [*ANTS_SCOPES, "dsnj_statut_service_national"],
        ["openid", "given_name"],
    ],
)
def test_the_planned_providers_are_those_the_preview_calls(preview, scopes):
    """What the waiting page names is what ``fetch`` asks, from the same plan."""
    _, _, asked = preview("test", scopes)
    assert planned_providers(scopes) == [p.key for p in REGISTRY.providers() if p.key in asked]


def test_planned_providers_in_registry_order_without_unreadable_ones():
    assert planned_providers(["cnous_statut_boursier", "openid", "cnaf_adresse"]) == [
        "cnaf",
        "cnous",
    ]
    assert planned_providers(["pole_emploi_inscription", "men_statut_scolarite"]) == []


def test_nothing_is_kept_and_no_value_is_logged(preview, caplog):
    caplog.set_level(logging.DEBUG)
    result, _, asked = preview(
        "test", ["cnaf_quotient_familial", "cnaf_adresse", "dgfip_rfr"], times=2
    )
    assert result["cnaf"].status == "ok"
    assert asked["cnaf"] == ["dss/quotient_familial"] * 2  # no cache: asked each time
    # uvicorn's access log is the simulated provider's, not the broker's
    ours = [r for r in caplog.records if not r.name.startswith("uvicorn")]
    # The messages and extra fields, not the records' own timestamps (digits by chance).
    standard = set(logging.makeLogRecord({}).__dict__)
    logged = " ".join(
        f"{r.getMessage()} { {k: v for k, v in r.__dict__.items() if k not in standard} }"
        for r in ours
    )
    assert any(r.name == "broker.providers" for r in ours)
    for value in ("DUBOIS", "Angela", "SEGUR", "2550", "30600", "1962", "75107"):
        assert value not in logged


def test_from_settings_reaches_the_configured_providers(simulators, tmp_path):
    settings = Settings(
        env="development",
        var_dir=tmp_path,
        log_format="text",
        providers_url=simulators,
        provider_connect_timeout=0.5,
        provider_read_timeout=0.4,
    )

    async def go():
        async with httpx.AsyncClient() as client:
            data_preview = DataPreview.from_settings(settings, client)
            assert data_preview.budget == pytest.approx(0.9)
            return await data_preview.fetch(citizen("test"), ["cnaf_quotient_familial"])

    assert asyncio.run(go())["cnaf"].status == "ok"


# -- shapes no provider should send: the preview still renders, never raises -----------------


class Answering:
    """An adapter answering one fixed outcome, or raising: what a buggy adapter could do."""

    def __init__(self, provider: str, answer) -> None:
        self.provider = provider
        self.answer = answer

    async def fetch(self, call):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    async def ping(self):
        return Found({})


def run_with(adapter, scopes: list[str], locale: str = "fr") -> dict[str, ProviderPreview]:
    data_preview = DataPreview({adapter.provider: adapter}, 1.0)
    return asyncio.run(data_preview.fetch(citizen("test"), scopes, locale))


def test_odd_shapes_render_something():
    odd = Found(
        {
            "quotient_familial": {
                "valeur": [1, None, {"a": True}],
                "annee": 2026.0,
                "mois": {"x": 1, "y": "2"},
            },
            "allocataires": "not a list",
            "enfants": [None, 3, {"prenoms": ["A", "B"]}],
            "adresse": None,
        }
    )
    scopes = ["cnaf_quotient_familial", "cnaf_allocataires", "cnaf_enfants", "cnaf_adresse"]
    result = run_with(Answering("cnaf", odd), scopes)["cnaf"]
    assert result.status == "ok"
    qf = dict(lines(result, "cnaf_quotient_familial"))
    assert qf["Quotient familial"] == f"1{NBSP}€, non renseigné, Oui"
    assert qf["Année"] == "2026" and qf["Mois"] == "X : 1 ; Y : 2"
    assert lines(result, "cnaf_allocataires") == [("Allocataires", "non renseigné")]
    children = [value for _, value in lines(result, "cnaf_enfants")]
    assert children[0].startswith("1. Nom de naissance : non renseigné")
    assert "Prénoms : A, B" in children[2]
    assert ("Destinataire", "non renseigné") in lines(result, "cnaf_adresse")
    assert all(isinstance(v, PreviewValue) for vs in result.values.values() for v in vs)


def test_a_failing_adapter_never_breaks_the_screen():
    result = run_with(Answering("dgfip", RuntimeError("bug")), ["dgfip_rfr"])
    assert (result["dgfip"].status, result["dgfip"].reason) == ("failed", "unavailable")
    result = run_with(Answering("cnaf", Found({})), ["dgfip_rfr"])  # no dgfip adapter at all
    assert result["dgfip"].status == "failed"


def test_a_scope_of_two_versions_is_asked_once_in_the_latest(preview):
    """cnous_statut_boursier is served by v3 and v4: one call, v4's, which also tells whether
    the grant was withdrawn."""
    result, _, asked = preview("etudiant_boursier", ["cnous_statut_boursier", "cnous_email"])
    assert asked == {"cnous": ["v4/cnous/etudiant_boursier"]}
    cnous = result["cnous"]
    assert cnous.status == "ok"
    assert lines(cnous, "cnous_statut_boursier") == [
        ("Boursier", "Oui"),
        ("Bourse retirée (radiation)", "Non"),
        ("Date de radiation", "non renseigné"),
    ]


def test_aeeh_and_eaje_fee_facts_are_previewed(preview):
    scopes = [
        "cnav_allocation_enfant_handicape",
        "cnav_participation_familiale_eaje_parametres_calcul",
    ]
    result, _, asked = preview("nom_composé", scopes)
    assert sorted(asked["dss"]) == [
        "dss/allocation_enfant_handicape",
        "dss/participation_familiale_eaje",
    ]
    dss = result["dss"]
    assert dss.status == "ok"
    assert lines(dss, "cnav_allocation_enfant_handicape")[1] == ("Depuis le", "1 mars 2021")
    values = dict(lines(dss, "cnav_participation_familiale_eaje_parametres_calcul"))
    assert values["Enfants à charge"] == "3"
    assert values["Enfants bénéficiaires de l'AEEH"] == "1"
