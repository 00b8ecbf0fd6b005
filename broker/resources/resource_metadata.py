"""The data API described to OAuth clients (RFC 9728, OAuth 2.0 Protected Resource Metadata),
and the ``resource_metadata`` pointer its 401 challenges carry (RFC 9728 §5.1).

The resource identifier is the data API's public URL, which is also every access token's
audience (``OidcConfig.resource_audience``, from ``Settings.data_api_url``): a client that
follows the metadata asks the broker named in ``authorization_servers`` for a token whose
audience is exactly ``resource``. Its well-known URL is built as §3.1 says, the well-known
path inserted between the host and the identifier's path.

Standard library only (and the protocol's constants).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from broker.catalogue.scopes import REGISTRY
from broker.oidc.dpop import SUPPORTED_ALGS
from broker.oidc.dpop_resource import BARE_CHALLENGE, BEARER, DPOP

WELL_KNOWN = "/.well-known/oauth-protected-resource"
RESOURCE_NAME = "API de données du courtier de consentement"
OPENAPI_PATH = "/v3/openapi.json"
CHALLENGE_HEADER = "WWW-Authenticate"


def metadata_path(resource: str) -> str:
    """The path the metadata is served at (§3.1): the well-known path, then the resource
    identifier's own path, if it has one."""
    return WELL_KNOWN + urlsplit(resource).path.rstrip("/")


def metadata_url(resource: str) -> str:
    parts = urlsplit(resource)
    return urlunsplit((parts.scheme, parts.netloc, metadata_path(resource), "", ""))


def protected_resource_metadata(resource: str, issuer: str) -> dict[str, Any]:
    """The metadata document (§2). Tokens are sent in the ``Authorization`` header only (as
    ``Bearer``, or ``DPoP`` for DPoP-bound ones); DPoP is supported, not required for every
    client (the broker requires it of the clients flagged so)."""
    base = resource.rstrip("/")
    return {
        "resource": resource,
        "authorization_servers": [issuer],
        "scopes_supported": [scope.name for scope in REGISTRY.data_scopes()],
        "bearer_methods_supported": ["header"],
        "dpop_signing_alg_values_supported": list(SUPPORTED_ALGS),
        "dpop_bound_access_tokens_required": False,
        "resource_name": RESOURCE_NAME,
        "resource_documentation": base + OPENAPI_PATH,
    }


def with_resource_metadata(headers: dict[str, str], resource: str) -> dict[str, str]:
    """``headers`` with every challenge of their ``WWW-Authenticate`` pointing at the
    metadata (§5.1), whichever scheme it is in: a client that was refused learns there which
    authorization server issues tokens for this API."""
    challenge = headers.get(CHALLENGE_HEADER)
    if not challenge:
        return headers
    pointer = f'resource_metadata="{metadata_url(resource)}"'
    if challenge == BARE_CHALLENGE:
        # Two challenges without parameters of their own besides DPoP's algs: one pointer each.
        dpop_params = challenge.removeprefix(f"{BEARER}, {DPOP} ")
        decorated = f"{BEARER} {pointer}, {DPOP} {dpop_params}, {pointer}"
    else:
        decorated = f"{challenge}, {pointer}"  # one challenge, with parameters already
    return {**headers, CHALLENGE_HEADER: decorated}
