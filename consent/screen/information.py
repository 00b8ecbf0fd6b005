"""What the citizen needs to consent knowingly, besides the purpose and the legal basis, as the
habilitation states it (nothing is made up when it does not): the organisation responsible for
the data and how to reach it and its data protection officer, how long the service keeps the
data, why each item is asked, and what to do instead of consenting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from broker.admin.clients import AdminError, check_https_url
from broker.admin.consent_information import EMAIL
from broker.oidc.models import HabilitationGrant


@dataclass(frozen=True)
class Contact:
    text: str
    href: str | None  # "mailto:…" or the https URL; None: not a link

    @property
    def is_web_page(self) -> bool:
        """An https link: opened in a new window, so that the consent screen stays open."""
        return self.href is not None and not self.href.startswith("mailto:")


def contact(value: str | None) -> Contact | None:
    """A contact as the habilitation states it, a link only when it passes the same checks as
    ``--contact``/``--dpo`` (``broker.admin.consent_information``): one plain email address,
    or an https URL. Anything else, a row written before those checks or by hand, is shown
    as text, never as a link (a "javascript:" contact, a mailto to two recipients)."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if EMAIL.fullmatch(value):
        # "%" is allowed in an address but escapes in a mailto: URL ("a%2Cb@…" would write
        # to "a" and "b@…"): quoted, it stays one literal address (RFC 6068 §2).
        return Contact(value, f"mailto:{quote(value, safe='@+')}")
    if is_https_url(value):
        return Contact(value, value)
    return Contact(value, None)


def is_https_url(value: str) -> bool:
    try:
        if urlsplit(value).scheme.lower() != "https":  # any case, as the checks read it
            return False
        check_https_url(value, "contact")
    except (AdminError, ValueError):  # ValueError: urlsplit's, e.g. "https://[x"
        return False
    return True


@dataclass(frozen=True)
class ConsentInformation:
    controller: str | None = None
    contact: Contact | None = None
    dpo: Contact | None = None
    retention: str | None = None
    reasons: Mapping[str, str] = field(default_factory=dict)  # requested scope -> why
    if_refused: str | None = None

    @property
    def has_controller(self) -> bool:
        return bool(self.controller or self.contact or self.dpo)


def information(habilitation: HabilitationGrant | None, scopes: list[str]) -> ConsentInformation:
    """The habilitation's information for a request of ``scopes`` (reasons of those only)."""
    if habilitation is None:
        return ConsentInformation()
    return ConsentInformation(
        controller=_text(habilitation.controller),
        contact=contact(habilitation.contact),
        dpo=contact(habilitation.dpo),
        retention=_text(habilitation.retention),
        reasons={
            scope: text.strip()
            for scope, text in (habilitation.reasons or {}).items()
            if scope in scopes and isinstance(text, str) and text.strip()
        },
        if_refused=_text(habilitation.if_refused),
    )


def recorded(info: ConsentInformation) -> dict[str, Any]:
    """The information as the consent history and the receipt keep it (the texts shown)."""
    return {
        "controller": info.controller,
        "contact": info.contact.text if info.contact else None,
        "dpo": info.dpo.text if info.dpo else None,
        "retention": info.retention,
        "reasons": dict(info.reasons),
        "if_refused": info.if_refused,
    }


def _text(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None
