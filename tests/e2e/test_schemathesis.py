"""Schemathesis against the live data API, from its own OpenAPI document.

The document is ``openapi_document(data_api.url)``, loaded with ``schemathesis.openapi.from_dict``;
every request goes over real HTTP (``case.call``) to the data API, which calls the provider
simulators. Credentials are real: an API key of a habilitation covering every data scope, and
citizens' access tokens from a real sign-in at the broker (one per demo citizen of the
examples). Each operation gets fixed, derandomized runs without shrinking (positive data,
positive data with a valid recipient, negative data, no credential, the wrong kind of
credential), so the whole file stays bounded and repeatable. Explicit cases complete them: the
documented examples, the simulators' failure scenarios, and negative values hypothesis rarely
draws.

What must hold for every response: no server error (502, 503 and 504 are the providers'
documented failures; a 500 is ours), and the status code, content type, headers and body the
document promises. Failures are collected over the whole run and reported together, grouped
by kind and status, each group with the operations it hit and one reproduction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.strategies import SearchStrategy
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from broker.admin.api_keys import issue_by_operator
from broker.catalogue.products import FRANCE_CONNECT, PRODUCTS
from broker.catalogue.scopes import REGISTRY
from broker.demo import scenarios
from broker.demo.openapi_examples import DINUM, EXAMPLES, example_for
from broker.resources.errors import INTROSPECT_PATH
from broker.resources.openapi import openapi_document
from tests.e2e.data_api_support import identite_params
from tests.helpers import AuthorizationRequest, Browser, habilitate, redeem, register_client

EXAMPLES_PER_RUN = 10
SERVICE = "Service Schemathesis"
# Credentials are ours to send (real ones); 502, 503 and 504 are documented provider failures.
CONFIG = schemathesis.Config.from_str("""
[generation]
with-security-parameters = false

[checks.not_a_server_error]
expected-statuses = ["2xx", "3xx", "4xx", "502", "503", "504"]
""")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
# The test servers' sockets lack TCP_NODELAY: on a kept-alive connection every request waits
# 40 ms for a delayed ACK; a new connection does not.
FRESH_CONNECTION = {"Connection": "close"}
# The France Connect route of each product (v3 and v4 alike) -> its key.
FRANCE_CONNECT_PRODUCTS = {
    p.route(FRANCE_CONNECT): p.key for p in PRODUCTS if FRANCE_CONNECT in p.modes
}


@dataclass(frozen=True)
class Credentials:
    api_key: str
    tokens: dict[str, str]  # demo login -> access token with every data scope

    def headers_for(self, path: str) -> dict[str, str]:
        """The credential the operation documents: in France Connect mode, the token of the
        citizen of the product's example (so that some calls find data), else the API key."""
        if not path.endswith("/" + FRANCE_CONNECT):
            return {"X-Api-Key": self.api_key, **FRESH_CONNECTION}
        login = EXAMPLES[FRANCE_CONNECT_PRODUCTS[path]].login
        return {"Authorization": f"Bearer {self.tokens[login]}", **FRESH_CONNECTION}

    def other_kind(self, path: str) -> dict[str, str]:
        """A valid credential of the kind the operation refuses (403): a key in France Connect
        mode, a citizen's token in the other modes."""
        if path.endswith("/" + FRANCE_CONNECT):
            return {"Authorization": f"Bearer {self.api_key}", **FRESH_CONNECTION}
        token = next(iter(self.tokens.values()))
        return {"Authorization": f"Bearer {token}", **FRESH_CONNECTION}


def _every_data_scope() -> str:
    return " ".join(s.name for s in REGISTRY.data_scopes())


def _access_token(broker, login: str) -> str:
    client = register_client(
        broker.state, name=SERVICE, scope="openid " + _every_data_scope(), habilitated=False
    )
    request = AuthorizationRequest(client)
    browser = Browser(broker.url)
    try:
        received = browser.sign_in(request, login=login)
    finally:
        browser.close()
    response = redeem(broker.url, client, received["code"], request.verifier)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
