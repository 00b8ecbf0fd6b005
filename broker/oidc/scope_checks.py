"""Why a requested scope is refused (``invalid_scope``, RFC 6749 §3.3 and §5.2), said so that a
service's developer knows what to change. Three rules decide it, in this order:

- the scope exists: it is in the broker's scope registry (``scopes_supported`` in discovery);
- the client is registered for it (its registration's ``scope``);
- a data scope is covered by an active habilitation of the client's service, all the data
  scopes of one request by the same one (the consent screen names one purpose and legal basis).

A description travels to the client's redirect URI, so it names a scope the request sent only
when it is one of the registry's or looks like one (``NAMEABLE``): any other token the request
made up, markup included, is counted, not repeated back."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from authlib.oauth2.rfc6749.errors import InvalidScopeError

from broker.oidc.models import Client

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ); no quote, no backslash.
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,100}")  # as long as consent.scope holds
# What the registry's names are made of: nothing a page or a log viewer could take for markup.
NAMEABLE = re.compile(r"[a-z0-9_.:-]{1,100}")
NOT_NAMED = "only names made of a-z, 0-9, '_', '.', ':' and '-' are repeated back"
MAX_NAMED = 5


def quoted(scopes: Iterable[str], registered: Collection[str] = ()) -> str:
    """'a', 'b' and 'c' (the first few), the others counted: a scope is named only when it is
    in ``registered`` (registry scopes) or ``NAMEABLE``."""
    distinct = list(dict.fromkeys(scopes))
    named = [s for s in distinct if s in registered or NAMEABLE.fullmatch(s)]
    hidden = len(distinct) - len(named)
    shown = [f"'{s}'" for s in named[:MAX_NAMED]]
    if len(named) > MAX_NAMED:
        shown.append(f"{len(named) - MAX_NAMED} more")
    if hidden and not shown:
        return f"({hidden} not named: {NOT_NAMED})" if hidden > 1 else f"(not named: {NOT_NAMED})"
    if hidden:
        shown.append(f"{hidden} not named ({NOT_NAMED})")
    if len(shown) < 2:
        return "".join(shown)
    return f"{', '.join(shown[:-1])} and {shown[-1]}"


def scope_word(count: int) -> str:
    return "scope" if count == 1 else "scopes"


def check_requested_scopes(
    requested: list[str], supported: Collection[str], client: Client
) -> None:
    """The first two rules, at /authorize and at the pushed authorization endpoint."""
    if not requested:
        raise InvalidScopeError(
            "The 'scope' parameter is missing: ask for 'openid' and the scopes this client is "
            "registered for."
        )
    malformed = [s for s in requested if not SCOPE_TOKEN.fullmatch(s)]
    if malformed:
        raise InvalidScopeError(
            "A requested scope is not a valid scope token (RFC 6749, section 3.3) or is too long."
        )
    unknown = [s for s in requested if s not in supported]
    if unknown:
        raise InvalidScopeError(
            f"Unknown {scope_word(len(unknown))} {quoted(unknown)}: not in this broker's scope "
            "registry (see 'scopes_supported' in the discovery document)."
        )
    unregistered = [s for s in requested if s not in client.scopes]
    if unregistered:
        raise InvalidScopeError(
            f"This client is not registered for the {scope_word(len(unregistered))} "
            f"{quoted(unregistered, supported)}: the broker's operator adds a scope to a client's "
            "registration once the service is habilitated for it."
        )


def check_habilitation_covers(data_scopes: set[str], client: Client, now: int) -> None:
    """The third rule: one active habilitation of the client's service covers every data scope
    asked for."""
    if not data_scopes or client.habilitation_for(data_scopes, now) is not None:
        return
    active = [h for h in client.habilitations if h.active_at(now)]
    uncovered = sorted(s for s in data_scopes if not any(s in h.scopes for h in active))
    if not uncovered:
        raise InvalidScopeError(
            f"The data scopes {quoted(sorted(data_scopes), data_scopes)} belong to different "
            "habilitations of this service: ask in one authorization request only for data "
            "scopes of one habilitation."
        )
    expired = [s for s in uncovered if any(s in h.scopes for h in client.habilitations)]
    if expired:
        raise InvalidScopeError(
            f"The habilitation of this service covering the data {scope_word(len(expired))} "
            f"{quoted(expired, data_scopes)} has expired: the service asks for its renewal before "
            "requesting this data again."
        )
    raise InvalidScopeError(
        f"No active habilitation of this service covers the data "
        f"{scope_word(len(uncovered))} {quoted(uncovered, data_scopes)}: data is requested "
        "only under an approved habilitation (purpose and legal basis)."
    )


def check_refresh_scope(requested: list[str], granted: Collection[str]) -> None:
    """RFC 6749 §6: a refresh keeps or narrows the scope granted, never widens it."""
    beyond = [s for s in requested if s not in granted]
    if beyond:
        raise InvalidScopeError(
            f"The {scope_word(len(beyond))} {quoted(beyond)} "
            f"{'was' if len(beyond) == 1 else 'were'} not granted with this refresh token, or "
            "withdrawn by the citizen since: a refresh keeps or narrows the scope the citizen "
            "granted (RFC 6749, section 6)."
        )
