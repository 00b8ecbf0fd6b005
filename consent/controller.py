"""The consent screen. It reads the pending request through the broker's hand-off and gives
the citizen's decision back; it never touches the broker's internals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from broker.handoff import ConsentHandoff, FlowError
from broker.scopes import REGISTRY
from broker.web.http import form_action, page, redirect
from broker.web.pages import flow_error_page
from broker.web.state import BROWSER_COOKIE
from consent.i18n import N_, apply_ui_locales, current_locale, gettext

IDENTITY_GROUP = N_("Votre identité")
PREVIEW_PARAM = "apercu"
DASHBOARD_URL = "/espace"
PREVIEW_MESSAGES = {
    "not_previewable": N_("Aperçu indisponible pour cette administration : ses données ne "
                          "peuvent être lues qu'avec un identifiant que le service fournira."),
    "timeout": N_("L'administration n'a pas répondu à temps."),
    "maintenance": N_("L'administration est en maintenance."),
}


def preview_groups(previews: Mapping[str, object] | None) -> dict[str, dict] | None:
    """broker.preview's results as the template reads them, per provider key."""
    if previews is None:
        return None
    groups = {}
    for key, result in previews.items():
        message = PREVIEW_MESSAGES.get(getattr(result, "reason", ""))
        groups[key] = {
            "status": result.status, "message": gettext(message) if message else None,
            "values": {scope: [{"label": v.label, "value": v.value} for v in values]
                       for scope, values in result.values.items()}}
    return groups


def consent_groups(scopes: list[str], optional: Iterable[str] = (),
                   ticked: Iterable[str] | None = None,
                   previews: Mapping[str | None, dict] | None = None) -> list[dict]:
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
        groups.append({
            "provider_name": name, "provider": key,
            "items": [{"scope": s.name, "label": s.label_en if english else s.label_fr,
                       "optional": s.name in optional,
                       # Unticked until the citizen ticks it: a pre-ticked box is no consent
                       # (CJEU C-673/17, Planet49).
                       "checked": s.name not in optional or (ticked is not None
                                                             and s.name in ticked)}
                      for s in items],
            "preview": (previews or {}).get(key),
        })
    return groups


def wording(service_name: str, scopes: list[str], purpose: str | None = None,
            legal_basis: str | None = None) -> dict:
    """Exactly what the screen said, kept in the consent history: the locale it was shown in
    and the labels in that locale."""
    groups = [{"provider_name": g["provider_name"], "provider": g["provider"],
               "items": [{"scope": i["scope"], "label": i["label"]} for i in g["items"]]}
              for g in consent_groups(scopes)]
    return {"locale": current_locale(), "service_name": service_name, "purpose": purpose,
            "legal_basis": legal_basis, "groups": groups}


class ConsentController(Controller):
    path = "/interaction/{interaction_id:str}/consent"

    @get()
    async def show(self, request: Request, interaction_id: FromPath[str]) -> Template:
        handoff: ConsentHandoff = request.app.state.consent_handoff
        browser_id = request.cookies.get(BROWSER_COOKIE)
        try:
            pending = handoff.consent_request(interaction_id, browser_id)
            apply_ui_locales(pending.ui_locales)
            # Read from the providers only when the citizen asks, never stored.
            wants_preview = request.query_params.get(PREVIEW_PARAM) == "1"
            previews = (await handoff.preview(interaction_id, browser_id, current_locale())
                        if wants_preview else None)
        except FlowError as exc:
            return flow_error_page(exc.reason)
        return page("consent.html", {
            "action": form_action(request), "csrf_token": pending.step_token,
            "service_name": pending.service_name,
            "service_logo_url": pending.service_logo_url,
            "citizen": {"given_name": pending.citizen_given_name,
                        "family_name": pending.citizen_family_name},
            "purpose": pending.purpose, "legal_basis": pending.legal_basis,
            "legal_basis_url": pending.legal_basis_url,
            "groups": consent_groups(pending.scopes, pending.optional_scopes,
                                     previews=preview_groups(previews)),
            "preview_url": f"{request.url.path}?{PREVIEW_PARAM}=1",
            "preview_shown": previews is not None,
            "consent_mode": pending.consent_mode, "consent_until": pending.consent_until,
            "duration_text": None, "dashboard_url": DASHBOARD_URL,
        })

    @post(status_code=303)
    async def decide(self, request: Request, interaction_id: FromPath[str]) -> Redirect | Template:
        handoff: ConsentHandoff = request.app.state.consent_handoff
        form = await request.form()
        browser_id = request.cookies.get(BROWSER_COOKIE)
        decision = form.get("decision")
        if decision not in ("approve", "refuse"):
            return flow_error_page("bad_step_token")
        try:
            # Unticked checkboxes are not posted: the optional items absent are left out.
            ticked = [v for v in form.getall("scope", []) if isinstance(v, str)]
            location = handoff.decide(interaction_id, browser_id, _text(form.get("csrf_token")),
                                      decision == "approve", wording, ticked)
        except FlowError as exc:
            return flow_error_page(exc.reason)
        return redirect(location)


def _text(value) -> str:
    return value if isinstance(value, str) else ""