def credentials(broker) -> Credentials:
    """One service habilitated for every data scope at 600 000 requests a minute (so that rate
    limits never get in the way) with DINUM as its recipient, its API key, and an access
    token per citizen of the examples."""
    habilitation = habilitate(
        broker.state, SERVICE, _every_data_scope(), rate_limit=600_000, recipients=(DINUM,)
    )
    with broker.state.db.transaction() as session:
        issued = issue_by_operator(
            session, "test:e2e", habilitation["id"], "Schemathesis", int(time.time())
        )
        api_key = issued.secret
    logins = {EXAMPLES[p.key].login for p in PRODUCTS if FRANCE_CONNECT in p.modes}
    return Credentials(api_key, {login: _access_token(broker, login) for login in logins})


@dataclass
class Findings:
    """Failures grouped by kind and status: the operations hit, and the first reproduction."""

    groups: dict[tuple[tuple[str, ...], int], dict] = field(default_factory=dict)

    def add(self, where: str, status: int, group: FailureGroup) -> None:
        kinds = tuple(sorted({failure.title for failure in group.exceptions}))
        entry = self.groups.setdefault((kinds, status), {"where": {}, "first": str(group)})
        entry["where"][where] = entry["where"].get(where, 0) + 1

    def report(self) -> str:
        parts = []
        for (kinds, status), entry in sorted(self.groups.items()):
            where = "\n".join(f"  {label}: {count}" for label, count in entry["where"].items())
            parts.append(
                f"{', '.join(kinds)} (HTTP {status}), in:\n{where}\nFirst one:\n{entry['first']}"
            )
        return f"{len(self.groups)} kinds of failure:\n\n" + "\n\n".join(parts)


@dataclass(frozen=True)
class Run:
    name: str
    strategy: SearchStrategy
    headers: dict[str, str]
    examples: int = EXAMPLES_PER_RUN


def _runs(operation, credentials: Credentials) -> list[Run]:
    """Free positive data; positive data with a valid recipient, so that more calls get past
    the parameter checks to the providers; negative data; and a few calls without a
    credential (401) or with the other kind of credential (403). The pings and the resource
    metadata take neither parameters nor credentials: positive data only; the rights
    (``/v3/introspect``) take either credential and no parameter."""
    positive = operation.as_strategy(generation_mode=POSITIVE)
    headers = credentials.headers_for(operation.path)
    if not operation.definition.raw.get("security"):
        return [Run("positive", positive, FRESH_CONNECTION)]
    if not operation.definition.raw.get("parameters"):
        return [
            Run("API key", positive, headers, 2),
            Run("citizen's token", positive, credentials.other_kind(operation.path), 2),
            Run("no credential", positive, FRESH_CONNECTION, 2),
        ]
    with_recipient = operation.as_strategy(generation_mode=POSITIVE, query={"recipient": DINUM})
    return [
        Run("positive", positive, headers),
        Run("positive, valid recipient", with_recipient, headers),
        Run("negative", operation.as_strategy(generation_mode=NEGATIVE), headers),
        Run("no credential", positive, FRESH_CONNECTION, 3),
        Run("the other kind of credential", positive, credentials.other_kind(operation.path), 3),
    ]


