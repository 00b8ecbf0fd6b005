"""The data API's OpenAPI document: valid OpenAPI 3.1, generated from the whole catalogue, and
saying what the code does (parameters as params.py enforces them, fields as the registry
releases them, examples that fit their own schemas)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from datetime import date

import jsonschema_rs
import pytest
import schemathesis

from broker.catalogue.products import FRANCE_CONNECT, PRODUCTS, Product
from broker.catalogue.products import product as product_of
from broker.catalogue.scopes import REGISTRY, fields_for
from broker.core.outages import RETRY_AFTER
from broker.demo.openapi_examples import EXAMPLES, example_for
from broker.providers import base
from broker.providers.adapters.men import check_where
from broker.resources import errors
from broker.resources.credentials import ACCESS_TOKEN, API_KEY
from broker.resources.errors import INTROSPECT_PATH, PROVIDER_CODES
from broker.resources.openapi import RESOURCE_METADATA_PATH, openapi_document
from broker.resources.openapi_params import NAME_PATTERN, PROVIDER_IDENTIFIERS
from broker.resources.openapi_responses import STORE_RETRY_AFTER
from broker.resources.openapi_schemas import schema_name
from broker.resources.params import NAME, ParameterProblems, parse_query
from broker.resources.recipients import check_recipient
from broker.resources.resource_metadata import WELL_KNOWN, protected_resource_metadata
from broker.resources.rights import (
    ACTIVE,
    REVOKED,
    CredentialView,
    HabilitationView,
    RateLimitView,
    describe,
)

TODAY = date(2026, 11, 27)
DOC = openapi_document("http://data.example/", today=TODAY, examples=example_for)
ERROR_STATUSES = {"401", "403", "404", "422", "429", "502", "503", "504"}
OPERATIONS = [(p, mode) for p in PRODUCTS for mode in p.modes]


def validator(name: str) -> jsonschema_rs.Validator:
    """A validator for a component schema, its ``$ref``s resolved within the document."""
    return jsonschema_rs.validator_for(
        {"$ref": f"#/components/schemas/{name}", "components": DOC["components"]}
    )


def operation(product: Product, mode: str) -> dict:
    return DOC["paths"][product.route(mode)]["get"]


def deref(node: dict) -> dict:
    """``node``, or what its ``$ref`` points to in the document."""
    while "$ref" in node:
        target = DOC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


# -- the document as a whole -----------------------------------------------------------------


def test_is_a_valid_openapi_3_1_document_that_schemathesis_loads():
    assert DOC["openapi"].startswith("3.1.")
    schema = schemathesis.openapi.from_dict(DOC)
    schema.validate()  # the OpenAPI 3.1 meta-schema (jsonschema_rs, shipped with schemathesis)
    assert len(list(schema.get_all_operations())) == len(DOC["paths"])
    json.dumps(DOC)  # plain JSON, ready to serve


def test_every_schema_is_valid_json_schema_2020_12():
    for name, schema in DOC["components"]["schemas"].items():
        jsonschema_rs.meta.validate(schema)
        validator(name)  # compiles: references resolve, patterns are valid regexes
    for product, mode in OPERATIONS:
        for parameter in operation(product, mode)["parameters"]:
            jsonschema_rs.validator_for(parameter["schema"])


def test_servers_is_the_given_url():
    assert DOC["servers"] == [{"url": "http://data.example"}]


def test_standard_library_and_broker_modules_only():
    code = (
        "import sys, broker.resources.openapi\n"
        "extra = {m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names)\n"
        "print(sorted(m for m in extra if not m.startswith('_') and m != 'broker'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# -- paths and operations --------------------------------------------------------------------


def test_one_path_per_product_and_mode_the_pings_and_the_access_paths():
    expected = {p.route(mode) for p, mode in OPERATIONS}
    expected |= {"/v3/ping"} | {f"/v3/{p.key}/ping" for p in REGISTRY.providers()}
    expected |= {INTROSPECT_PATH, WELL_KNOWN}
    assert set(DOC["paths"]) == expected
    assert all(set(item) == {"get"} for item in DOC["paths"].values())


def test_operation_ids_are_unique_and_tags_declared():
    operations = [item["get"] for item in DOC["paths"].values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    declared = {tag["name"] for tag in DOC["tags"]}
    assert {tag for op in operations for tag in op["tags"]} <= declared
    assert {p.key for p in REGISTRY.providers()} <= declared


@pytest.mark.parametrize(("product", "mode"), OPERATIONS, ids=lambda v: getattr(v, "key", v))
def test_product_operation_summary_tags_and_security(product, mode):
    op = operation(product, mode)
    assert op["summary"].startswith(product.title_fr)
    assert product.title_en in op["description"]
    assert op["tags"] == [product.provider]
    assert op["x-scopes"] == sorted(product.scope_names())
    for scope in product.scopes():
        assert scope.label_fr in op["description"] and scope.label_en in op["description"]
    schemes = {name for requirement in op["security"] for name in requirement}
    if mode == FRANCE_CONNECT:
        assert schemes == {"citizenAccessToken"}
    else:
        assert schemes == {"apiKeyBearer", "apiKeyHeader"}
        header = DOC["components"]["securitySchemes"]["apiKeyHeader"]
        assert (header["in"], header["name"]) == ("header", "X-Api-Key")


# -- parameters ------------------------------------------------------------------------------


def _query_parameters(product: Product, mode: str) -> dict[str, dict]:
    return {p["name"]: p for p in operation(product, mode)["parameters"] if p["in"] == "query"}


@pytest.mark.parametrize(("product", "mode"), OPERATIONS, ids=lambda v: getattr(v, "key", v))
def test_required_parameters_are_those_params_py_requires(product, mode):
    """An empty query is refused for exactly the parameters the document marks required."""
    documented = _query_parameters(product, mode)
    try:
        parse_query({}, product, mode, api_key=mode != FRANCE_CONNECT, today=TODAY)
        refused: set[str] = set()
    except ParameterProblems as exc:
        refused = {name for name, _ in exc.problems}
    assert refused == {name for name, p in documented.items() if p["required"]}


@pytest.mark.parametrize(("product", "mode"), OPERATIONS, ids=lambda v: getattr(v, "key", v))
def test_every_documented_parameter_is_accepted_and_no_other(product, mode):
    documented = _query_parameters(product, mode)
    for name in documented:
        try:
            parse_query({name: ["x"]}, product, mode, api_key=True, today=TODAY)
        except ParameterProblems as exc:
            assert (
                name,
                "Paramètre inconnu pour ce produit et ce mode d'appel.",
            ) not in exc.problems
    with pytest.raises(ParameterProblems) as refused:
        parse_query({"nonDocumente": ["x"]}, product, mode, api_key=True, today=TODAY)
    assert "nonDocumente" in {name for name, _ in refused.value.problems}


def test_given_names_are_a_form_exploded_array():
    identite = next(p for p in PRODUCTS if "identite" in p.modes)
    given = _query_parameters(identite, "identite")["prenoms[]"]
    assert (given["style"], given["explode"], given["required"]) == ("form", True, True)
    assert given["schema"]["type"] == "array"


def test_recipient_is_a_siret_required_but_with_a_citizen_token():
    for product, mode in OPERATIONS:
        recipient = _query_parameters(product, mode)["recipient"]
        assert recipient["schema"]["pattern"] == r"^\d{14}$"
        assert recipient["required"] is (mode != FRANCE_CONNECT)


def test_the_name_pattern_promises_no_letter_the_server_refuses():
    letters = re.findall(r"\[(.*?)\]", NAME_PATTERN)[0]
    ranges = re.findall(r"(.)-(.)", letters)
    assert ranges
    for low, high in ranges:
        for code in range(ord(low), ord(high) + 1):
            assert NAME.match(chr(code)), hex(code)


@pytest.mark.parametrize(("product", "mode"), OPERATIONS, ids=lambda v: getattr(v, "key", v))
def test_parameter_examples_fit_their_schemas_and_pass_params_py(product, mode):
    documented = _query_parameters(product, mode)
    examples = {name: p["example"] for name, p in documented.items() if "example" in p}
    for name, value in examples.items():
        jsonschema_rs.validate(documented[name]["schema"], value)
    query = {
        name: [str(v) for v in value] if isinstance(value, list) else [str(value)]
        for name, value in examples.items()
    }
    parse_query(query, product, mode, api_key=mode != FRANCE_CONNECT, today=TODAY)


# -- responses -------------------------------------------------------------------------------


def _walk(schema: dict, path: str) -> dict:
    """The schema of a registry field path (``allocataires[].prenoms``) inside ``schema``."""
    for part in path.split("."):
        name = part.removesuffix("[]")
        schema = schema["properties"][name]
        if part.endswith("[]"):
            assert "array" in schema["type"], path
            schema = schema["items"]
    return schema


@pytest.mark.parametrize("product", PRODUCTS, ids=lambda p: p.key)
def test_every_registry_field_of_the_product_is_in_its_200_schema(product):
    data = DOC["components"]["schemas"][schema_name(product, "Data")]
    fields = [f for scope in product.scopes() for f in fields_for(scope, product.path)]
    assert fields
    for field in fields:
        assert _walk(data, field), field
    for mode in product.modes:
        success = operation(product, mode)["responses"]["200"]["content"]["application/json"]
        assert deref(success["schema"])["properties"]["data"] == {
            "$ref": f"#/components/schemas/{schema_name(product, 'Data')}"
        }


@pytest.mark.parametrize("product", PRODUCTS, ids=lambda p: p.key)
def test_each_product_has_one_example_that_fits_its_schema(product):
    example = EXAMPLES[product.key]
    assert example.mode in product.modes
    body = deref({"$ref": f"#/components/examples/{schema_name(product, 'Example')}"})["value"]
    assert body["data"] == example.data
    validator(schema_name(product, "Response")).validate(body)
    for mode in product.modes:
        success = operation(product, mode)["responses"]["200"]["content"]["application/json"]
        assert deref(success["examples"]["demo"])["value"] is body


def test_a_field_beyond_the_registry_does_not_fit():
    """The data schemas are closed: they also say what masking never lets out."""
    product = PRODUCTS[0]
    check = validator(schema_name(product, "Response"))
    data = dict(EXAMPLES[product.key].data)
    assert check.is_valid({"data": data, "links": {}, "meta": {}})
    assert not check.is_valid(
        {"data": {**data, "numero_allocataire": "1"}, "links": {}, "meta": {}}
    )
    enfants = [{**data["enfants"][0], "numero": 1}]
    assert not check.is_valid({"data": {**data, "enfants": enfants}, "links": {}, "meta": {}})


def _not_found(product: Product, mode: str) -> errors.ApiError:
    """The 404 errors.py answers ``product`` called in ``mode`` with."""
    return errors.from_outcome(
        product.provider, base.NotFound("aucun dossier"), product=product.key, mode=mode
    )


@pytest.mark.parametrize(("product", "mode"), OPERATIONS, ids=lambda v: getattr(v, "key", v))
def test_error_responses_and_headers(product, mode):
    responses = operation(product, mode)["responses"]
    assert set(responses) == {"200"} | ERROR_STATUSES
    errors_schema = validator("Errors")
    not_found = _not_found(product, mode).items[0]
    for status in ERROR_STATUSES:
        response = deref(responses[status])
        assert response["headers"]["X-Request-ID"]["required"]
        content = response["content"]["application/json"]
        assert content["schema"] == {"$ref": "#/components/schemas/Errors"}
        # a 404 is the product's (siade words some per mode); every other code the provider's
        prefixes = {
            "00",
            not_found.code[:2] if status == "404" else PROVIDER_CODES[product.provider],
        }
        for example in content["examples"].values():
            errors_schema.validate(example["value"])
            items = example["value"]["errors"]
            assert {item["code"][:2] for item in items} <= prefixes, status
            assert {i["meta"]["provider"] for i in items if "provider" in i["meta"]} <= set(
                errors.SIADE_NAMES
            )
    [documented] = deref(responses["404"])["content"]["application/json"]["examples"].values()
    assert documented["value"] == _not_found(product, mode).body()
    success_headers = responses["200"]["headers"]
    for name in ("X-Request-ID", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"):
        assert success_headers[name]["required"], name
    assert deref(responses["429"])["headers"]["Retry-After"]["required"]
    for status in ("503", "504"):  # our stores' outages; a provider's maintenance
        assert not deref(responses[status])["headers"]["Retry-After"]["required"]
    assert deref(responses["401"])["headers"]["WWW-Authenticate"]["required"]


def test_dss_404s_are_each_product_s_and_mode_s():
    """siade's DSS paths: the CAF and the MSA (35003) for most, the RNCPS (40003) for the C2S,
    the CNAV (37003) for the EAJE, worded per mode; every other failure the CNAV's (37)."""
    expected = {
        "dss/quotient_familial": ("35003", "CNAF & MSA"),
        "dss/complementaire_sante_solidaire": ("40003", "RNCPS"),
        "dss/participation_familiale_eaje": ("37003", "CNAV"),
    }
    for key, (code, name) in expected.items():
        found = product_of(key)
        assert found is not None
        details = set()
        for mode in found.modes:
            [example] = deref(operation(found, mode)["responses"]["404"])["content"][
                "application/json"
            ]["examples"].values()
            [item] = example["value"]["errors"]
            assert (item["code"], item["meta"]["provider"]) == (code, name), (key, mode)
            details.add(item["detail"])
            timeout = deref(operation(found, mode)["responses"]["504"])["content"]
            codes = {
                i["code"]
                for ex in timeout["application/json"]["examples"].values()
                for i in ex["value"]["errors"]
            }
            assert codes == {"37002", "37001", "00501"}, (key, mode)
        if key != "dss/quotient_familial":
            assert len(details) == len(found.modes) == 2, key


