"""OpenID Connect Discovery 1.0 / RFC 8414 metadata: it states only what the broker does."""

from __future__ import annotations

from typing import Any

from broker.keys.keystore import SUPPORTED_ALGS
from broker.oidc.authorize import ACR_LEVELS
from broker.oidc.client_auth import ASSERTION_ALGS
from broker.oidc.config import OidcConfig
from broker.oidc.dpop import SUPPORTED_ALGS as DPOP_ALGS
from broker.oidc.encryption import ENCRYPTION_ALGS, ENCRYPTION_ENCS
from broker.oidc.models import AUTH_METHODS
from broker.oidc.screening import OFFLINE_ACCESS


def metadata(config: OidcConfig, scopes: list[str], claims: list[str]) -> dict[str, Any]:
    return {
        "issuer": config.issuer,
        "authorization_endpoint": config.authorization_endpoint,
        "token_endpoint": config.token_endpoint,
        "userinfo_endpoint": config.userinfo_endpoint,
        "jwks_uri": config.jwks_uri,
        "end_session_endpoint": config.end_session_endpoint,
        "revocation_endpoint": config.revocation_endpoint,
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "revocation_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        **pushed_requests(config),
        **protected_resources(config),
        "dpop_signing_alg_values_supported": list(DPOP_ALGS),
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        # offline_access is accepted (refresh tokens come with recurring consents).
        "scopes_supported": [*scopes, OFFLINE_ACCESS],
        "claims_supported": claims,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": list(SUPPORTED_ALGS),
        "id_token_encryption_alg_values_supported": list(ENCRYPTION_ALGS),
        "id_token_encryption_enc_values_supported": list(ENCRYPTION_ENCS),
        "userinfo_signing_alg_values_supported": list(SUPPORTED_ALGS),
        "userinfo_encryption_alg_values_supported": list(ENCRYPTION_ALGS),
        "userinfo_encryption_enc_values_supported": list(ENCRYPTION_ENCS),
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "acr_values_supported": list(ACR_LEVELS),
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        # Request objects by reference (OpenID Connect Core §6.2): not fetched. A request_uri
        # from the pushed authorization endpoint is a different thing, always accepted.
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": False,
        "claim_types_supported": ["normal"],
        "ui_locales_supported": ["fr", "en"],
    }


def pushed_requests(config: OidcConfig) -> dict[str, Any]:
    """RFC 9126 §5; a client may also be required to push on its own (its registration)."""
    return {
        "pushed_authorization_request_endpoint": config.pushed_authorization_request_endpoint,
        "require_pushed_authorization_requests": config.require_pushed_authorization_requests,
    }


def protected_resources(config: OidcConfig) -> dict[str, Any]:
    """RFC 9728 §4: the resources this broker issues tokens for, the data API alone; its own
    metadata is at its /.well-known/oauth-protected-resource. A client names it as the
    ``resource`` (RFC 8707) and finds it as every access token's audience."""
    return {"protected_resources": [config.resource_audience]}


def authorization_server_metadata(config: OidcConfig) -> dict[str, Any]:
    """RFC 8414 metadata for the data providers, the only parties allowed to introspect: the
    introspection endpoint is described here, not in the OpenID Connect discovery that
    services read, where it would promise them an endpoint that refuses them."""
    return {
        "issuer": config.issuer,
        "authorization_endpoint": config.authorization_endpoint,
        "token_endpoint": config.token_endpoint,
        "jwks_uri": config.jwks_uri,
        "response_types_supported": ["code"],
        **pushed_requests(config),
        **protected_resources(config),
        "introspection_endpoint": config.introspection_endpoint,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
        "introspection_signing_alg_values_supported": [SUPPORTED_ALGS[0]],
    }
