"""Addresses a habilitation gives, shown to citizens as links only when they are safe to follow:
an https URL, or an email address as the command line accepts it
(``broker.admin.consent_information.EMAIL``). Anything else (an ``http://`` or ``javascript:``
address, a text with an "@" in it) is shown as text, never as a link. Shared by the consent
screen and the citizen space."""

from __future__ import annotations

import re
from dataclasses import dataclass

from broker.admin.consent_information import EMAIL

HTTPS_URL = re.compile(r"https://[^\s<>\"'\\]+")


@dataclass(frozen=True)
class Contact:
    text: str
    href: str | None  # "mailto:…" or the https URL; None: not a link


def contact(value: str | None) -> Contact | None:
    """A contact or DPO as written in the habilitation; None when there is none."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if HTTPS_URL.fullmatch(value):
        return Contact(value, value)
    if EMAIL.fullmatch(value):
        return Contact(value, f"mailto:{value}")
    return Contact(value, None)


def https_link(value: str | None) -> str | None:
    """``value`` when it is an https URL to link to (a legal basis's text), else None."""
    value = (value or "").strip()
    return value if HTTPS_URL.fullmatch(value) else None