def _provider_errors(product: Product, mode: str) -> list[errors.ApiError]:
    """Every error errors.py answers a provider outcome of ``product`` in ``mode`` with."""
    outcomes: list[base.Outcome] = [
        base.NotFound("aucun dossier"),
        base.InvalidInput("refusé", "nomNaissance"),
        base.Timeout("slow"),
        base.Unavailable("down"),
        base.Unavailable("refused", unreachable=True),
        base.Maintenance(retry_in=600),
        base.UnexpectedPayload("shape"),
    ]
    if product.provider == "men":  # the MEN adapter's refusals of a school with a perimeter
        for perimeter in ("codesBcnDepartements[]", "codesBcnRegions[]"):
            refusal = check_where({"codeEtablissement": "0751234A", perimeter: "044"})
            assert isinstance(refusal, base.InvalidInput)
            outcomes.append(refusal)
    return [
        errors.from_outcome(product.provider, outcome, product=product.key, mode=mode)
        for outcome in outcomes
    ]


def _sent_errors(product: Product, mode: str) -> list[errors.ApiError]:
    """Every error errors.py (and recipients.py) answers a call of ``product`` with."""
    try:
        check_recipient("13002526500013", ("11000201100044",))
    except errors.ApiError as refusal:
        recipient = refusal
    return [
        *_provider_errors(product, mode),
        errors.unauthorized("x", {"WWW-Authenticate": "Bearer"}, reason=errors.EXPIRED),
        errors.forbidden("x"),
        recipient,
        errors.rate_limited(12),
        errors.invalid_parameters([("recipient", "Ce paramètre est obligatoire.")]),
        errors.store_unavailable(RETRY_AFTER),
        errors.rate_limit_store_unavailable(),
        errors.journal_unavailable(),
    ]


