"""The worked examples of the data API's OpenAPI document: the query of each is exactly what the
product takes (in identity mode, only its own identity parameters), and the data API's parameter
reader accepts it as is."""

from __future__ import annotations

from datetime import date

import pytest

from broker.catalogue.products import IDENTITE, IDENTITY_PARAMETERS, PRODUCTS
from broker.demo.openapi_examples import DINUM, EXAMPLES, identity_query
from broker.resources.params import parse_query

TODAY = date(2026, 11, 27)
OPERATIONS = [(p, mode) for p in PRODUCTS for mode in p.modes]


def as_sent(query: dict) -> dict[str, list[str]]:
    return {k: [str(x) for x in v] if isinstance(v, list) else [str(v)] for k, v in query.items()}


@pytest.mark.parametrize(("product", "mode"), OPERATIONS, ids=lambda v: getattr(v, "key", v))
def test_each_example_query_is_accepted_by_the_data_api(product, mode):
    query = EXAMPLES[product.key].query(product.key, mode)
    parse_query(as_sent(query), product, mode, api_key=mode != "france_connect", today=TODAY)


@pytest.mark.parametrize(
    "product", [p for p in PRODUCTS if IDENTITE in p.modes], ids=lambda p: p.key
)
def test_identity_examples_send_only_the_identity_parameters_the_product_takes(product):
    example = EXAMPLES[product.key]
    query = example.query(product.key, IDENTITE)
    sent = set(query) & set(IDENTITY_PARAMETERS)
    takes = set(product.identity_params or IDENTITY_PARAMETERS)
    assert sent <= takes, sorted(sent - takes)
    # Nothing the product takes and the citizen has is left out.
    assert sent == set(identity_query(example.login)) & takes
    assert set(query) - sent == {"recipient", *example.params}


def test_civic_service_example_sends_the_names_and_birth_date_only():
    """GIP-MDS searches the DSN on the names and the complete birth date: the example's citizen
    also has a sex, a country and a commune, which are not sent."""
    query = EXAMPLES["gip_mds/service_civique"].query("gip_mds/service_civique", IDENTITE)
    assert query == {
        "nomNaissance": "LAMBERT",
        "prenoms[]": ["Inès", "Clara"],
        "anneeDateNaissance": 2006,
        "moisDateNaissance": 4,
        "jourDateNaissance": 12,
        "recipient": DINUM,
    }


def test_without_a_product_s_restriction_every_known_part_of_the_identity_is_sent():
    assert identity_query("avec_nom_dusage") == {
        "nomNaissance": "MERCIER",
        "nomUsage": "DUBOIS",
        "prenoms[]": ["Pierre"],
        "anneeDateNaissance": 1969,
        "moisDateNaissance": 3,
        "jourDateNaissance": 17,
        "sexeEtatCivil": "M",
        "codeCogInseePaysNaissance": "99100",
        "codeCogInseeCommuneNaissance": "95277",
    }
    student = ("nomNaissance", "prenoms[]", "anneeDateNaissance")
    assert identity_query("avec_nom_dusage", student) == {
        "nomNaissance": "MERCIER",
        "prenoms[]": ["Pierre"],
        "anneeDateNaissance": 1969,
    }


def test_an_unknown_product_is_refused():
    with pytest.raises(KeyError):
        EXAMPLES["dss/quotient_familial"].query("nope/nothing", IDENTITE)
