"""Portal pages: the agents' roles (``/roles``), for administrators.

Roles are granted by email, before or after an agent's first sign-in: instructor,
administrator, or data provider of one provider of the catalogue. Each grant and revocation
goes through broker.admin.agents, which writes it to the audit trail in its transaction; the
last administrator role cannot be revoked."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter
from litestar.response import Redirect, Template

from broker.admin import agents
from broker.admin.agents import (
    GRANTED_ROLES,
    grant_errors,
    grant_role,
    granted_providers,
    list_roles,
)
from broker.admin.role_grants import LastAdministrator, revoke_keeping_an_administrator
from broker.catalogue.scopes import REGISTRY
from broker.portal.context import PortalContext
from broker.portal.guards import requires
from broker.portal.pages import in_transaction, portal_error, portal_page, reading
from broker.portal.principal import Agent, Role
from broker.web.http import form_text, redirect
from broker.web.i18n import N_, lazy_gettext
from broker.web.locale import current_locale

ROLES_PATH = "/roles"

ROLE_WORDS: dict[str, str] = {
    Role.INSTRUCTOR: N_("Instructeur"),
    Role.ADMINISTRATOR: N_("Administrateur"),
    Role.DATA_PROVIDER: N_("Fournisseur de données"),
}
DONE_WORDS = {
    "accorde": N_("Le rôle a été accordé. Il s'applique dès la prochaine page de l'agent."),
    "deja": N_("Cet agent avait déjà ce rôle : rien n'a changé."),
    "retire": N_("Le rôle a été retiré. Il ne s'applique plus dès la prochaine page de l'agent."),
    "absent": N_("Cet agent n'avait pas ou plus ce rôle : rien n'a changé."),
}
BAD_EMAIL = N_("Indiquez une adresse électronique valable, par exemple prenom.nom@exemple.gouv.fr.")
BAD_ROLE = N_("Choisissez un rôle.")
NEEDS_PROVIDER = N_("Choisissez le fournisseur de données dont cet agent suivra l'usage.")
PROVIDER_NOT_WANTED = N_(
    "Un fournisseur ne s'indique que pour le rôle « Fournisseur de données » : "
    "choisissez « Aucun »."
)
LAST_ADMINISTRATOR = N_(
    "Le dernier rôle d'administrateur ne peut pas être retiré : accordez-le d'abord à un autre "
    "agent."
)
BAD_REVOCATION = (
    N_("Demande non valable"),
    N_("Ce rôle n'existe pas. Rien n'a été modifié. Revenez à la liste des rôles et recommencez."),
)


def provider_names() -> dict[str, str]:
    english = current_locale() == "en"
    return {p.key: p.name_en if english else p.name_fr for p in REGISTRY.providers()}


# The domain's codes (broker.admin.agents.grant_errors), worded for the page.
ERROR_WORDS = {
    agents.BAD_EMAIL: BAD_EMAIL,
    agents.BAD_ROLE: BAD_ROLE,
    agents.NEEDS_PROVIDER: NEEDS_PROVIDER,
    agents.PROVIDER_NOT_WANTED: PROVIDER_NOT_WANTED,
}


def checked_form(
    values: dict[str, str], known_providers: frozenset[str] | None = None
) -> dict[str, str]:
    """Field -> French message for what the grant form got wrong: the domain's check, the
    same the CLI's grant goes through."""
    errors = grant_errors(
        values["email"], values["role"], values["provider"], known_providers=known_providers
    )
    return {field: ERROR_WORDS[code] for field, code in errors.items()}


async def form_values(request: Request, *names: str) -> dict[str, str]:
    form = await request.form()
    return {name: form_text(form.get(name)).strip() for name in names}


class RolesController(Controller):
    path = ROLES_PATH
    guards = (requires(Role.ADMINISTRATOR),)

    @get("/", name="roles_page")
    async def page(
        self,
        portal: NamedDependency[PortalContext],
        fait: FromQuery[Annotated[str, Parameter(max_length=20)]] = "",
    ) -> Template:
        empty = {"email": "", "role": "", "provider": ""}
        return await roles_page(portal, empty, {}, done=DONE_WORDS.get(fait))

    @post("/", name="roles_grant")
    async def grant(
        self,
        request: Request,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
    ) -> Template | Redirect:
        values = await form_values(request, "email", "role", "provider")
        errors = checked_form(values)
        if errors:
            return await roles_page(portal, values, errors, status_code=400)

        granted = await in_transaction(
            portal,
            lambda session: grant_role(
                session,
                email=values["email"],
                role=values["role"],
                provider=values["provider"],
                actor=agent.actor,
            ),
        )
        return redirect(f"{ROLES_PATH}?fait={'accorde' if granted else 'deja'}")

    @post("/retrait", name="roles_revoke")
    async def revoke(
        self,
        request: Request,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
    ) -> Template | Redirect:
        values = await form_values(request, "email", "role", "provider")
        known = await reading(portal, granted_providers)
        if checked_form(values, known):
            return portal_error(400, *BAD_REVOCATION, code="bad_revocation")
        try:
            revoked = await in_transaction(
                portal,
                lambda session: revoke_keeping_an_administrator(
                    session,
                    email=values["email"],
                    role=values["role"],
                    provider=values["provider"],
                    actor=agent.actor,
                ),
            )
        except LastAdministrator:
            empty = {"email": "", "role": "", "provider": ""}
            return await roles_page(portal, empty, {}, refusal=LAST_ADMINISTRATOR, status_code=409)
        return redirect(f"{ROLES_PATH}?fait={'retire' if revoked else 'absent'}")


async def roles_page(
    portal: PortalContext,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    done: str | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Template:
    grants = await reading(portal, list_roles)
    providers = provider_names()
    return portal_page(
        "roles_page.html",
        status_code=status_code,
        grants=[
            {
                **grant.as_dict(),
                "role_words": lazy_gettext(ROLE_WORDS.get(grant.role, grant.role)),
                "provider_name": providers.get(grant.provider, grant.provider),
            }
            for grant in grants
        ],
        roles=[(str(role), lazy_gettext(ROLE_WORDS[role])) for role in GRANTED_ROLES],
        providers=sorted(providers.items(), key=lambda item: item[1]),
        values=values,
        errors={field: lazy_gettext(message) for field, message in errors.items()},
        done=lazy_gettext(done) if done else None,
        refusal=lazy_gettext(refusal) if refusal else None,
    )


CONTROLLERS: list[type[Controller]] = [RolesController]
