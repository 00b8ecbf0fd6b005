"""Web pages of the citizen's space: thin, everything else is in broker.citizen_space."""

from __future__ import annotations

import json

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from broker.citizen_space import CitizenSpace
from broker.flow import StepResult
from broker.identity.controller import _personas_html as personas_html
from broker.scopes import REGISTRY
from broker.security import random_token
from broker.web.http import NO_STORE, cookies_for, page, redirect
from broker.web.pages import not_found_page
from broker.web.state import BROWSER_COOKIE, SESSION_COOKIE
from consent.i18n import N_, current_locale

HOME = "/espace"
LOGIN = "/espace/connexion"
LOGIN_ERROR = N_("Identifiant ou mot de passe incorrect.")
STATUS_LABELS = {"active": N_("En cours"), "expired": N_("Expiré"), "revoked": N_("Retiré"),
                 "refused": N_("Refusé")}
EVENT_LABELS = {"granted": N_("Accord donné"), "refused": N_("Refus"),
                "narrowed": N_("Éléments retirés"), "revoked": N_("Accord retiré"),
                "expired": N_("Accord expiré")}
NOTICES = {"revoked": N_("Votre accord a été retiré. Le service ne peut plus accéder à ces "
                         "données ; il en a été informé."),
           "narrowed": N_("Les éléments choisis ont été retirés de votre accord ; le service "
                          "en a été informé."),
           "unchanged": N_("Rien n'a été modifié : cet accord n'est plus en cours, ou ces "
                           "éléments ne peuvent pas être retirés un par un.")}


def _space(request: Request) -> CitizenSpace:
    return request.app.state.citizen_space


def scope_label(name: str) -> str:
    scope = REGISTRY.get(name)
    if scope is None:
        return name
    return scope.label_en if current_locale() == "en" else scope.label_fr


def _who(request: Request) -> tuple[str | None, str | None]:
    session_id = request.cookies.get(SESSION_COOKIE)
    return _space(request).citizen(session_id, request.cookies.get(BROWSER_COOKIE)), session_id


def _form_text(value) -> str:
    return value if isinstance(value, str) else ""


