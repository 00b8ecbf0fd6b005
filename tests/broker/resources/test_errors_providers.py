"""Provider errors carry siade's codes, titles, statuses and ``meta.provider``, path by path: every
error example API Particulier v3's OpenAPI documents for a path we serve is what we send for the
same case, and we send no provider code its paths do not document (tests/fixtures/siade/)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from broker.catalogue.products import PRODUCTS, product
from broker.catalogue.scopes import PROVIDERS as DATA_PROVIDERS
from broker.providers import base
from broker.providers.adapters.men import check_where
from broker.resources import errors, siade_codes
from tests.broker.resources.siade_recorded import documented, documented_item, staging_answers

C2S = "dss/complementaire_sante_solidaire"
DGFIP_PATH = "/v3/dgfip/unites_legales/{siren}/attestation_fiscale"  # API Entreprise's
MISSING = "Ce paramètre est obligatoire."


def our_route(path: str) -> tuple[str, str] | None:
    """(product key, mode) of a documented path we serve; DGFiP's is API Entreprise's."""
    if path == DGFIP_PATH:
        return "dgfip/situation_fiscale", "france_connect"
    head, mode = path.rsplit("/", 1)
    key = head.removeprefix("/v3/").lstrip("/")
    return (key, mode) if product(key) is not None else None


def documented_routes() -> dict[tuple[str, str], list[dict]]:
    routes: dict[tuple[str, str], list[dict]] = {}
    for example in documented():
        route = our_route(example["path"])
        assert route is not None, example["path"]  # every documented path is served
        routes.setdefault(route, []).append(example)
    return routes


ROUTES = documented_routes()


def not_sent(key: str, example: str) -> str | None:
    """Why a documented example is a case we never answer (None: we do answer it)."""
    if example in ("dossier_allocataire_absent_msa_10003", "dossier_allocataire_absent_cnaf_23003"):
        return "our DSS adapters do not say which fund (CAF or MSA) lacks the file"
    if example.startswith("erreur_inattendue_"):
        return "an unexpected provider error is our 502 (XX999), not a 404"
    if key == C2S and example.startswith("allocataire_non_reference_"):
        return "the RNCPS's 404 we send is its 'Dossier allocataire absent RNCPS'"
    if example == "dns_resolution_error":
        return "our HTTP policy does not tell a DNS failure from a refused connection (00501)"
    if example == "provider_error":
        return "a provider's own 429 is our XX001 (broker.providers.http)"
    if example == "conflict_error":
        return "siade's 409 for a call already running; we never refuse a concurrent call"
    if example == "entite_non_traitable_00391":
        return "the GIP-MDS simulator never matches several people (it answers 404)"
    if example.startswith(("unprocessable_content_error_siren", "missing_mandatory_params_co")):
        return "API Entreprise's parameters (SIREN, context, object), not ours"
    if example.startswith("fichier_renvoye"):
        return "API Entreprise's DGFiP documents (PDF); our DGFiP product is JSON"
    return None


def ours(key: str, mode: str, example: str) -> Callable[[], errors.ApiError]:
    """Our error for the case a documented example names."""
    provider = product(key).provider
    outcome: dict[str, base.Outcome] = {
        "provider_unknown_error": base.UnexpectedPayload("shape"),
        "timeout_error": base.Timeout("slow"),
        "provider_unavailable_error": base.Unavailable("down"),
        "network_error": base.Unavailable("refused", unreachable=True),
        "unprocessable_content_error_code_etablissement_et_perimetre_error": check_where(
            {"codeEtablissement": "0440021J", "codesBcnRegions[]": "52"}
        ),
    }
    parameters = {
        "missing_mandatory_params_recipient_error": ("recipient", MISSING),
        "entite_non_traitable_00366": ("moisDateNaissance", "Attendu : un mois de 1 à 12."),
        "entite_non_traitable_00360": ("ine", "Format attendu : 10 chiffres et 1 lettre."),
        "unprocessable_content_error_sexe_etat_civil_error": ("sexeEtatCivil", MISSING),
        "unprocessable_content_error_identifiant_error": ("identifiant", MISSING),
    }
    platform = {
        "invalid_token_error": lambda: errors.unauthorized("x", reason=errors.INVALID),
        "expired_token_error": lambda: errors.unauthorized("x", reason=errors.EXPIRED),
        "blacklisted_token_error": lambda: errors.unauthorized("x", reason=errors.REVOKED),
        "insufficient_privileges_error": lambda: errors.forbidden("x"),
        "too_many_requests_error": lambda: errors.rate_limited(12),
    }
    if example in outcome:
        return lambda: errors.from_outcome(provider, outcome[example], product=key, mode=mode)
    if example in parameters:
        return lambda: errors.invalid_parameters([parameters[example]])
    if example in platform:
        return platform[example]
    return lambda: errors.from_outcome(provider, base.NotFound("x"), product=key, mode=mode)


def same(error: errors.ApiError, example: dict) -> bool:
    """Status, code, title and meta as documented, but for two things of ours: a provider's
    refusal (422) names the provider in meta.provider, and API Entreprise names the DGFiP's
    backend ("DGFIP - Adélie"). The detail too where we follow siade's words: the provider
    cases, and 00501, whose "API Entreprise" is our service."""
    [item] = error.body()["errors"]
    [recorded] = example["body"]["errors"]
    meta = {**(recorded.get("meta") or {})}
    if "provider" in meta:
        meta["provider"] = meta["provider"].split(" - ")[0]
    elif error.status == 422:
        meta = {**meta, **({"provider": item["meta"]["provider"]} if item["meta"] else {})}
    detail = recorded["detail"].replace("API Entreprise", "notre service")
    follows_detail = recorded["code"][:2] != "00" or recorded["code"] == "00501"
    # meta.introspect is ours: siade's 403 says where to list the rights in its detail only
    item_meta = {k: v for k, v in item["meta"].items() if k != "introspect"}
    return (
        error.status == example["status"]
        and (item["code"], item["title"]) == (recorded["code"], recorded["title"])
        and item_meta == meta
        and (not follows_detail or item["detail"] == detail)
    )


@pytest.mark.parametrize("route", sorted(ROUTES), ids="/".join)
def test_every_documented_example_is_what_we_send(route):
    key, mode = route
    answered_404 = False
    for example in ROUTES[route]:
        reason = not_sent(key, example["example"])
        if reason is not None:
            continue
        error = ours(key, mode, example["example"])()
        assert same(error, example), (example, error.body())
        answered_404 |= example["status"] == 404
    assert answered_404 or all(e["status"] != 404 for e in ROUTES[route])


def sent_by(key: str) -> set[str]:
    """Every provider-outcome code we send for a product, whatever the mode."""
    spec = product(key)
    outcomes = [
        base.NotFound("x"),
        base.Timeout("slow"),
        base.Unavailable("down"),
        base.Unavailable("refused", unreachable=True),
        base.Maintenance(retry_in=60),
        base.UnexpectedPayload("shape"),
    ]
    return {
        errors.from_outcome(spec.provider, outcome, product=key, mode=mode).code
        for outcome in outcomes
        for mode in spec.modes
    }


# Codes we send that the product's paths do not document, and why.
UNDOCUMENTED = {
    # siade documents only the ANTS's 404: its failures follow siade's XX convention.
    "ants/extrait_immatriculation_vehicule": {"42001", "42002", "42999", "00501"},
}
# v4's Cnous paths document no provider error: v3's stand for them.
SAME_AS = {"v4/cnous/etudiant_boursier": "cnous/etudiant_boursier"}


@pytest.mark.parametrize("spec", PRODUCTS, ids=lambda p: p.key)
def test_we_send_no_undocumented_provider_code(spec):
    documented_key = SAME_AS.get(spec.key, spec.key)
    known = {
        e["body"]["errors"][0]["code"]
        for (key, _), examples in ROUTES.items()
        if key == documented_key
        for e in examples
    }
    assert sent_by(spec.key) - known == UNDOCUMENTED.get(spec.key, set())


@pytest.mark.parametrize(
    ("key", "mode", "code", "provider"),
    [
        ("dss/quotient_familial", "identite", "35003", "CNAF & MSA"),
        ("dss/revenu_solidarite_active", "france_connect", "35003", "CNAF & MSA"),
        (C2S, "identite", "40003", "RNCPS"),
        ("dss/participation_familiale_eaje", "france_connect", "37003", "CNAV"),
    ],
)
def test_dss_not_found_is_per_product_and_failures_are_the_cnavs(key, mode, code, provider):
    spec = product(key)
    found = errors.from_outcome(spec.provider, base.NotFound("x"), product=key, mode=mode)
    assert (found.code, found.body()["errors"][0]["meta"]) == (code, {"provider": provider})
    for outcome, failure in [(base.Timeout("t"), "37002"), (base.UnexpectedPayload("p"), "37999")]:
        error = errors.from_outcome(spec.provider, outcome, product=key, mode=mode)
        assert (error.code, error.body()["errors"][0]["meta"]) == (failure, {"provider": "CNAV"})


def test_every_data_provider_has_siade_codes():
    assert {p.key for p in DATA_PROVIDERS} <= set(siade_codes.PROVIDERS)
    assert {"CNAF & MSA", "RNCPS", "CNAV"} <= errors.SIADE_NAMES


def test_unreachable_provider_is_siades_network_error():
    """00501 "Erreur réseau", 504, meta.retry_in 10 and no meta.provider (siade's); the journal
    keeps calling it ``unavailable``; any other unavailability stays XX001."""
    error = errors.from_outcome("mesri", base.Unavailable("refused", unreachable=True))
    [item] = error.body()["errors"]
    status, recorded = documented_item("00501")
    assert (error.status, item["code"], item["title"]) == (status, "00501", recorded["title"])
    assert item["meta"] == recorded["meta"] == {"retry_in": 10}
    assert error.headers == {"Retry-After": "10"} and error.outcome == "unavailable"
    assert errors.from_outcome("mesri", base.Unavailable("circuit open")).code == "25001"


def test_maintenance_is_the_unavailable_case_with_retry_in():
    """siade's XX001 "Service non disponible" (504) covers "indisponible ou en maintenance";
    a maintenance says when to retry, in meta.retry_in and Retry-After."""
    error = errors.from_outcome("dss", base.Maintenance(retry_in=600))
    [item] = error.body()["errors"]
    recorded_status, recorded = documented_item("37001")
    assert (error.status, item["code"], item["title"]) == (
        recorded_status,
        "37001",
        recorded["title"],
    )
    assert item["detail"].startswith(recorded["detail"]) and "600 s" in item["detail"]
    assert item["meta"] == {"provider": "CNAV", "retry_in": 600}
    assert error.headers == {"Retry-After": "600"}
    assert error.outcome == "maintenance"


def test_provider_refusal_is_the_platform_code_of_the_parameter():
    """siade answers a provider's refusal of the identity with its platform code 00366 and
    title, meta naming the provider (ours); a refused INE is 00360, as recorded."""
    error = errors.from_outcome("cnous", base.InvalidInput("refusé", "nomNaissance"))
    [item] = error.body()["errors"]
    recorded_status, recorded = documented_item("00366")
    assert (error.status, item["code"], item["title"]) == (422, "00366", recorded["title"])
    assert recorded_status == 422
    assert item["source"] == {"parameter": "nomNaissance"}
    assert item["meta"] == {"provider": "CNOUS"}
    ine = errors.from_outcome("mesri", base.InvalidInput("format", "ine")).body()["errors"][0]
    assert ine["code"] == documented_item("00360")[1]["code"]


@pytest.mark.parametrize(
    ("where", "code"),
    [
        ({"codeEtablissement": "0440021J", "codesBcnDepartements[]": "044"}, "00419"),
        ({"codeEtablissement": "0440021J", "codesBcnRegions[]": "52"}, "00419"),
        ({"codesBcnRegions[]": "52", "codesBcnDepartements[]": "044"}, "00399"),  # ours
        ({}, "00399"),  # ours: neither a school nor a perimeter
    ],
)
def test_men_school_and_perimeter_together_is_00419(where, code):
    refusal = check_where(where)
    assert isinstance(refusal, base.InvalidInput)
    error = errors.from_outcome("men", refusal, product="men/scolarites", mode="identite")
    assert (error.status, error.code, error.outcome) == (422, code, "provider_invalid_input")


def test_journal_outcomes_are_unchanged():
    cases = [
        base.NotFound("no record"),
        base.Timeout("slow"),
        base.Unavailable("down"),
        base.UnexpectedPayload("shape"),
    ]
    kinds = {type(o): errors.from_outcome("men", o).outcome for o in cases}
    assert kinds == {
        base.NotFound: "not_found",
        base.Timeout: "timeout",
        base.Unavailable: "unavailable",
        base.UnexpectedPayload: "provider_error",
    }
    with pytest.raises(ValueError):
        errors.from_outcome("men", base.Found({}))


def test_sandbox_answers_agree_with_the_documentation_except_known_slips():
    """The sandbox payloads say the same as the OpenAPI, except: the SDH's 404 is coded as the
    CNAV's (37003) where its OpenAPI says 41003, and the C2S's 404 is the CNAV's 37003 where
    its OpenAPI says the RNCPS's 40003. We follow the OpenAPI."""
    names = {p.name: p.prefix for p in siade_codes.PROVIDERS.values()}
    for answer in staging_answers():
        item = answer["body"]["errors"][0]
        if answer["status"] == 404 and ("sdh_" in answer["file"] or "solidaire" in answer["file"]):
            assert item["code"] == "37003"
            continue
        provider = item.get("meta", {}).get("provider")
        if provider:
            assert item["code"][:2] == names[provider], answer["file"]
