"""The words of the consent screen: the requested items grouped by data provider in the
citizen's language, with the reason the service gives for each; the preview's values and what
is true of each provider's answer; and the wording kept in the consent history (exactly what
the screen said)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from broker.catalogue.scopes import REGISTRY
from broker.oidc.models import HabilitationGrant
from broker.resources.preview import FAILED, NOT_FOUND, ProviderPreview
from broker.web.i18n import N_, gettext
from broker.web.locale import current_locale
from consent.screen.information import information, recorded
from consent.screen.provider_names import provider_names

IDENTITY_GROUP = N_("Votre identité")
# What a provider's answer was, for its group. Placeholders take the forms of
# consent.screen.provider_names: "La CAF" at a sentence's start, "de la CAF", "à la CAF".
NOTHING_READ = N_("Nous n'avons pas pu lire ces données auprès %(provider)s.")
PARTLY_READ = N_("Nous n'avons pas pu lire toutes ces données auprès %(provider)s.")
WHY_NOT_READ = {
    "timeout": N_("%(provider)s n'a pas répondu à temps."),
    "maintenance": N_("%(provider)s est en maintenance."),
}
NOT_PREVIEWABLE = N_(
    "Ces données ne peuvent pas être affichées ici : %(provider)s ne les donne qu'avec un "
    "identifiant que le service fournira."
)
# Both outcomes, so that neither answer is presented as the one that makes things work.
SERVICE_ASKS = N_(
    "Si vous acceptez, le service les demandera lui-même %(provider)s. "
    "Si vous refusez, il ne les demandera pas."
)
NOTHING_FOUND = N_("%(provider)s n'a trouvé aucune donnée à votre nom.")
# The preview's banner: only what is true of this preview, one provider per sentence ("de la
# CAF ou de la MSA et du Cnous" would read as a choice between the CAF and the other two).
VALUES_READ = N_("Les valeurs ci-dessous viennent d'être lues auprès %(providers)s.")
IDENTITY_READ = N_("Votre identité est celle reçue lors de votre connexion.")
VALUES_NOT_READ = N_("Aucune valeur n'a pu être lue auprès %(providers)s.")
NOT_KEPT = N_(
    "Les valeurs affichées ne sont pas conservées. Le service ne reçoit rien avant votre accord."
)


def _has_values(result: ProviderPreview) -> bool:
    return any(result.values.values())


def provider_notes(key: str, result: ProviderPreview) -> list[str]:
    """What is true of provider ``key``'s answer, in a few short sentences (none when it
    answered with values)."""
    names = provider_names(key)
    if result.status == NOT_FOUND:
        return [gettext(NOTHING_FOUND) % {"provider": names.start}]
    if result.status != FAILED:
        return []
    if result.reason == "not_previewable":
        notes = [gettext(NOT_PREVIEWABLE) % {"provider": names.the}]
    else:
        lead = PARTLY_READ if _has_values(result) else NOTHING_READ
        notes = [gettext(lead) % {"provider": names.of}]
        if why := WHY_NOT_READ.get(result.reason):
            notes.append(gettext(why) % {"provider": names.start})
    notes.append(gettext(SERVICE_ASKS) % {"provider": names.to})
    return notes


def preview_groups(
    previews: Mapping[str | None, ProviderPreview] | None,
) -> dict[str | None, dict] | None:
    """broker.resources.preview's results as the template reads them, per provider key (None:
    the identity)."""
    if previews is None:
        return None
    return {
        key: {
            "status": result.status,
            "notes": provider_notes(key, result) if key is not None else [],
            "values": {
                scope: [{"label": v.label, "value": v.value} for v in values]
                for scope, values in result.values.items()
            },
        }
        for key, result in previews.items()
    }


def preview_summary(previews: Mapping[str | None, ProviderPreview] | None) -> list[str] | None:
    """The banner above a preview: from which provider values were just read, from which none
    could be, and that nothing is kept. None when no preview is shown."""
    if previews is None:
        return None
    read = [k for k, r in previews.items() if k is not None and _has_values(r)]
    unread = [k for k, r in previews.items() if k is not None and r.status == FAILED]
    unread = [k for k in unread if k not in read]
    lines = [gettext(VALUES_READ) % {"providers": provider_names(k).of} for k in read]
    if None in previews:
        lines.append(gettext(IDENTITY_READ))
    lines += [gettext(VALUES_NOT_READ) % {"providers": provider_names(k).of} for k in unread]
    lines.append(gettext(NOT_KEPT))
    return lines


def consent_groups(
    scopes: list[str],
    optional: Iterable[str] = (),
    ticked: Iterable[str] | None = None,
    previews: Mapping[str | None, dict] | None = None,
    reasons: Mapping[str, str] | None = None,
) -> list[dict]:
    """The requested items grouped by data provider (identity first), in the current locale.
    ``optional``: the items the citizen may leave out; ``ticked``: those ticked (None: none);
    ``previews``: per provider key (None for identity), the values read for the preview;
    ``reasons``: per item, why the service asks for it (the habilitation's text)."""
    english = current_locale() == "en"
    optional = set(optional)
    ticked = set(ticked or ())
    reasons = reasons or {}
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
                        "checked": s.name not in optional or s.name in ticked,
                        "reason": reasons.get(s.name),
                    }
                    for s in items
                ],
                "preview": (previews or {}).get(key),
            }
        )
    return groups


def wording(
    service_name: str, scopes: list[str], habilitation: HabilitationGrant | None = None
) -> dict:
    """Exactly what the screen said, kept in the consent history: the locale it was shown in,
    the labels in that locale, and the habilitation's texts (purpose, legal basis, who is
    responsible, how long the data is kept, why each item, what to do if you refuse)."""
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
        "purpose": habilitation.purpose if habilitation else None,
        "legal_basis": habilitation.legal_basis if habilitation else None,
        **recorded(information(habilitation, scopes)),
        "groups": groups,
    }
