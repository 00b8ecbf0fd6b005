"""What the citizen needs to consent knowingly, besides the purpose and the legal basis, as the
habilitation states it (nothing is made up when it does not): the organisation responsible for
the data and how to reach it and its data protection officer, how long the service keeps the
data, why each item is asked, and what to do instead of consenting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from broker.oidc.models import HabilitationGrant
from consent.links import Contact, contact


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