def _run(operation, run: Run, base_url: str, findings: Findings) -> None:
    @given(case=run.strategy)
    @settings(
        max_examples=run.examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        response = case.call(base_url=base_url, headers=run.headers, timeout=10)
        try:
            case.validate_response(response, checks=CHECKS, headers=run.headers)
        except FailureGroup as group:
            findings.add(f"{operation.label} [{run.name}]", response.status_code, group)

    check()


def _schema(data_api):
    return schemathesis.openapi.from_dict(
        openapi_document(data_api.url, examples=example_for), config=CONFIG
    )


def test_the_live_data_api_conforms_to_its_openapi_document(broker, data_api, credentials):
    findings = Findings()
    for result in _schema(data_api).get_all_operations():
        operation = result.ok()
        for run in _runs(operation, credentials):
            _run(operation, run, data_api.url, findings)
    assert not findings.groups, findings.report()


def test_each_example_is_what_the_live_api_answers(broker, data_api, credentials):
    """The documented example of every product, sent through schemathesis in the example's
    mode, is exactly what the data API answers, and conforms to the document."""
    schema = _schema(data_api)
    for product in PRODUCTS:
        example = EXAMPLES[product.key]
        path = product.route(example.mode)
        case = schema[path]["GET"].Case(query=example.query(product.key, example.mode))
        response = case.call_and_validate(
            base_url=data_api.url, headers=credentials.headers_for(path), checks=CHECKS
        )
        assert response.status_code == 200, (path, response.text)
        assert response.json()["data"] == example.data, path


# What the data API answers for each scenario citizen of the simulators (docs/simulators.md).
# siade's: a provider unavailable or in maintenance is a 504, like one that timed out.
SCENARIO_STATUSES = {
    scenarios.NOT_FOUND: 404,
    scenarios.SLOW: 504,
    scenarios.SERVER_ERROR: 504,
    scenarios.BAD_GATEWAY: 504,
    scenarios.MALFORMED: 502,
    scenarios.WRONG_SHAPE: 502,
    scenarios.MAINTENANCE: 504,
}


def test_provider_failures_are_documented_responses(broker, data_api, credentials):
    """The simulators' scenarios (not found, slow, broken, in maintenance) through the two
    identifier modes: each answer is the documented error, never a 500."""
    schema = _schema(data_api)
    failures = []
    for path, name in (
        ("/v3/france_travail/statut/identifiant", "identifiant"),
        ("/v3/cnous/etudiant_boursier/ine", "ine"),
    ):
        for scenario in scenarios.SCENARIOS.values():
            query = {name: getattr(scenario, name), "recipient": DINUM}
            case = schema[path]["GET"].Case(query=query)
            response = case.call(
                base_url=data_api.url, headers=credentials.headers_for(path), timeout=10
            )
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as group:
                failures.append(f"{path} {scenario.kind}: {group}")
            if response.status_code != SCENARIO_STATUSES[scenario.kind]:
                failures.append(f"{path} {scenario.kind}: HTTP {response.status_code}")
            retry_after = response.headers.get("retry-after")  # schemathesis: lists, lower case
            if scenario.kind == scenarios.MAINTENANCE and retry_after != ["600"]:
                failures.append(f"{path} maintenance: Retry-After {retry_after}")
    assert not failures, "\n\n".join(failures)


# Characters that str.isdigit() accepts and int() cannot read: superscripts, circled digits.
UNREADABLE_DIGITS = ("²", "①")
NUMBER_PARAMETERS = (
    ("dss/quotient_familial", "identite", "anneeDateNaissance"),
    ("dss/quotient_familial", "identite", "moisDateNaissance"),
    ("dss/quotient_familial", "identite", "jourDateNaissance"),
    ("dss/quotient_familial", "france_connect", "annee"),
    ("dss/quotient_familial", "france_connect", "mois"),
)


def test_number_parameters_refuse_digits_int_cannot_read(broker, data_api, credentials):
    """Negative data schemathesis may draw but rarely does: each must be a documented 422."""
    schema = _schema(data_api)
    failures = []
    for key, mode, name in NUMBER_PARAMETERS:
        example = EXAMPLES[key]
        path = f"/v3/{key}/{mode}"
        for digit in UNREADABLE_DIGITS:
            query = {**example.query(key, mode), "annee": "2026", name: digit}
            case = schema[path]["GET"].Case(query=query)
            response = case.call(base_url=data_api.url, headers=credentials.headers_for(path))
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as group:
                failures.append(f"{path}?{name}={digit}: {group}")
            if response.status_code != 422:
                failures.append(f"{path}?{name}={digit}: HTTP {response.status_code}, not 422")
    assert not failures, "\n\n".join(failures)


def _documented_body(schema, path: str, status: str, name: str) -> dict:
    raw = schema[path]["GET"].definition.raw["responses"][status]
    if "$ref" in raw:
        raw = schema.raw_schema["components"]["responses"][raw["$ref"].rsplit("/", 1)[-1]]
    return raw["content"]["application/json"]["examples"][name]["value"]


def _documented_error(schema, path: str, status: str, name: str) -> dict:
    [item] = _documented_body(schema, path, status, name)["errors"]
    return item


def test_documented_refusals_are_what_the_live_api_answers(broker, data_api, credentials):
    """No credential: the documented 401 body, word for word, with its challenge. A recipient
    the habilitation does not list: the documented 403, naming the allowed SIRETs."""
    schema = _schema(data_api)
    path = "/v3/france_travail/statut/identifiant"
    query = EXAMPLES["france_travail/statut"].query("france_travail/statut", "identifiant")
    case = schema[path]["GET"].Case(query=query)
    response = case.call_and_validate(
        base_url=data_api.url, headers=FRESH_CONNECTION, checks=CHECKS
    )
    assert response.status_code == 401
    assert response.json()["errors"] == [_documented_error(schema, path, "401", "missing")]
    assert "resource_metadata=" in response.headers["www-authenticate"][0]

    other = "11000201100044"  # a valid SIRET, not among the habilitation's recipients
    case = schema[path]["GET"].Case(query={**query, "recipient": other})
    response = case.call_and_validate(
        base_url=data_api.url, headers=credentials.headers_for(path), checks=CHECKS
    )
    assert response.status_code == 403, response.text
    [live] = response.json()["errors"]
    documented = _documented_error(schema, path, "403", "recipient")
    for key in ("code", "title", "source"):
        assert live[key] == documented[key], key
    assert set(live["meta"]) == set(documented["meta"])
    assert live["meta"]["allowed_recipients"] == [DINUM]
    assert live["meta"]["introspect"].endswith(INTROSPECT_PATH)


def test_each_dss_404_is_the_documented_body_of_its_product(broker, data_api, credentials):
    """A citizen no fund knows, at every DSS product in identity mode: the live 404 is, word
    for word, the one documented for that product (35003, 40003 or 37003, siade's)."""
    schema = _schema(data_api)
    failures, codes = [], set()
    for product in (p for p in PRODUCTS if p.provider == "dss" and "identite" in p.modes):
        path = product.route("identite")
        query = {
            name: value
            for name, value in identite_params("scenario_inconnu").items()
            if product.identity_params is None or name in product.identity_params
        }
        case = schema[path]["GET"].Case(query={**query, "recipient": DINUM})
        response = case.call(base_url=data_api.url, headers=credentials.headers_for(path))
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            failures.append(f"{path}: {group}")
        documented = _documented_body(schema, path, "404", "not_found")
        if (response.status_code, response.json()) != (404, documented):
            failures.append(f"{path}: HTTP {response.status_code} {response.text}")
        codes.add(documented["errors"][0]["code"])
    assert not failures, "\n\n".join(failures)
    assert codes == {"35003", "40003", "37003"}


def test_a_school_with_a_perimeter_is_the_documented_00419(broker, data_api, credentials):
    schema = _schema(data_api)
    key = "v4/men/scolarites"
    path = "/v4/men/scolarites/identite"
    query = {
        name: value
        for name, value in EXAMPLES[key].query(key, "identite").items()
        if name != "codesBcnRegions[]"
    }
    query |= {"codeEtablissement": "0440021J", "codesBcnDepartements[]": ["044"]}
    case = schema[path]["GET"].Case(query=query)
    response = case.call_and_validate(
        base_url=data_api.url, headers=credentials.headers_for(path), checks=CHECKS
    )
    documented = _documented_body(schema, path, "422", "exclusive_codesBcnDepartements")
    assert (response.status_code, response.json()) == (422, documented), response.text
    assert documented["errors"][0]["code"] == "00419"
