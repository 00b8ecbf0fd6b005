"""The consent screen's pages: thin, everything else is in ``consent.screen.service``.

The preview needs no script: its button posts the same form (``decision=preview``), whose
answer sends the browser to a waiting page, then to the preview, with the ticked items in
the URL, sealed (``consent.screen.preview_steps``)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from broker.interaction.states import FlowError
from broker.resources.preview import planned_providers
from broker.web.http import BROWSER_COOKIE, form_action, form_text, page, redirect
from broker.web.locale import apply_ui_locales, current_locale
from broker.web.pages import flow_error_page
from consent.screen.preview_steps import (
    WAIT_PARAM,
    chosen,
    preview_location,
    reading_url,
    requested_step,
)
from consent.screen.provider_names import provider_names
from consent.screen.service import DASHBOARD_PATH, ConsentRequest, ConsentScreen
from consent.screen.wording import consent_groups, preview_groups, preview_summary

DECISIONS = ("approve", "refuse")
PREVIEW = "preview"


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
            # The step the preview button led to, with the ticks posted with it; None on a
            # first visit, or with a URL the broker did not seal (the plain screen).
            step = requested_step(request.query_params, pending.step_token, pending.optional_scopes)
            ticked = step.choices if step else []
            if step and step.name == WAIT_PARAM:
                return waiting_page(request, pending, ticked, screen.preview_seconds)
            # Read from the providers only when the citizen asks, never stored.
            previews = (
                await screen.preview(interaction_id, browser_id, current_locale()) if step else None
            )
        except FlowError as exc:
            return flow_error_page(exc.reason)
        info = pending.information
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
                "information": info,
                "groups": consent_groups(
                    pending.scopes,
                    pending.optional_scopes,
                    ticked,
                    previews=preview_groups(previews),
                    reasons=info.reasons,
                ),
                "preview_available": screen.preview_seconds is not None,
                "preview_shown": previews is not None,
                "preview_summary": preview_summary(previews),
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
        if decision not in (*DECISIONS, PREVIEW):
            return flow_error_page("bad_step_token")
        # Unticked checkboxes are not posted: the optional items absent are left out.
        ticked = [v for v in form.getall("scope", []) if isinstance(v, str)]
        token = form_text(form.get("csrf_token"))
        try:
            if decision == PREVIEW:
                # Decides nothing: the same page again, with the values and the same ticks.
                pending = await screen.posted_request(interaction_id, browser_id, token)
                choices = chosen(ticked, pending.optional_scopes)
                return redirect(
                    preview_location(request.url.path, pending.scopes, choices, pending.step_token)
                )
            location = await screen.decide(
                interaction_id, browser_id, token, decision == "approve", ticked
            )
        except FlowError as exc:
            return flow_error_page(exc.reason)
        return redirect(location)


def waiting_page(
    request: Request, pending: ConsentRequest, ticked: list[str], seconds: int | None
) -> Template:
    """Shown while the next page reads the providers: it asks for that page at once (a meta
    refresh, no script) and stays on screen until its answer arrives."""
    return page(
        "consent_waiting.html",
        {
            "service_name": pending.service_name,
            "providers": [provider_names(key).start for key in planned_providers(pending.scopes)],
            "seconds": seconds,
            "next_url": reading_url(request.url.path, ticked, pending.step_token),
        },
    )
