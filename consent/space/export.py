"""Everything the broker holds about a citizen (GDPR article 15), as one JSON document a
program can read and a person can follow: every date also in ISO 8601 (Paris time), every
item, product and status also in words, in the citizen's language. The readable HTML page
(``space_export.html``) shows the same ``Holdings``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from broker.web.i18n import TIMEZONE
from broker.web.locale import current_locale
from consent.space import places
from consent.space.history import ConsentView
from consent.space.identity_view import birth_date
from consent.space.words import access_words, event_label, result_label, scope_label, status_label

# What the export shows of the identity the identity provider sent, and when it was received.
IDENTITY_FIELDS = (
    "idp",
    "idp_subject",
    "given_name",
    "family_name",
    "preferred_username",
    "birthdate",
    "gender",
    "birthplace",
    "birthcountry",
    "email",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class Holdings:
    citizen: Any  # the citizen's row, or None
    idp_name: str | None
    consents: list[ConsentView]
    receipts: dict[str, str | None]  # by consent id
    journal: list[dict[str, Any]]  # ``consent.space.journal.row_of``, newest first
    generated_at: int


def iso(epoch: int | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, TIMEZONE).isoformat()


def with_iso(record: dict[str, Any], *keys: str) -> dict[str, Any]:
    """``record`` with ``<key>_iso`` beside each epoch-seconds ``key``."""
    out = {}
    for key, value in record.items():
        out[key] = value
        if key in keys:
            out[f"{key}_iso"] = iso(value)
    return out


def document(holdings: Holdings) -> dict[str, Any]:
    return {
        **with_iso({"generated_at": holdings.generated_at}, "generated_at"),
        "language": current_locale(),
        "identity": identity(holdings),
        "consents": [consent(c, holdings.receipts.get(c.id)) for c in holdings.consents],
        "journal": [access(row) for row in holdings.journal],
    }


def identity(holdings: Holdings) -> dict[str, Any] | None:
    citizen = holdings.citizen
    if citizen is None:
        return None
    shown = with_iso({key: getattr(citizen, key) for key in IDENTITY_FIELDS}, "created_at")
    shown = with_iso(shown, "updated_at")
    born_on, _ = birth_date(citizen.birthdate)
    shown["idp_name"] = holdings.idp_name
    shown["birthplace_name"] = (
        places.commune(citizen.birthplace, born_on) if citizen.birthplace else None
    )
    shown["birthcountry_name"] = places.country(citizen.birthcountry)
    return shown


def consent(view: ConsentView, receipt: str | None) -> dict[str, Any]:
    return {
        **with_iso(
            {
                "id": view.id,
                "service": view.service_name,
                "client_id": view.client_id,
                "status": view.status,
                "status_label": status_label(view.status),
                "mode": view.mode,
                "created_at": view.created_at,
                "expires_at": view.expires_at,
                "ended_at": view.ended_at,
            },
            "created_at",
            "expires_at",
            "ended_at",
        ),
        "purpose": view.purpose,
        "legal_basis": view.legal_basis,
        "legal_basis_url": view.legal_basis_url,
        "controller": view.controller,
        "contact": view.contact,
        "dpo": view.dpo,
        "retention": view.retention,
        "items": [
            with_iso(
                {
                    "scope": item["scope"],
                    "label": scope_label(item["scope"]),
                    "optional": item["optional"],
                    "reason": view.reasons.get(item["scope"]),
                    "withdrawn_at": item["withdrawn_at"],
                },
                "withdrawn_at",
            )
            for item in view.items
        ],
        "events": [
            with_iso(
                {
                    "kind": event["kind"],
                    "label": event_label(event["kind"]),
                    "at": event["at"],
                    "scopes": event["scopes"],
                    "scope_labels": [scope_label(s) for s in event["scopes"]],
                    "wording": event["wording"],
                },
                "at",
            )
            for event in view.events
        ],
        "receipt": receipt,
    }


def access(row: dict[str, Any]) -> dict[str, Any]:
    words = access_words(row)
    return {
        **with_iso(row, "at"),
        "scope_labels": [scope_label(s) for s in row["scopes"]],
        "provider": words.provider,
        "data": words.data,
        "identity": words.identity,
        "result": result_label(row),
    }
