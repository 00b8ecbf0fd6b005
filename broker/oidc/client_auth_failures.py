"""Why a client authentication failed, told to the service's developer: ``invalid_client``
(RFC 6749 §5.2) with a description that starts "client authentication failed:" and says what
to fix, always with 401 and a challenge (§5.2 requires them when the client tried the
Authorization header, and one status whatever the method keeps the answer simple to handle).

What is said, and why it is safe to say:
- which method the request used, and which one the client is registered for: the methods are
  public (discovery), and one client uses one;
- that no client is registered under the identifier sent: client identifiers are public (they
  travel in every authorization URL, and /authorize already tells an unknown one apart);
- that a secret does not match, never whether it is a previous one or how near it came;
- why an assertion was refused (signature, audience, expiry, replay): it names the checks
  of RFC 7523, never the keys.
No value the request carried is repeated back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from joserfc import jws
from joserfc.errors import JoseError

from broker.oidc.models import AUTH_METHODS, SECRET_METHODS
from broker.oidc.screening import plain_text

PREFIX = "client authentication failed: "
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_CLIENT_ID_LENGTH = 255
# RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E.
DESCRIPTION_CHARACTERS = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}
# authlib decodes HTTP Basic credentials as UTF-8 and lets a decoding error through: a header
# that is not UTF-8 once base64-decoded is unreadable credentials, not a server error.
UNREADABLE_CREDENTIALS = (UnicodeDecodeError, ValueError)
NOT_BASIC_CREDENTIALS = (
    "the Authorization header is not HTTP Basic client credentials: the base64 of "
    "client_id:client_secret, each form-urlencoded first (RFC 6749, section 2.3.1)"
)


def failure(description: str) -> InvalidClientError:
    safe = "".join(c if c in DESCRIPTION_CHARACTERS else "?" for c in description)
    return InvalidClientError(description=PREFIX + safe, status_code=401)


def presented_methods(request) -> list[str]:
    """The authentication methods the request carries credentials for, in AUTH_METHODS order."""
    form = request.form
    header = request.headers.get("Authorization") or ""
    carried = {
        "client_secret_basic": header[:6].lower() == "basic ",
        "client_secret_post": "client_secret" in form,
        "private_key_jwt": "client_assertion" in form or "client_assertion_type" in form,
    }
    return [method for method in AUTH_METHODS if carried[method]]


def assertion_subject(assertion: str) -> str | None:
    """The client an assertion claims to come from, before anything is verified."""
    try:
        claims = json.loads(jws.extract_compact(assertion.encode()).payload)
    except (JoseError, ValueError, UnicodeError):
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub if isinstance(sub, str) else None


def malformed_credentials(request, method: str) -> tuple[str | None, str | None]:
    """(the client the credentials name, or why they cannot be read)."""
    form = request.form
    if method == "client_secret_basic":
        try:
            client_id, secret = extract_basic_authorization(request.headers)
        except UNREADABLE_CREDENTIALS:
            return None, NOT_BASIC_CREDENTIALS
        if not client_id or not secret:
            return None, NOT_BASIC_CREDENTIALS
        return client_id, None
    if method == "client_secret_post":
        if not form.get("client_id") or not form.get("client_secret"):
            return None, "client_secret_post sends both 'client_id' and 'client_secret'"
        return form["client_id"], None
    if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
        return None, (
            f"private_key_jwt sends 'client_assertion_type={ASSERTION_TYPE}' and the signed "
            "assertion in 'client_assertion'"
        )
    subject = assertion_subject(form["client_assertion"])
    if subject is None:
        return None, "the client assertion is not a JWT whose 'sub' is the client_id"
    return subject, None


def alternatives(names: list[str] | tuple[str, ...]) -> str:
    return " or ".join(filter(None, [", ".join(names[:-1]), names[-1]])) if names else ""


def explain(
    request,
    error: InvalidClientError | ValueError,
    methods: list[str] | tuple[str, ...],
    query_client: Callable[[str], Any],
    unknown: str = "no client is registered under this client_id",
    assertion_audiences: list[str] | None = None,
) -> InvalidClientError:
    """The failure authlib reported (``error``, or one of UNREADABLE_CREDENTIALS when it
    could not decode the credentials), explained. ``methods``: those the endpoint accepts;
    ``unknown``: what to say of a client_id nobody registered there; ``assertion_audiences``:
    those a client assertion may name, told when its ``aud`` fails."""
    presented = presented_methods(request)
    if not presented:
        return failure(no_credentials(request, methods, query_client))
    if len(presented) > 1:
        return failure(
            f"the request uses more than one authentication method ({' and '.join(presented)})"
            ": use only the one the client is registered for"
        )
    method = presented[0]
    if method not in methods:
        return failure(f"this endpoint accepts {alternatives(methods)}, not {method}")
    client_id, problem = malformed_credentials(request, method)
    if problem is not None:
        return failure(problem)
    assert client_id is not None
    known = len(client_id) <= MAX_CLIENT_ID_LENGTH and plain_text(client_id)
    client = query_client(client_id) if known else None
    if client is None:
        return failure(unknown)
    registered = getattr(client, "auth_method", None)
    if registered is not None and registered != method:
        return failure(f"this client is registered for {registered}, not {method}")
    if method in SECRET_METHODS:
        return failure(
            "the client secret is wrong (after a rotation, the previous secret stops working "
            "when its overlap ends)"
        )
    why = getattr(error, "description", None) or "invalid"
    if "'aud'" in why and assertion_audiences:
        why += f" (its audience is one of: {', '.join(assertion_audiences)})"
    return failure(f"the client assertion was refused: {why}")


def no_credentials(request, methods, query_client) -> str:
    """What to send, naming the client's registered method when it named itself."""
    client_id = request.form.get("client_id")
    named = bool(client_id) and len(client_id) <= MAX_CLIENT_ID_LENGTH and plain_text(client_id)
    client = query_client(client_id) if named else None
    registered = getattr(client, "auth_method", None)
    if registered in methods:
        return f"the request carries no client credentials: this client uses {registered}"
    return (
        "the request carries no client credentials: authenticate with the method the client "
        f"is registered for ({alternatives(methods)})"
    )
