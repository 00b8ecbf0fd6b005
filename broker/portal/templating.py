"""The portal's Jinja environment: the citizen pages' templates and catalogs (same look, same
i18n), the portal's own, and the globals every portal template may call:

- ``current_agent()``: the signed-in :class:`~broker.admin.principal.Agent`, or None;
- ``csrf_field()``: the hidden ``csrf`` input every POST form includes;
- ``portal_nav()``: the links of the header's navigation for this agent, this page marked;
- ``Role``: the roles, for ``agent.has(Role.INSTRUCTOR)`` in templates;
- ``is_development``: the development mode (test accounts, caught emails)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup, escape

from broker.admin.principal import Agent, Role
from broker.core.settings import Settings
from broker.portal.guards import CSRF_FIELD, SCOPE_KEY
from broker.portal.sessions import SignedIn
from broker.web import i18n
from broker.web.i18n import N_, LazyString, lazy_gettext

PORTAL_DIR = Path(__file__).resolve().parent
BROKER_DIR = PORTAL_DIR.parent
CONSENT_DIR = BROKER_DIR.parent / "consent"
TEMPLATE_DIRS = (PORTAL_DIR / "templates", BROKER_DIR / "web" / "templates")
STATIC_DIRS = (PORTAL_DIR / "static", BROKER_DIR / "web" / "static")
# The citizen pages' catalogs first: `broker demo run` serves both from one process, and the
# catalogs are chosen per process (broker.web.i18n).
CATALOG_DIRS = (BROKER_DIR / "web" / "locales", CONSENT_DIR / "locales", PORTAL_DIR / "locales")

ALL_AGENTS = frozenset(Role)


@dataclass(frozen=True)
class NavLink:
    path: str
    label: str  # a French msgid
    roles: frozenset[Role] | None  # None: everyone, signed in or not
    development_only: bool = False


# Each page area serves its pages under its path (see the area modules).
NAVIGATION = (
    NavLink(
        "/demandes",
        N_("Demandes"),
        frozenset({Role.REQUESTER, Role.INSTRUCTOR, Role.ADMINISTRATOR}),
    ),
    NavLink(
        "/habilitations",
        N_("Habilitations"),
        frozenset({Role.REQUESTER, Role.INSTRUCTOR, Role.ADMINISTRATOR}),
    ),
    NavLink("/clients", N_("Clients"), frozenset({Role.REQUESTER, Role.ADMINISTRATOR})),
    NavLink("/usage", N_("Usage"), frozenset({Role.DATA_PROVIDER, Role.ADMINISTRATOR})),
    NavLink("/audit", N_("Journal d'audit"), frozenset({Role.ADMINISTRATOR})),
    NavLink("/roles", N_("Rôles"), frozenset({Role.ADMINISTRATOR})),
    NavLink("/stats", N_("Statistiques"), None),
    NavLink("/status", N_("État des services"), None),
    NavLink("/courriels", N_("Courriels"), None, development_only=True),
)


def signed_in_from(context: Any) -> SignedIn | None:
    request = context.get("request")
    if request is None:
        return None
    value = request.scope.get(SCOPE_KEY)
    return value if isinstance(value, SignedIn) else None


@pass_context
def current_agent(context: Any) -> Agent | None:
    current = signed_in_from(context)
    return current.agent if current is not None else None


@pass_context
def csrf_field(context: Any) -> Markup:
    current = signed_in_from(context)
    token = current.csrf if current is not None else ""
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">')


def navigation_for(
    agent: Agent | None, path: str, development: bool
) -> list[dict[str, str | bool | LazyString]]:
    links: list[dict[str, str | bool | LazyString]] = []
    for link in NAVIGATION:
        if link.development_only and not development:
            continue
        if link.roles is not None and (agent is None or not (agent.roles & link.roles)):
            continue
        here = path == link.path or path.startswith(link.path + "/")
        links.append({"href": link.path, "label": lazy_gettext(link.label), "current": here})
    return links


def template_environment(settings: Settings) -> Environment:
    loaders = [FileSystemLoader(str(path)) for path in TEMPLATE_DIRS]
    if settings.theme_dir:
        loaders.insert(0, FileSystemLoader(str(settings.theme_dir)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(default=True),
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    i18n.use_catalogs(
        [path for path in CATALOG_DIRS if (path / "en" / "LC_MESSAGES" / "messages.po").exists()]
    )
    i18n.install_jinja(env)
    development = settings.is_development

    @pass_context
    def portal_nav(context: Any) -> list[dict[str, str | bool | LazyString]]:
        request = context.get("request")
        path = request.url.path if request is not None else ""
        return navigation_for(current_agent(context), path, development)

    env.globals.update(
        current_agent=current_agent,
        csrf_field=csrf_field,
        portal_nav=portal_nav,
        Role=Role,
        is_development=development,
    )
    return env
