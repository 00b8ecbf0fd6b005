"""What an authorization request may carry at all, before anything else reads it (at
/authorize and at the pushed authorization endpoint alike): plain, bounded text only."""

from __future__ import annotations

import re
from collections.abc import Mapping

# The parameters an error may name; any other name is not repeated back, even sanitised.
KNOWN_PARAMETERS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "prompt",
        "max_age",
        "ui_locales",
        "claims_locales",
        "login_hint",
        "id_token_hint",
        "acr_values",
        "claims",
        "display",
        "response_mode",
        "request",
        "request_uri",
        "registration",
        "dpop_jkt",
        "resource",
    }
)
# RFC 9449 §10: a base64url SHA-256 JWK thumbprint (RFC 7638).
DPOP_JKT = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_PARAMETER_LENGTH = 4096  # characters of one value: a state or a claims request fits
MAX_NAME_LENGTH = 128


def plain_text(value: str, limit: int = MAX_PARAMETER_LENGTH) -> bool:
    """A value the broker may store, show, log about and send back: bounded, and no control,
    format, separator, surrogate or private-use character, nor U+FFFD (where the HTTP layer
    met bytes that are not UTF-8). Non-ASCII letters are plain text (a ``login_hint``)."""
    return len(value) <= limit and value.isprintable() and "\ufffd" not in value


def unplain_parameter(datalist: Mapping[str, list[str]]) -> str | None:
    """Why the request is refused if a parameter name or value is not plain text (naming the
    parameter if we know it, never repeating what was sent), or None if all are."""
    for name, values in datalist.items():
        if not plain_text(name, MAX_NAME_LENGTH):
            return "A parameter name has characters that are not allowed, or is too long."
        if not all(plain_text(value) for value in values):
            what = f"The '{name}' parameter" if name in KNOWN_PARAMETERS else "A parameter"
            return f"{what} has characters that are not allowed, or is too long."
    return None


# OpenID Connect Core §11: a client asks for a refresh token with this scope. Here a refresh
# token comes with a recurring consent, which the habilitation sets and the consent screen
# states, whether the client asked or not: the scope is accepted and set aside, so that it is
# never shown to the citizen nor granted as an item.
OFFLINE_ACCESS = "offline_access"


def without_offline_access(scope: str) -> str:
    if OFFLINE_ACCESS not in scope:
        return scope
    return " ".join(name for name in scope.split(" ") if name != OFFLINE_ACCESS)


def set_aside_offline_access(params: dict[str, list[str]]) -> dict[str, list[str]]:
    if "scope" not in params:
        return params
    return {**params, "scope": [without_offline_access(value) for value in params["scope"]]}
