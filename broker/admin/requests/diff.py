"""What changed between two versions of a request, field by field, for the instructors: the
items asked for added or removed (with their labels), those made optional or required, and
every text that differs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from broker.admin.requests.content import CONTACT_ROLES
from broker.admin.requests.words import CONTACT_LABELS, CONTACT_PARTS, FIELD_LABELS, N_
from broker.catalogue.registry import Scope
from broker.catalogue.scopes import REGISTRY

TEXT_FIELDS = tuple(
    (name, FIELD_LABELS[name])
    for name in (
        "service",
        "purpose",
        "legal_basis",
        "legal_basis_url",
        "expected_volume",
        "controller",
        "retention",
        "if_refused",
    )
)
ORGANISATION_LABEL = N_("Organisation")
CONSENT_MODE_LABEL = FIELD_LABELS["consent_mode"]
CONSENT_DAYS_LABEL = FIELD_LABELS["consent_days"]
RECIPIENTS_LABEL = FIELD_LABELS["recipients"]
REASON_LABEL = N_("Pourquoi cette donnée")
CONSENT_MODES = {"recurring": N_("renouvelable"), "one_time": N_("ponctuel")}


@dataclass(frozen=True)
class Change:
    label: str  # the field's name (a msgid)
    before: str
    after: str
    detail: str | None = None  # a part of the field (a msgid): a contact's email…
    scope: Scope | None = None  # a reason: the item it is about
    worded: bool = False  # before and after are msgids too (the consent mode)


@dataclass(frozen=True)
class VersionDiff:
    changes: list[Change]
    added: list[Scope]
    removed: list[Scope]
    made_optional: list[Scope]
    made_required: list[Scope]

    @property
    def empty(self) -> bool:
        return not (
            self.changes or self.added or self.removed or self.made_optional or self.made_required
        )


def scopes_named(names: set[str]) -> list[Scope]:
    """The scopes in the registry's order (the consent screen's)."""
    return [s for s in REGISTRY.data_scopes() if s.name in names]


def text(value: Any) -> str:
    return "" if value is None else str(value)


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> VersionDiff:
    changes: list[Change] = []

    def differ(label: str, before: Any, after: Any, **extra: Any) -> None:
        if text(before) != text(after):
            changes.append(Change(label, text(before), text(after), **extra))

    differ(ORGANISATION_LABEL, old["organisation"].get("name"), new["organisation"].get("name"))
    for field, label in TEXT_FIELDS:
        differ(label, old.get(field), new.get(field))
    differ(
        CONSENT_MODE_LABEL,
        CONSENT_MODES.get(old.get("consent_mode") or "", ""),
        CONSENT_MODES.get(new.get("consent_mode") or "", ""),
        worded=True,
    )
    differ(CONSENT_DAYS_LABEL, old.get("consent_days"), new.get("consent_days"))
    differ(
        RECIPIENTS_LABEL,
        ", ".join(old.get("recipients") or ()),
        ", ".join(new.get("recipients") or ()),
    )
    for role in CONTACT_ROLES:
        before, after = (c.get("contacts", {}).get(role) or {} for c in (old, new))
        for part, part_label in CONTACT_PARTS.items():
            differ(CONTACT_LABELS[role], before.get(part), after.get(part), detail=part_label)
    old_reasons, new_reasons = old.get("reasons") or {}, new.get("reasons") or {}
    for scope in scopes_named(set(old_reasons) | set(new_reasons)):
        differ(REASON_LABEL, old_reasons.get(scope.name), new_reasons.get(scope.name), scope=scope)
    old_scopes, new_scopes = set(old.get("scopes") or ()), set(new.get("scopes") or ())
    old_optional = set(old.get("optional_scopes") or ())
    new_optional = set(new.get("optional_scopes") or ())
    kept = old_scopes & new_scopes
    return VersionDiff(
        changes=changes,
        added=scopes_named(new_scopes - old_scopes),
        removed=scopes_named(old_scopes - new_scopes),
        made_optional=scopes_named({s for s in kept if s in new_optional - old_optional}),
        made_required=scopes_named({s for s in kept if s in old_optional - new_optional}),
    )
