"""Product parameters declared by format (``Param`` kind "pattern", single or list) and
identifiers with a product's own format (``Product.identifier_pattern``)."""

from __future__ import annotations

from datetime import date

import pytest

from broker.catalogue.products import IDENTIFIANT, Param, Product
from broker.resources.params import ParameterProblems, parse_query

TODAY = date(2026, 11, 27)
DINUM = "13002526500013"
PLATE = Param("immatriculation", "pattern", True, r"[A-Z]{2}-?[0-9]{3}-?[A-Z]{2}", "Une plaque.")
DEPARTMENTS = Param("codes[]", "pattern", False, r"[0-9]{3}", "Des codes à 3 chiffres.")
BY_PLATE = Product("x/plaque", "dss", ("france_connect",), (PLATE, DEPARTMENTS))
BY_NUMBER = Product("x/numero", "dss", (IDENTIFIANT,), identifier_pattern=r"[0-9]{5}")


def parse(query: dict, product: Product, mode: str = "france_connect"):
    return parse_query(query, product, mode, api_key=False, today=TODAY)


def problems(query: dict, product: Product, mode: str = "france_connect") -> dict[str, str]:
    with pytest.raises(ParameterProblems) as caught:
        parse(query, product, mode)
    return dict(caught.value.problems)


def test_pattern_parameter_is_upper_cased_and_checked():
    assert parse({"immatriculation": ["ab-123-cd"]}, BY_PLATE).params == {
        "immatriculation": "AB-123-CD"
    }
    assert problems({"immatriculation": ["AB-12"]}, BY_PLATE) == {"immatriculation": "Une plaque."}
    assert "immatriculation" in problems({}, BY_PLATE)


def test_list_parameter_takes_every_value_and_checks_each():
    parsed = parse({"immatriculation": ["AB123CD"], "codes[]": ["044", "971"]}, BY_PLATE)
    assert parsed.params["codes[]"] == "044,971"
    found = problems({"immatriculation": ["AB123CD"], "codes[]": ["044", "2A"]}, BY_PLATE)
    assert found == {"codes[]": "Des codes à 3 chiffres."}


def test_identifier_pattern_of_the_product_replaces_the_default():
    query = {"identifiant": ["54321"], "recipient": [DINUM]}
    assert parse(query, BY_NUMBER, IDENTIFIANT).identifier == "54321"
    found = problems({"identifiant": ["ABC1234"], "recipient": [DINUM]}, BY_NUMBER, IDENTIFIANT)
    assert set(found) == {"identifiant"}
