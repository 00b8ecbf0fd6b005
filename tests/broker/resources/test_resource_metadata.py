"""RFC 9728 at the data API: its protected resource metadata, and the ``resource_metadata``
pointer of its 401 challenges (§5.1)."""

from __future__ import annotations

from broker.catalogue.scopes import REGISTRY
from broker.oidc.dpop import SUPPORTED_ALGS
from broker.oidc.dpop_resource import BARE_CHALLENGE, ResourceRefusal
from broker.resources.resource_metadata import (
    metadata_path,
    metadata_url,
    protected_resource_metadata,
    with_resource_metadata,
)
from tests.broker.resources.data_api_kit import QF_IDENTITE, data_api_in_process

ISSUER = "https://broker.example"
RESOURCE = "https://api.example"


def test_metadata_names_the_resource_its_authorization_server_and_data_scopes():
    metadata = protected_resource_metadata(RESOURCE, ISSUER)
    assert metadata["resource"] == RESOURCE
    assert metadata["authorization_servers"] == [ISSUER]
    assert metadata["scopes_supported"] == [s.name for s in REGISTRY.data_scopes()]
    assert "openid" not in metadata["scopes_supported"]  # the broker's, not this resource's
    assert metadata["bearer_methods_supported"] == ["header"]  # never in a query or a body
    assert metadata["dpop_signing_alg_values_supported"] == list(SUPPORTED_ALGS)
    assert metadata["dpop_bound_access_tokens_required"] is False
    assert metadata["resource_name"]
    assert metadata["resource_documentation"] == f"{RESOURCE}/v3/openapi.json"


def test_well_known_location_follows_the_resource_identifier_path():
    """§3.1: the well-known path goes between the host and the identifier's path."""
    assert metadata_path(RESOURCE) == "/.well-known/oauth-protected-resource"
    assert metadata_url(RESOURCE) == f"{RESOURCE}/.well-known/oauth-protected-resource"
    assert metadata_url(RESOURCE + "/") == f"{RESOURCE}/.well-known/oauth-protected-resource"
    nested = "https://gw.example:8443/particulier"
    assert metadata_url(nested) == (
        "https://gw.example:8443/.well-known/oauth-protected-resource/particulier"
    )


def test_every_challenge_points_at_the_metadata():
    pointer = f'resource_metadata="{RESOURCE}/.well-known/oauth-protected-resource"'
    bare = with_resource_metadata({"WWW-Authenticate": BARE_CHALLENGE}, RESOURCE)
    assert bare["WWW-Authenticate"] == (
        f'Bearer {pointer}, DPoP algs="{" ".join(SUPPORTED_ALGS)}", {pointer}'
    )
    refusal = ResourceRefusal("use_dpop_nonce", "Nonce needed.", nonce="7.abc")
    decorated = with_resource_metadata(refusal.headers(), RESOURCE)
    assert decorated["WWW-Authenticate"] == f"{refusal.challenge}, {pointer}"
    assert decorated["DPoP-Nonce"] == "7.abc"  # the other headers kept
    assert with_resource_metadata({"Retry-After": "1"}, RESOURCE) == {"Retry-After": "1"}


def test_the_data_api_serves_its_metadata(state):
    with data_api_in_process(state) as api:
        response = api.get("/.well-known/oauth-protected-resource")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    metadata = response.json()
    # The resource is the tokens' audience: a client asks the broker for exactly that one.
    assert metadata["resource"] == state.settings.resource_server_audience
    assert metadata["resource"] == state.settings.data_api_url.rstrip("/")
    assert metadata["authorization_servers"] == [state.settings.issuer_url]


def test_a_data_api_url_with_a_path_serves_the_metadata_there_too(state):
    with data_api_in_process(state, data_api_url="https://gw.example/particulier") as api:
        nested = api.get("/.well-known/oauth-protected-resource/particulier")
        plain = api.get("/.well-known/oauth-protected-resource")
    assert nested.status_code == plain.status_code == 200
    assert nested.json()["resource"] == "https://gw.example/particulier"


def test_a_refused_call_points_at_the_metadata(state):
    with data_api_in_process(state) as api:
        anonymous = api.get(QF_IDENTITE)
        bad_token = api.get(QF_IDENTITE, headers={"Authorization": "Bearer not.a.token"})
        bad_key = api.get(QF_IDENTITE, headers={"X-Api-Key": "bpk_unknown"})
    url = metadata_url(state.settings.resource_server_audience)
    assert anonymous.status_code == 401
    challenge = anonymous.headers["www-authenticate"]
    assert challenge.startswith(f'Bearer resource_metadata="{url}", DPoP algs=')
    assert challenge.count(f'resource_metadata="{url}"') == 2  # one per challenge
    for refused in (bad_token, bad_key):
        assert refused.status_code == 401
        challenge = refused.headers["www-authenticate"]
        assert challenge.startswith('Bearer error="invalid_token"')
        assert challenge.endswith(f', resource_metadata="{url}"')
        assert set(refused.json()) == {"errors"}  # still the JSON:API body
