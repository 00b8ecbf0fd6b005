"""The consent screen. It reads the pending request through the broker's hand-off and gives
the citizen's decision back; it never touches the broker's internals."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from broker.handoff import ConsentHandoff, FlowError
from broker.scopes import REGISTRY
from broker.web.http import page, redirect
from broker.web.pages import flow_error_page
from broker.web.state import BROWSER_COOKIE

IDENTITY_GROUP = "Votre identité"


def consent_groups(scopes: list[str]) -> list[dict]:
    groups = []
    for provider, items in REGISTRY.group_by_provider(scopes):
        groups.append({
            "provider_name": provider.name_fr if provider else IDENTITY_GROUP,
            "items": [{"scope": s.name, "label": s.label_fr} for s in items],
        })
    return groups


def wording(service_name: str, scopes: list[str], purpose: str | None = None,
            legal_basis: str | None = None) -> dict:
    """Exactly what the screen said, kept in the consent history."""
    return {"locale": "fr", "service_name": service_name, "purpose": purpose,
            "legal_basis": legal_basis, "groups": consent_groups(scopes)}


class ConsentController(Controller):
    path = "/interaction/{interaction_id:str}/consent"

    @get()
    async def show(self, request: Request, interaction_id: FromPath[str]) -> Template:
        handoff: ConsentHandoff = request.app.state.consent_handoff
        try:
            pending = handoff.consent_request(interaction_id, request.cookies.get(BROWSER_COOKIE))
        except FlowError as exc:
            return flow_error_page(exc.reason)
        return page("consent.html", {
            "action": str(request.url.path), "csrf_token": pending.step_token,
            "service_name": pending.service_name,
            "citizen": {"given_name": pending.citizen_given_name,
                        "family_name": pending.citizen_family_name},
            "purpose": pending.purpose, "legal_basis": pending.legal_basis,
            "legal_basis_url": None,
            "groups": consent_groups(pending.scopes), "duration_text": None,
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
            location = handoff.decide(interaction_id, browser_id, _text(form.get("csrf_token")),
                                      decision == "approve", wording)
        except FlowError as exc:
            return flow_error_page(exc.reason)
        return redirect(location)


def _text(value) -> str:
    return value if isinstance(value, str) else ""
