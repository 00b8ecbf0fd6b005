"""Every route of the portal app, walked: a page that is not on the public allow-list has a
guard that lets nobody through without a session (``signed_in``, or a ``requires(...)`` guard,
which checks it first). A new page added without a guard fails here, not in production."""

from __future__ import annotations

import warnings

from litestar.routes import HTTPRoute

from broker.portal.guards import checks_sign_in

# Pages anyone may see (the sign-in's own pages, the public statistics and status).
PUBLIC = {
    "/",
    "/stats",
    "/status",
    "/status.json",
    "/connexion",
    "/connexion/retour",
    "/deconnexion/terminee",
}
PUBLIC_PREFIXES = ("/static",)  # /health… is answered before the app (broker.web.monitoring)
# The caught mails: a 404 outside development (test_mail_pages.py
# test_production_has_no_mail_pages).
DEVELOPMENT_ONLY = ("/courriels",)
# The page modules whose handlers X2 marked (NamedDependency, FromQuery…): no deprecation.
MARKED_MODULES = {
    f"broker.portal.{name}"
    for name in (
        "habilitations_pages",
        "roles_pages",
        "audit_pages",
        "status_pages",
        "stats_pages",
        "mail_pages",
        "home_pages",
        "signin_pages",
    )
}


def handlers(app):
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            yield route.path, method, handler


def is_public(path: str) -> bool:
    return path in PUBLIC or path.startswith(PUBLIC_PREFIXES)


def test_role_every_non_public_route_requires_a_session(portal):
    unguarded = []
    seen = set()
    for path, method, handler in handlers(portal.app):
        seen.add(path)
        if method == "OPTIONS" or is_public(path) or path.startswith(DEVELOPMENT_ONLY):
            continue
        if not any(checks_sign_in(guard) for guard in handler.resolve_guards()):
            unguarded.append(f"{method} {path}")
    assert unguarded == []
    # The walk saw the portal's areas (an empty app would pass the loop above).
    assert {"/habilitations", "/roles", "/audit", "/status/annonces", "/usage"} <= seen
    assert {"/stats", "/status", "/connexion"} <= seen


def test_the_allow_list_holds_no_guarded_route_and_sign_out_is_guarded(portal):
    """The public list is exactly what is public: a route listed there that has a guard is a
    stale entry (and sign-out, a POST, is not public)."""
    found = {}
    for path, method, handler in handlers(portal.app):
        if method != "OPTIONS":
            found[(method, path)] = any(checks_sign_in(g) for g in handler.resolve_guards())
    for path in PUBLIC:
        assert found.get(("GET", path)) is False, path
    assert found[("POST", "/deconnexion")] is True


def test_marked_handlers_raise_no_deprecation(portal_factory):
    """Litestar 2 warns about injected names and query parameters it has to infer (they stop
    working in 3.0); the handlers of these modules declare them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        portal = portal_factory()
    names = {
        handler.name
        for _, _, handler in handlers(portal.app)
        if handler.fn.__module__ in MARKED_MODULES and handler.name
    }
    assert {"habilitations_list", "roles_page", "audit_trail", "portal_stats"} <= names
    ours = [
        str(w.message)
        for w in caught
        if issubclass(w.category, DeprecationWarning)
        and any(f"handler='{name}'" in str(w.message) for name in names)
    ]
    assert ours == []
