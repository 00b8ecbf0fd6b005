"""The consent screen's pages: thin, everything else is in ``consent.screen.service``."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from broker.interaction.states import FlowError
from broker.web.http import BROWSER_COOKIE, form_action, form_text, page, redirect
from broker.web.locale import apply_ui_locales, current_locale
from broker.web.pages import flow_error_page
from consent.screen.service import DASHBOARD_PATH, ConsentScreen
from consent.screen.wording import consent_groups, preview_groups

PREVIEW_PARAM = "apercu"


class ConsentController(Controller):
    path = "/interaction/{interaction_id:str}/consent"

    @get()
    async def show(
        self,
        request: Request,
        interaction_id: FromPath[str],
        screen: NamedDependency[ConsentScreen],
    ) -> Template:
        browser_id = request.cookies.get(BROWSER_COOKIE)
        try:
            pending = await screen.consent_request(interaction_id, browser_id)
            apply_ui_locales(pending.ui_locales)
            # Read from the providers only when the citizen asks, never stored.
            wants_preview = request.query_params.get(PREVIEW_PARAM) == "1"
            previews = (
                await screen.preview(interaction_id, browser_id, current_locale())
                if wants_preview
                else None
            )
        except FlowError as exc:
            return flow_error_page(exc.reason)
        return page(
            "consent.html",
            {
                "action": form_action(request),
                "csrf_token": pending.step_token,
                "service_name": pending.service_name,
                "service_logo_url": pending.service_logo_url,
                "citizen": {
                    "given_name": pending.citizen_given_name,
                    "family_name": pending.citizen_family_name,
                },
                "purpose": pending.purpose,
                "legal_basis": pending.legal_basis,
                "legal_basis_url": pending.legal_basis_url,
                "groups": consent_groups(
                    pending.scopes, pending.optional_scopes, previews=preview_groups(previews)
                ),
                "preview_url": f"{request.url.path}?{PREVIEW_PARAM}=1",
                "preview_shown": previews is not None,
                "consent_mode": pending.consent_mode,
                "consent_until": pending.consent_until,
                "duration_text": None,
                "dashboard_url": DASHBOARD_PATH,
            },
        )

    @post(status_code=303)
    async def decide(
        self,
        request: Request,
        interaction_id: FromPath[str],
        screen: NamedDependency[ConsentScreen],
    ) -> Redirect | Template:
        form = await request.form()
        browser_id = request.cookies.get(BROWSER_COOKIE)
        decision = form.get("decision")
        if decision not in ("approve", "refuse"):
            return flow_error_page("bad_step_token")
        try:
            # Unticked checkboxes are not posted: the optional items absent are left out.
            ticked = [v for v in form.getall("scope", []) if isinstance(v, str)]
            location = await screen.decide(
                interaction_id,
                browser_id,
                form_text(form.get("csrf_token")),
                decision == "approve",
                ticked,
            )
        except FlowError as exc:
            return flow_error_page(exc.reason)
        return redirect(location)
