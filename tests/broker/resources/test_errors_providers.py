"""Provider errors carry siade's codes, titles, statuses and ``meta.provider``, checked against
the answers recorded from API Particulier v3 (tests/fixtures/siade/)."""

from __future__ import annotations

import pytest

from broker.catalogue.scopes import PROVIDERS as DATA_PROVIDERS
from broker.providers import base
from broker.resources import errors, siade_codes
from tests.broker.resources.siade_recorded import documented, documented_item, staging_answers

KEYS = sorted(siade_codes.PROVIDERS)
# The outcome, siade's case (YYY) and the status siade answers it with.
CASES = [
    (base.NotFound("no record"), "003", 404),
    (base.Timeout("slow"), "002", 504),
    (base.Unavailable("down"), "001", 504),
    (base.UnexpectedPayload("shape"), "999", 502),
]
ITEM_KEYS = {"code", "title", "detail", "source", "meta"}


def test_every_data_provider_has_siade_codes():
    assert {p.key for p in DATA_PROVIDERS} <= set(siade_codes.PROVIDERS)


@pytest.mark.parametrize("key", KEYS)
def test_prefix_and_name_are_the_recorded_ones(key):
    """Each provider's XX and meta.provider appear together in a recorded answer."""
    provider = siade_codes.PROVIDERS[key]
    recorded = {
        (item["code"][:2], item["meta"].get("provider"))
        for example in documented()
        for item in example["body"]["errors"]
    }
    name = "DGFIP - Adélie" if key == "dgfip" else provider.name  # API Entreprise's DGFiP
    assert (provider.prefix, name) in recorded


def test_prefixes_and_names_are_distinct():
    providers = siade_codes.PROVIDERS.values()
    assert len({p.prefix for p in providers}) == len({p.name for p in providers}) == len(KEYS)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize(("outcome", "case", "status"), CASES, ids=[c[1] for c in CASES])
def test_outcome_matches_the_recorded_answer(key, outcome, case, status):
    """Code, title, status, source and meta as recorded; for the cases siade records only for
    other providers (the ANTS's timeout), the same case's recorded title and status."""
    provider = siade_codes.PROVIDERS[key]
    error = errors.from_outcome(key, outcome)
    [item] = error.body()["errors"]
    assert item["code"] == provider.prefix + case
    assert set(item) == ITEM_KEYS and item["source"] is None
    assert item["meta"] == {"provider": provider.name}
    try:
        recorded_status, recorded = documented_item(item["code"])
    except LookupError:  # not documented for this provider: the case as documented elsewhere
        recorded_status, recorded = documented_item(siade_codes.PROVIDERS["mesri"].prefix + case)
        recorded = {**recorded, "meta": item["meta"], "code": item["code"]}
    assert error.status == status == recorded_status
    assert item["title"] == recorded["title"]
    if case != "003":  # not-found details differ per product: test_not_found_details_…
        assert apostrophes(item["detail"]) == apostrophes(recorded["detail"])
    assert item["meta"] == {"provider": recorded["meta"]["provider"].split(" - ")[0]}


def apostrophes(text: str) -> str:
    """siade writes "d’attente" for some providers, "d'attente" for others."""
    return text.replace("’", "'")


def test_not_found_details_are_the_recorded_ones():
    """Per provider, the not-found detail of its recorded 404 (OpenAPI or sandbox)."""
    recorded = {
        item["detail"]
        for answer in [*staging_answers(), *documented()]
        if answer["status"] == 404
        for item in answer["body"]["errors"]
    }
    for key in KEYS:
        [item] = errors.from_outcome(key, base.NotFound("x")).body()["errors"]
        assert item["detail"] in recorded, key


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


def test_journal_outcomes_are_unchanged():
    kinds = {type(o): errors.from_outcome("men", o).outcome for o, _, _ in CASES}
    assert kinds == {
        base.NotFound: "not_found",
        base.Timeout: "timeout",
        base.Unavailable: "unavailable",
        base.UnexpectedPayload: "provider_error",
    }
    with pytest.raises(ValueError):
        errors.from_outcome("men", base.Found({}))


def test_sandbox_answers_agree_with_the_documentation_except_known_slips():
    """The sandbox payloads we rely on say the same as the OpenAPI; the SDH's sandbox 404 is
    coded as the CNAV's (37003) where its OpenAPI says 41003: we follow the OpenAPI."""
    for answer in staging_answers():
        item = answer["body"]["errors"][0]
        if "sdh_" in answer["file"] and answer["status"] == 404:
            assert item["code"] == "37003" and item["meta"]["provider"] == "SDH"
            assert documented_item("41003")[1]["meta"]["provider"] == "SDH"
            continue
        provider = item.get("meta", {}).get("provider")
        if provider:
            expected = next(p for p in siade_codes.PROVIDERS.values() if p.name == provider)
            assert item["code"][:2] == expected.prefix, answer["file"]
