"""The request form's fields and the content they make (and back): one name per field, the
same names the checks key their problems by, so that a problem is shown beside its field."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from broker.admin.requests.content import CONTACT_ROLES, contact_field, field_of_reason
from broker.catalogue.scopes import REGISTRY

# Recipients are written one per line (commas and semicolons separate them too); the spaces
# people write inside a SIRET ("217 300 015 00013") are dropped by the checks.
RECIPIENT_SEPARATORS = re.compile(r"[\n\r,;]+")


def content_from_form(form: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The content a submitted form states, not yet checked (``checked_content`` does)."""

    def one(name: str) -> str:
        values = form.get(name) or ()
        return values[0] if values else ""

    scopes = [s for s in form.get("scopes") or () if s]
    return {
        "organisation": {"siret": one("organisation_siret"), "name": one("organisation_name")},
        "service": one("service"),
        "purpose": one("purpose"),
        "legal_basis": one("legal_basis"),
        "legal_basis_url": one("legal_basis_url"),
        "scopes": scopes,
        "optional_scopes": [s for s in form.get("optional_scopes") or () if s],
        "consent_mode": one("consent_mode"),
        "consent_days": one("consent_days"),
        "recipients": [
            r.strip() for r in RECIPIENT_SEPARATORS.split(one("recipients")) if r.strip()
        ],
        "expected_volume": one("expected_volume"),
        "contacts": {
            role: {part: one(contact_field(role, part)) for part in ("name", "email", "phone")}
            for role in CONTACT_ROLES
        },
        "controller": one("controller"),
        "retention": one("retention"),
        "if_refused": one("if_refused"),
        # Every item's reason field is in the form; only the items ticked keep theirs.
        "reasons": {
            scope.name: text
            for scope in REGISTRY.data_scopes()
            if (text := one(field_of_reason(scope.name)).strip())
        },
    }


def blank_content(siret: str, organisation: str | None) -> dict[str, Any]:
    """A new request's form: the agent's organisation filled in, consent recurring."""
    return {
        "organisation": {"siret": siret, "name": organisation or ""},
        "service": "",
        "purpose": "",
        "legal_basis": "",
        "legal_basis_url": "",
        "scopes": [],
        "optional_scopes": [],
        "consent_mode": "recurring",
        "consent_days": "",
        "recipients": [siret],
        "expected_volume": "",
        "contacts": {role: {"name": "", "email": "", "phone": ""} for role in CONTACT_ROLES},
        "controller": organisation or "",
        "retention": "",
        "if_refused": "",
        "reasons": {},
    }