@pytest.mark.parametrize("product", PRODUCTS, ids=lambda p: p.key)
def test_every_error_the_api_sends_is_documented_with_its_status_and_headers(product):
    """The status of each error is documented in every mode, with the headers it carries
    (maintenance: 504 with Retry-After) and an example with its code and title."""
    for mode in product.modes:
        responses = operation(product, mode)["responses"]
        for error in _sent_errors(product, mode):
            response = deref(responses[str(error.status)])
            assert set(error.headers) <= set(response["headers"]), (mode, error.code)
            examples = response["content"]["application/json"]["examples"].values()
            documented = {
                (item["code"], item["title"]) for ex in examples for item in ex["value"]["errors"]
            }
            assert (error.code, error.items[0].title) in documented, (mode, error.code)


@pytest.mark.parametrize(("product", "mode"), OPERATIONS, ids=lambda v: getattr(v, "key", v))
def test_provider_outcomes_are_documented_exactly(product, mode):
    """The provider failures' examples are errors.py's bodies for this product and mode, as
    they are sent (00419 where a school and a perimeter may be given together)."""
    responses = operation(product, mode)["responses"]
    for error in _provider_errors(product, mode):
        examples = deref(responses[str(error.status)])["content"]["application/json"]
        assert error.body() in [ex["value"] for ex in examples["examples"].values()], error.code
    maintenance = errors.from_outcome("cnous", base.Maintenance(retry_in=600))
    assert maintenance.status == 504 and maintenance.items[0].meta["retry_in"] == 600


