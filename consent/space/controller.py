"""The citizen space's pages for a signed-in citizen: thin, everything else is in
``consent.space.service``. Every handler gets the citizen from the ``citizen`` dependency,
which sends anyone not signed in to the sign-in page."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from broker.catalogue.scopes import REGISTRY
from broker.web.http import BROWSER_COOKIE, NO_STORE, SESSION_COOKIE, form_text, page, redirect
from broker.web.i18n import N_
from broker.web.locale import current_locale
from broker.web.pages import not_found_page
from consent.models import EventKind, GrantStatus
from consent.space.service import CitizenSpace
from consent.space.signin import HOME, LOGIN

STATUS_LABELS = {
    GrantStatus.ACTIVE: N_("En cours"),
    GrantStatus.EXPIRED: N_("Expiré"),
    GrantStatus.REVOKED: N_("Retiré"),
    GrantStatus.REFUSED: N_("Refusé"),
}
EVENT_LABELS = {
    EventKind.GRANTED: N_("Accord donné"),
    EventKind.REFUSED: N_("Refus"),
    EventKind.NARROWED: N_("Éléments retirés"),
    EventKind.REVOKED: N_("Accord retiré"),
    EventKind.EXPIRED: N_("Accord expiré"),
}
REVOKED, NARROWED, UNCHANGED = "revoked", "narrowed", "unchanged"
NOTICES = {
    REVOKED: N_(
        "Votre accord a été retiré. Le service ne peut plus accéder à ces "
        "données ; il en a été informé."
    ),
    NARROWED: N_(
        "Les éléments choisis ont été retirés de votre accord ; le service en a été informé."
    ),
    UNCHANGED: N_(
        "Rien n'a été modifié : cet accord n'est plus en cours, ou ces "
        "éléments ne peuvent pas être retirés un par un."
    ),
}
MAX_PAGE_DIGITS = 6


@dataclass(frozen=True)
class SignedIn:
    citizen_id: str
    session_id: str


class NotSignedIn(Exception):
    """No live session of this browser: the page sends the citizen to the sign-in page."""


async def signed_in(request: Request, space: NamedDependency[CitizenSpace]) -> SignedIn:
    session_id = request.cookies.get(SESSION_COOKIE)
    citizen_id = await space.citizen(session_id, request.cookies.get(BROWSER_COOKIE))
    if citizen_id is None or session_id is None:
        raise NotSignedIn
    return SignedIn(citizen_id, session_id)


def to_sign_in(request: Request, exc: NotSignedIn) -> Response:
    return redirect(LOGIN)


def scope_label(name: str) -> str:
    scope = REGISTRY.get(name)
    if scope is None:
        return name
    return scope.label_en if current_locale() == "en" else scope.label_fr


class SpaceController(Controller):
    path = HOME
    dependencies = {"citizen": Provide(signed_in)}  # noqa: RUF012 - Litestar reads these class attributes
    exception_handlers = {NotSignedIn: to_sign_in}  # noqa: RUF012

    @get()
    async def home(
        self,
        request: Request,
        space: NamedDependency[CitizenSpace],
        citizen: NamedDependency[SignedIn],
    ) -> Template:
        overview = await space.overview(citizen.citizen_id)
        return page(
            "space.html",
            {
                **overview,
                "csrf_token": space.form_token("act", citizen.session_id),
                "notice": NOTICES.get(request.query_params.get("notice", "")),
                "status_labels": STATUS_LABELS,
                "event_labels": EVENT_LABELS,
                "scope_label": scope_label,
            },
        )

    @post("/deconnexion", status_code=303)
    async def logout(
        self,
        request: Request,
        space: NamedDependency[CitizenSpace],
        citizen: NamedDependency[SignedIn],
    ) -> Redirect:
        form = await request.form()
        if not space.check_token("act", citizen.session_id, form_text(form.get("csrf_token"))):
            return redirect(LOGIN)
        location = await space.sign_out(
            citizen.session_id, request.cookies.get(BROWSER_COOKIE), LOGIN
        )
        return redirect(location)

    @get("/acces")
    async def journal(
        self,
        request: Request,
        space: NamedDependency[CitizenSpace],
        citizen: NamedDependency[SignedIn],
    ) -> Template:
        raw = request.query_params.get("page", "1")
        number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= MAX_PAGE_DIGITS else 1
        journal = await space.journal(citizen.citizen_id, number)
        return page("space_journal.html", {"journal": journal, "scope_label": scope_label})

    @get("/accords/{grant_id:str}/recu")
    async def receipt(
        self,
        grant_id: FromPath[str],
        space: NamedDependency[CitizenSpace],
        citizen: NamedDependency[SignedIn],
    ) -> Template:
        found = await space.receipt(citizen.citizen_id, grant_id)
        if found is None:
            return not_found_page()
        receipt, consent = found
        return page(
            "receipt.html",
            {
                "receipt": receipt,
                "consent": consent,
                "scope_label": scope_label,
                "status_labels": STATUS_LABELS,
            },
        )

    @get("/accords/{grant_id:str}/recu.jws")
    async def receipt_download(
        self,
        grant_id: FromPath[str],
        space: NamedDependency[CitizenSpace],
        citizen: NamedDependency[SignedIn],
    ) -> Response | Template:
        found = await space.receipt(citizen.citizen_id, grant_id)
        if found is None:
            return not_found_page()
        return Response(
            found[0],
            media_type="application/jose",
            headers={
                **NO_STORE,
                "Content-Disposition": f'attachment; filename="recu-{grant_id}.jws"',
            },
        )

    @post("/accords/{grant_id:str}/retrait", status_code=303)
    async def revoke(
        self,
        request: Request,
        grant_id: FromPath[str],
        space: NamedDependency[CitizenSpace],
        citizen: NamedDependency[SignedIn],
    ) -> Redirect | Template:
        return await change(
            request,
            space,
            citizen,
            REVOKED,
            lambda form: space.revoke(citizen.citizen_id, grant_id),
        )

    @post("/accords/{grant_id:str}/elements", status_code=303)
    async def narrow(
        self,
        request: Request,
        grant_id: FromPath[str],
        space: NamedDependency[CitizenSpace],
        citizen: NamedDependency[SignedIn],
    ) -> Redirect | Template:
        return await change(
            request,
            space,
            citizen,
            NARROWED,
            lambda form: space.narrow(
                citizen.citizen_id,
                grant_id,
                [v for v in form.getall("scope", []) if isinstance(v, str)],
            ),
        )

    @get("/export.json")
    async def export(
        self, space: NamedDependency[CitizenSpace], citizen: NamedDependency[SignedIn]
    ) -> Response:
        body = json.dumps(await space.export(citizen.citizen_id), ensure_ascii=False, indent=2)
        return Response(
            body,
            media_type="application/json",
            headers={**NO_STORE, "Content-Disposition": 'attachment; filename="mes-donnees.json"'},
        )


async def change(
    request: Request,
    space: CitizenSpace,
    citizen: SignedIn,
    done: str,
    action: Callable[[FormMultiDict], Awaitable[object]],
) -> Redirect | Template:
    """A change to the citizen's consents, from a form issued for this session."""
    form = await request.form()
    if not space.check_token("act", citizen.session_id, form_text(form.get("csrf_token"))):
        return page(
            "error.html",
            {
                "title": N_("Formulaire non valable"),
                "error_code": "bad_csrf_token",
                "message": N_(
                    "Ce formulaire n'a pas été émis pour votre session. Rien n'a été modifié."
                ),
            },
            status=403,
        )
    changed = await action(form)
    return redirect(f"{HOME}?notice={done if changed else UNCHANGED}")


@get("/services/{service_id:str}/logo", cache=False)
async def service_logo(
    service_id: FromPath[str], space: NamedDependency[CitizenSpace]
) -> Response | Template:
    """A service's logo, served from the broker itself: the pages load nothing from elsewhere."""
    logo = await space.logo(service_id)
    if logo is None:
        return not_found_page()
    image, media_type = logo
    return Response(
        image,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