class SpaceController(Controller):
    path = HOME

    @get()
    async def home(self, request: Request) -> Template | Redirect:
        citizen_id, session_id = _who(request)
        if citizen_id is None:
            return redirect(LOGIN)
        space = _space(request)
        overview = space.overview(citizen_id)
        return page("space.html", {
            **overview, "csrf_token": space.form_token("act", session_id),
            "notice": NOTICES.get(request.query_params.get("notice", "")), "status_labels": STATUS_LABELS,
            "event_labels": EVENT_LABELS, "scope_label": scope_label})

    @get("/connexion")
    async def login_form(self, request: Request) -> Template:
        return self._login_page(request)

    @post("/connexion", status_code=303)
    async def login(self, request: Request) -> Template | Redirect:
        form = await request.form()
        browser_id = request.cookies.get(BROWSER_COOKIE)
        space = _space(request)
        if not space.check_token("login", browser_id, _form_text(form.get("csrf_token"))):
            return self._login_page(request, error=N_("Ce formulaire a expiré. Réessayez."),
                                    status=403)
        login = _form_text(form.get("login"))
        result = await space.sign_in(browser_id, login, _form_text(form.get("password")))
        if result.error:
            return self._login_page(request, error=LOGIN_ERROR, login_value=login, status=401)
        return redirect(HOME, cookies_for(request, StepResult(new_session_id=result.session_id)))

    @post("/deconnexion", status_code=303)
    async def logout(self, request: Request) -> Redirect:
        citizen_id, session_id = _who(request)
        form = await request.form()
        if citizen_id and _space(request).check_token("act", session_id,
                                                     _form_text(form.get("csrf_token"))):
            _space(request).sign_out(session_id)
        return redirect(LOGIN)

    @get("/acces")
    async def journal(self, request: Request) -> Template | Redirect:
        citizen_id, _ = _who(request)
        if citizen_id is None:
            return redirect(LOGIN)
        raw = request.query_params.get("page", "1")
        number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1
        journal = _space(request).journal(citizen_id, number)
        return page("space_journal.html", {"journal": journal, "scope_label": scope_label})

    @get("/accords/{grant_id:str}/recu")
    async def receipt(self, request: Request, grant_id: FromPath[str]) -> Template | Redirect:
        citizen_id, _ = _who(request)
        if citizen_id is None:
            return redirect(LOGIN)
        found = _space(request).receipt(citizen_id, grant_id)
        if found is None:
            return not_found_page()
        receipt, consent = found
        return page("receipt.html", {"receipt": receipt, "consent": consent,
                                     "scope_label": scope_label,
                                     "status_labels": STATUS_LABELS})

    @get("/accords/{grant_id:str}/recu.jws")
    async def receipt_download(self, request: Request,
                               grant_id: FromPath[str]) -> Response | Redirect | Template:
        citizen_id, _ = _who(request)
        if citizen_id is None:
            return redirect(LOGIN)
        found = _space(request).receipt(citizen_id, grant_id)
        if found is None:
            return not_found_page()
        return Response(found[0], media_type="application/jose", headers={
            **NO_STORE, "Content-Disposition": f'attachment; filename="recu-{grant_id}.jws"'})

    @post("/accords/{grant_id:str}/retrait", status_code=303)
    async def revoke(self, request: Request, grant_id: FromPath[str]) -> Redirect | Template:
        return await self._change(request, lambda space, citizen_id, form: space.revoke(
            citizen_id, grant_id), "revoked")

    @post("/accords/{grant_id:str}/elements", status_code=303)
    async def narrow(self, request: Request, grant_id: FromPath[str]) -> Redirect | Template:
        return await self._change(request, lambda space, citizen_id, form: space.narrow(
            citizen_id, grant_id, [v for v in form.getall("scope", []) if isinstance(v, str)]),
            "narrowed")

    @get("/export.json")
    async def export(self, request: Request) -> Response | Redirect:
        citizen_id, _ = _who(request)
        if citizen_id is None:
            return redirect(LOGIN)
        body = json.dumps(_space(request).export(citizen_id), ensure_ascii=False, indent=2)
        return Response(body, media_type="application/json", headers={
            **NO_STORE, "Content-Disposition": 'attachment; filename="mes-donnees.json"'})

    async def _change(self, request: Request, action, done: str) -> Redirect | Template:
        citizen_id, session_id = _who(request)
        if citizen_id is None:
            return redirect(LOGIN)
        form = await request.form()
        space = _space(request)
        if not space.check_token("act", session_id, _form_text(form.get("csrf_token"))):
            return page("error.html", {
                "title": N_("Formulaire non valable"), "error_code": "bad_csrf_token",
                "message": N_("Ce formulaire n'a pas été émis pour votre session. Rien n'a "
                              "été modifié.")}, status=403)
        change = action(space, citizen_id, form)
        return redirect(f"{HOME}?notice={done if change else 'unchanged'}")

    def _login_page(self, request: Request, error: str | None = None, login_value: str = "",
                    status: int = 200) -> Template:
        browser_id = request.cookies.get(BROWSER_COOKIE)
        new_browser = None
        if not browser_id or len(browser_id) > 128:
            browser_id = new_browser = random_token(32)
        development = request.app.state.broker.settings.is_development
        personas = personas_html(request) if development else ""
        return page("space_login.html", {
            "action": LOGIN, "csrf_token": _space(request).form_token("login", browser_id),
            "error": error, "login_value": login_value, "personas_html": personas,
        }, status=status, cookies=cookies_for(request, StepResult(new_browser_id=new_browser)))


@get("/services/{service_id:str}/logo", cache=False)
async def service_logo(request: Request, service_id: FromPath[str]) -> Response | Template:
    """A service's logo, served from the broker itself: the pages load nothing from elsewhere."""
    logo = _space(request).logo(service_id)
    if logo is None:
        return not_found_page()
    image, media_type = logo
    return Response(image, media_type=media_type, headers={
        "Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})
