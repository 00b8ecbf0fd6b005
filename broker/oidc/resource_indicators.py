"""Resource indicators (RFC 8707): the protected resource an access token is meant for.

The broker issues access tokens for one protected resource, the data API: its public URL
(``OidcConfig.resource_audience``) is every access token's audience, whether or not the client
names it with ``resource``. A client may name it at /authorize, at the pushed authorization
endpoint and at the token endpoint (both grants); any other resource is refused with
``invalid_target``, so that a token is never minted for a resource server the broker does not
serve.

At the token endpoint RFC 8707 §2.2 lets a client ask only for resources granted at
authorization. Every authorization grants the data API (named or defaulted), and nothing else
can be granted, so the check there is the same one; the day a second resource exists, the code
must record which were granted."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749.errors import OAuth2Error

RESOURCE = "resource"


class InvalidTargetError(OAuth2Error):
    """RFC 8707 §2: the requested resource is invalid, missing, unknown, or malformed."""

    error = "invalid_target"


def check_resources(values: Sequence[str], known: str) -> None:
    """Each ``resource`` value a request carries (it may repeat, §2) must be an absolute URI
    without a fragment (§2) and the one resource the broker issues tokens for."""
    for value in values:
        if not absolute_without_fragment(value):
            raise InvalidTargetError(
                "The 'resource' parameter must be an absolute URI without a fragment "
                "(RFC 8707, section 2)."
            )
        if value != known:
            # The value sent is not repeated back (it may be anything); the known one is public.
            raise InvalidTargetError(
                f"Unknown resource: this broker issues access tokens for one resource, the "
                f"data API at {known} (listed as 'protected_resources' in the discovery "
                "document). Send it exactly, or leave 'resource' out."
            )


def absolute_without_fragment(value: str) -> bool:
    """RFC 3986 §4.3's absolute-URI, as far as telling it from a relative reference goes."""
    try:
        parts = urlsplit(value)
    except ValueError:  # an unclosed IPv6 literal, say
        return False
    return bool(parts.scheme and (parts.netloc or parts.path)) and "#" not in value
