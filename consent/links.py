"""Addresses a habilitation gives, shown to citizens as links only when they are safe to follow:
an https URL, or an email address as the command line accepts it
(``broker.admin.consent_information.EMAIL``). Anything else (an ``http://`` or ``javascript:``
address, a text with an "@" in it) is shown as text, never as a link. Shared by the consent
screen and the citizen space."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from broker.admin.clients import AdminError, check_https_url
from broker.admin.consent_information import EMAIL


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


def https_link(value: str | None) -> str | None:
    """``value`` when it is an https URL to link to (a legal basis's text), else None."""
    value = (value or "").strip()
    return value if value and is_https_url(value) else None
