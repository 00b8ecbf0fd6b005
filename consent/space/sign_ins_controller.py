"""The citizen space's page of sign-ins and identity providers (block, unblock). Thin: see
``consent.space.service``."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from broker.web.http import BROWSER_COOKIE, form_text, page, redirect
from broker.web.i18n import N_
from consent.space.controller import NotSignedIn, SignedIn, signed_in, to_sign_in
from consent.space.service import CitizenSpace
from consent.space.signin import HOME
from consent.space.words import acr_label

PAGE = f"{HOME}/connexions"
NOTICES = {
    "bloque": N_("Ce fournisseur d'identité est bloqué pour votre compte."),
    "debloque": N_("Ce fournisseur d'identité peut de nouveau être utilisé pour votre compte."),
    "refuse": N_(
        "Rien n'a été modifié : le fournisseur de votre connexion actuelle ne peut pas être "
        "bloqué, ou ce fournisseur n'existe pas."
    ),
}


class SignInsController(Controller):
    path = HOME
    dependencies = {"citizen": Provide(signed_in)}  # noqa: RUF012 - Litestar reads these class attributes
    exception_handlers = {NotSignedIn: to_sign_in}  # noqa: RUF012

    @get("/connexions")
    async def sign_ins(
        self,
        request: Request,
        space: NamedDependency[CitizenSpace],
        citizen: NamedDependency[SignedIn],
    ) -> Template:
        history, providers = await space.sign_ins(
            citizen.citizen_id, citizen.session_id, request.cookies.get(BROWSER_COOKIE)
        )
        return page(
            "space_sign_ins.html",
            {
                "acr_label": acr_label,
                "sign_ins": history,
                "providers": providers,
                "csrf_token": space.form_token("act", citizen.session_id),
                "notice": NOTICES.get(request.query_params.get("notice", "")),
            },
        )

    @post("/fournisseurs/{idp:str}/blocage", status_code=303)
    async def block(
        self,
        request: Request,
        idp: FromPath[str],
        space: NamedDependency[CitizenSpace],
        citizen: NamedDependency[SignedIn],
    ) -> Redirect:
        return await self.change(request, space, citizen, idp, blocked=True)

    @post("/fournisseurs/{idp:str}/deblocage", status_code=303)
    async def unblock(
        self,
        request: Request,
        idp: FromPath[str],
        space: NamedDependency[CitizenSpace],
        citizen: NamedDependency[SignedIn],
    ) -> Redirect:
        return await self.change(request, space, citizen, idp, blocked=False)

    @staticmethod
    async def change(
        request: Request, space: CitizenSpace, citizen: SignedIn, idp: str, blocked: bool
    ) -> Redirect:
        form = await request.form()
        token = form_text(form.get("csrf_token"))
        if not space.check_token("act", citizen.session_id, token) or len(idp) > 64:
            return redirect(f"{PAGE}?notice=refuse")
        done = await space.set_blocked(
            citizen.citizen_id,
            citizen.session_id,
            request.cookies.get(BROWSER_COOKIE),
            idp,
            blocked,
        )
        notice = ("bloque" if blocked else "debloque") if done else "refuse"
        return redirect(f"{PAGE}?notice={notice}")
