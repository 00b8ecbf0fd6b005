"""The consent screen's view of the broker: read a pending request, give the decision back.

This is the only broker interface the ``consent`` package uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

# What the screen showed, rebuilt from the service name and scopes, kept in the consent history.
# (service name, scopes, purpose, legal basis) -> the wording kept in the consent history
Wording = Callable[[str, list[str], str | None, str | None], dict]


@dataclass(frozen=True)
class ConsentRequest:
    interaction_id: str
    step_token: str
    client_id: str
    service_name: str
    scopes: list[str]
    citizen_given_name: str
    citizen_family_name: str
    purpose: str | None = None  # of the habilitation the data scopes are requested under
    legal_basis: str | None = None
    legal_basis_url: str | None = None
    optional_scopes: frozenset[str] = field(default_factory=frozenset)
    consent_mode: str = "recurring"  # or "one_time"
    consent_until: int | None = None  # a recurring consent's expiry, if approved now
    service_logo_url: str | None = None
    ui_locales: str | None = None  # of the authorization request


class FlowError(Exception):
    """A step the citizen cannot take; ``reason`` picks the page shown (see web.errors)."""

    def __init__(self, reason: str, back_url: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.back_url = back_url


class ConsentHandoff(Protocol):
    def consent_request(self, interaction_id: str, browser_id: str | None) -> ConsentRequest: ...

    async def preview(self, interaction_id: str, browser_id: str | None,
                      locale: str) -> dict[str, Any] | None:
        """The values the data providers hold for the requested items, by provider (see
        broker.preview), fetched now and never stored; None when previews are not available."""

    def decide(self, interaction_id: str, browser_id: str | None, step_token: str | None,
               approve: bool, wording: Wording, ticked: list[str] | None = None) -> str:
        """Record the decision and return where to send the browser (the client's redirect).
        ``ticked``: the optional items the citizen left ticked (None: all of them)."""
