"""How portal handlers answer with a page: :func:`portal_page` renders a template of the
portal (the base template finds the agent and the CSRF token on the request itself), and
:func:`portal_error` a readable error page. Nothing a browser or proxy should keep: no-store.
:func:`in_transaction` and :func:`reading` run a handler's database work (one transaction
per change)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from litestar.datastructures import Cookie
from litestar.response import Template

from broker.core.logs import request_id_var
from broker.portal.context import PortalContext
from broker.web.http import NO_STORE
from broker.web.i18n import lazy_gettext
from broker.web.locale import current_locale

T = TypeVar("T")


async def in_transaction(portal: PortalContext, work: Callable[[Any], T]) -> T:
    """``work(session)`` in one transaction (committed when it returns, rolled back when it
    raises), off the event loop when the database is remote."""

    def step() -> T:
        with portal.db.transaction() as session:
            return work(session)

    return await portal.db.run(step)


async def reading(portal: PortalContext, work: Callable[[Any], T]) -> T:
    """``work(session)`` reading only: nothing it does is committed."""

    def step() -> T:
        with portal.db.reader() as session:
            return work(session)

    return await portal.db.run(step)


def portal_page(
    template_name: str,
    *,
    status_code: int = 200,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Template:
    """``template_name`` with ``context``; ``status_code`` for a form shown again with its
    errors (400), ``cookies`` to set."""
    return Template(
        template_name=template_name,
        context={"request_id": request_id_var.get(), "locale": current_locale(), **context},
        status_code=status_code,
        cookies=cookies or [],
        headers=NO_STORE,
    )


def portal_error(status: int, title: str, message: str, *, code: str | None = None) -> Template:
    """A readable page for something that went wrong: ``title`` and ``message`` are French
    texts of the catalog (marked with ``N_``), shown in the page's language."""
    return portal_page(
        "portal_error.html",
        status_code=status,
        title=lazy_gettext(title),
        message=lazy_gettext(message),
        error_code=code,
    )