def test_school_and_perimeter_together_is_documented_as_00419():
    for key in ("men/scolarites", "v4/men/scolarites"):
        found = product_of(key)
        assert found is not None
        examples = deref(operation(found, "identite")["responses"]["422"])["content"][
            "application/json"
        ]["examples"].values()
        codes = {item["code"] for ex in examples for item in ex["value"]["errors"]}
        assert "00419" in codes, key


def test_unreachable_provider_is_00501_without_meta_provider():
    product = product_of("cnous/etudiant_boursier")
    assert product is not None
    examples = deref(operation(product, "ine")["responses"]["504"])["content"]["application/json"]
    [item] = examples["examples"]["unreachable"]["value"]["errors"]
    assert item["code"] == "00501" and "provider" not in item["meta"]
    assert item["meta"]["retry_in"] == 10


def test_meta_provider_enum_is_every_name_errors_py_sends():
    enum = DOC["components"]["schemas"]["ErrorItem"]["properties"]["meta"]["properties"][
        "provider"
    ]["enum"]
    assert set(enum) == set(errors.SIADE_NAMES)
    assert {"CNAF & MSA", "RNCPS", "CNAV"} <= set(enum)


def test_a_recipient_not_bound_is_documented_with_the_allowed_ones():
    product = product_of("cnous/etudiant_boursier")
    assert product is not None
    forbidden = deref(operation(product, "ine")["responses"]["403"])
    [item] = forbidden["content"]["application/json"]["examples"]["recipient"]["value"]["errors"]
    assert item["meta"]["allowed_recipients"] == ["11000201100044"]
    assert item["source"] == {"parameter": "recipient"}
    assert item["meta"]["introspect"] == INTROSPECT_PATH
    scope = forbidden["content"]["application/json"]["examples"]["scope"]["value"]["errors"][0]
    assert all(name in scope["detail"] for name in product.scope_names())


