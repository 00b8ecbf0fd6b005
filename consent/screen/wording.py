"""The words of the consent screen: the requested items grouped by data provider in the
citizen's language, the preview's values as the template reads them, and the wording kept in
the consent history (exactly what the screen said)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from broker.catalogue.scopes import REGISTRY
from broker.resources.preview import ProviderPreview
from broker.web.i18n import N_, gettext
from broker.web.locale import current_locale

IDENTITY_GROUP = N_("Votre identité")
PREVIEW_MESSAGES = {
    "not_previewable": N_(
        "Aperçu indisponible pour cette administration : ses données ne "
        "peuvent être lues qu'avec un identifiant que le service fournira."
    ),
    "timeout": N_("L'administration n'a pas répondu à temps."),
    "maintenance": N_("L'administration est en maintenance."),
}


def preview_groups(
    previews: Mapping[str | None, ProviderPreview] | None,
) -> dict[str | None, dict] | None:
    """broker.resources.preview's results as the template reads them, per provider key."""
    if previews is None:
        return None
    groups = {}
    for key, result in previews.items():
        message = PREVIEW_MESSAGES.get(getattr(result, "reason", ""))
        groups[key] = {
            "status": result.status,
            "message": gettext(message) if message else None,
            "values": {
                scope: [{"label": v.label, "value": v.value} for v in values]
                for scope, values in result.values.items()
            },
        }
    return groups


def consent_groups(
    scopes: list[str],
    optional: Iterable[str] = (),
    ticked: Iterable[str] | None = None,
    previews: Mapping[str | None, dict] | None = None,
) -> list[dict]:
    """The requested items grouped by data provider (identity first), in the current locale.
    ``optional``: the items the citizen may leave out; ``ticked``: those ticked (None: all);
    ``previews``: per provider key (None for identity), the values read for the preview."""
    english = current_locale() == "en"
    optional = set(optional)
    ticked = None if ticked is None else set(ticked)
    groups = []
    for provider, items in REGISTRY.group_by_provider(scopes):
        if provider is None:
            name = gettext(IDENTITY_GROUP)
        else:
            name = provider.name_en if english else provider.name_fr
        key = provider.key if provider else None
        groups.append(
            {
                "provider_name": name,
                "provider": key,
                "items": [
                    {
                        "scope": s.name,
                        "label": s.label_en if english else s.label_fr,
                        "optional": s.name in optional,
                        # Unticked until the citizen ticks it: a pre-ticked box is no consent
                        # (CJEU C-673/17, Planet49).
                        "checked": s.name not in optional
                        or (ticked is not None and s.name in ticked),
                    }
                    for s in items
                ],
                "preview": (previews or {}).get(key),
            }
        )
    return groups


def wording(
    service_name: str, scopes: list[str], purpose: str | None = None, legal_basis: str | None = None
) -> dict:
    """Exactly what the screen said, kept in the consent history: the locale it was shown in
    and the labels in that locale."""
    groups = [
        {
            "provider_name": g["provider_name"],
            "provider": g["provider"],
            "items": [{"scope": i["scope"], "label": i["label"]} for i in g["items"]],
        }
        for g in consent_groups(scopes)
    ]
    return {
        "locale": current_locale(),
        "service_name": service_name,
        "purpose": purpose,
        "legal_basis": legal_basis,
        "groups": groups,
    }
