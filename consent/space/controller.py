"""The citizen space's pages about consents, for a signed-in citizen: the overview, the
receipt, withdrawing (after a confirmation page) and withdrawing optional items. Thin:
everything else is in ``consent.space.service``. The journal and the export pages are in
``consent.space.records_controller``; the guard in ``consent.space.guard``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from broker.web.http import BROWSER_COOKIE, NO_STORE, form_text, page, redirect
from broker.web.i18n import N_
from broker.web.pages import not_found_page
from consent.space.guard import NotSignedIn, SignedIn, signed_in, to_sign_in
from consent.space.overview import items_of
from consent.space.records_controller import RecordPages
from consent.space.service import DONE, UNKNOWN, CitizenSpace
from consent.space.signin import HOME, LOGIN
from consent.space.words import TEMPLATE_WORDS

__all__ = ["NotSignedIn", "SignedIn", "SpaceController", "service_logo", "signed_in", "to_sign_in"]

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
BAD_FORM = (
    N_("Formulaire non valable"),
    N_("Ce formulaire n'a pas été émis pour votre session. Rien n'a été modifié."),
)


class SpaceController(RecordPages, Controller):
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
        person, overview = await space.overview(citizen.citizen_id)
        return page(
            "space.html",
            {
                **TEMPLATE_WORDS,
                "citizen": person,
                "overview": overview,
                "csrf_token": space.form_token("act", citizen.session_id),
                "notice": NOTICES.get(request.query_params.get("notice", "")),
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
        return page("receipt.html", {**TEMPLATE_WORDS, "consent": found[1]})

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

    @get("/accords/{grant_id:str}/retrait")
    async def withdrawal(
        self,
        grant_id: FromPath[str],
        space: NamedDependency[CitizenSpace],
        citizen: NamedDependency[SignedIn],
    ) -> Template:
        """What withdrawing will do, before the citizen confirms it."""
        found = await space.withdrawal(citizen.citizen_id, grant_id)
        if found is None:
            return not_found_page()
        consent, together = found
        return page(
            "space_withdrawal.html",
            {
                **TEMPLATE_WORDS,
                "consent": consent,
                "together": together,
                "items": items_of([consent, *together]),
                "csrf_token": space.form_token("act", citizen.session_id),
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


async def change(
    request: Request,
    space: CitizenSpace,
    citizen: SignedIn,
    done: str,
    action: Callable[[FormMultiDict], Awaitable[str]],
) -> Redirect | Template:
    """A change to one of the citizen's consents, from a form issued for this session; a
    consent that is not theirs is not found, and nothing changes."""
    form = await request.form()
    if not space.check_token("act", citizen.session_id, form_text(form.get("csrf_token"))):
        title, message = BAD_FORM
        return page(
            "error.html",
            {"title": title, "error_code": "bad_csrf_token", "message": message},
            status=403,
        )
    outcome = await action(form)
    if outcome == UNKNOWN:
        return not_found_page()
    return redirect(f"{HOME}?notice={done if outcome == DONE else UNCHANGED}")


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