def test_the_store_outage_wait_is_the_one_the_api_sends():
    assert STORE_RETRY_AFTER == RETRY_AFTER


# -- the access paths: rights and protected resource metadata ---------------------------------


HABILITATION = HabilitationView(
    id="hab-1",
    status=ACTIVE,
    purpose="Tarification sociale de la cantine scolaire",
    legal_basis="Code de l'éducation, article L. 131-13",
    legal_basis_url="https://www.legifrance.gouv.fr/",
    expires_at=2_000_000_000,
    scopes=frozenset({"cnaf_quotient_familial", "cnaf_enfants"}),
)
KEY = CredentialView(
    kind=API_KEY, id="key-1", name="Logiciel", scopes=HABILITATION.scopes, expires_at=None
)
TOKEN = CredentialView(
    kind=ACCESS_TOKEN,
    id="jti-1",
    name="CCAS",
    scopes=frozenset({"openid", "profile", *HABILITATION.scopes}),
    expires_at=1_900_000_000,
    dpop_bound=True,
    client_id="client-1",
    consent_expires_at=1_950_000_000,
)


def test_introspect_takes_both_credentials_and_answers_rights_py_shape():
    op = DOC["paths"][INTROSPECT_PATH]["get"]
    schemes = {name for requirement in op["security"] for name in requirement}
    assert schemes == {"apiKeyBearer", "apiKeyHeader", "citizenAccessToken"}
    assert set(op["responses"]) == {"200", "401", "403", "503"}
    check = validator("Introspection")
    limit = RateLimitView(limit=1200, window_seconds=60, platform_default=True)
    for credential in (KEY, TOKEN):
        for habilitation in (HABILITATION, replace(HABILITATION, status=REVOKED)):
            described = describe(credential, ("svc-1", "CCAS"), habilitation, limit, ("1" * 14,))
            check.validate(json.loads(json.dumps(described)))
    assert not check.is_valid({**described, "secret": "x"})
    assert not check.is_valid({**described, "allowed_recipients": ["123"]})


def test_introspect_refusals_are_the_api_s():
    responses = DOC["paths"][INTROSPECT_PATH]["get"]["responses"]
    assert deref(responses["401"])["headers"]["WWW-Authenticate"]["required"]
    [example] = responses["403"]["content"]["application/json"]["examples"].values()
    assert example["value"]["errors"][0]["code"] == "00100"
    assert deref(responses["503"])["headers"]["Retry-After"]["required"]


def test_protected_resource_metadata_is_documented():
    assert RESOURCE_METADATA_PATH == WELL_KNOWN
    op = DOC["paths"][WELL_KNOWN]["get"]
    assert op["security"] == []
    metadata = protected_resource_metadata("https://data.example", "https://broker.example")
    validator("ResourceMetadata").validate(metadata)
    assert not validator("ResourceMetadata").is_valid({**metadata, "resource": 1})


# -- identifier modes ---------------------------------------------------------------------------


def test_each_identifier_is_worded_as_its_provider_s():
    identifier_products = [p for p, mode in OPERATIONS if mode == "identifiant"]
    assert {p.provider for p in identifier_products} <= set(PROVIDER_IDENTIFIERS)
    sport = product_of("sdh/statut_sportif")
    assert sport is not None
    op = operation(sport, "identifiant")
    [identifiant] = [p for p in op["parameters"] if p["name"] == "identifiant"]
    for text in (op["summary"], op["description"], identifiant["description"]):
        assert "France Travail" not in text and "Sports" in text
    jobseeker = product_of("france_travail/statut")
    assert jobseeker is not None
    assert "France Travail" in operation(jobseeker, "identifiant")["summary"]


def test_pings_need_no_credential():
    for path in ("/v3/ping", *(f"/v3/{p.key}/ping" for p in REGISTRY.providers())):
        assert DOC["paths"][path]["get"]["security"] == []


def _parameters(key: str, mode: str) -> dict[str, dict]:
    found = product_of(key)
    assert found is not None
    return {p["name"]: p for p in operation(found, mode)["parameters"]}


def test_v4_routes_are_documented_beside_v3_with_their_own_data():
    for key in ("cnous/etudiant_boursier", "men/scolarites"):
        v3, v4 = product_of(key), product_of(f"v4/{key}")
        assert v3 is not None and v4 is not None
        for mode in v4.modes:
            assert f"/v3/{key}/{mode}" in DOC["paths"] and f"/v4/{key}/{mode}" in DOC["paths"]
            assert operation(v4, mode)["operationId"] == f"v4_{key.replace('/', '_')}_{mode}"
    schemas = DOC["components"]["schemas"]
    v3_status = schemas["CnousEtudiantBoursierData"]["properties"]
    v4_status = schemas["V4CnousEtudiantBoursierData"]["properties"]
    assert "est_boursier" in v3_status and "statut_boursier" not in v3_status
    assert "statut_boursier" in v4_status and "est_boursier" not in v4_status
    assert set(v4_status["statut_boursier"]["properties"]) == {
        "est_boursier",
        "est_radie",
        "date_radiation",
    }


def test_scolarites_takes_a_school_or_a_perimeter_in_v3_and_v4():
    for key in ("men/scolarites", "v4/men/scolarites"):
        men = _parameters(key, "identite")
        assert men["anneeScolaire"]["required"], key
        for name in ("codeEtablissement", "degreEtablissement", "codesBcnDepartements[]"):
            assert not men[name]["required"], (key, name)
        departments = re.compile(men["codesBcnDepartements[]"]["schema"]["items"]["pattern"])
        assert departments.match("044") and departments.match("02A")
        assert not departments.match("44")
        assert men["codesBcnRegions[]"]["schema"]["type"] == "array"
        degree = re.compile(men["degreEtablissement"]["schema"]["pattern"])
        assert degree.match("2D") and not degree.match("3D")
        assert {"nomUsage", "codeCogInseePaysNaissance"}.isdisjoint(men)
    assert _parameters("v4/men/scolarites", "identite")["codesBcnRegions[]"]["example"] == ["52"]


def test_identity_mode_lists_the_products_own_identity_parameters():
    every = _parameters("dss/participation_familiale_eaje", "identite")
    assert {"nomCommuneNaissance", "codeCogInseeDepartementNaissance", "nomUsage"} <= set(every)
    student = _parameters("v4/cnous/etudiant_boursier", "identite")
    assert "codeCogInseePaysNaissance" not in student and "nomCommuneNaissance" in student


def test_aeeh_status_is_one_of_its_three_values():
    data = DOC["components"]["schemas"]["DssAllocationEnfantHandicapeData"]["properties"]
    assert data["status"]["enum"] == ["allocataire", "ouvrant_droit", "non_beneficiaire", None]
    eaje = DOC["components"]["schemas"]["DssParticipationFamilialeEajeData"]["properties"]
    fee = eaje["parametres_calcul_participation_familiale"]["properties"]
    assert fee["nombre_enfants_a_charge"]["type"] == ["integer", "null"]
