"""The demo service's pages: Jinja templates (autoescaped), one environment per language with
that language's catalog (Jinja's i18n extension, new style: ``_("…", name=value)``), and the
headers every page carries (no script anywhere: the policy forbids it)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar.datastructures import Cookie
from litestar.response import Response

from broker.demo.online_service.catalog import translations
from broker.demo.online_service.language import Language
from broker.demo.online_service.pricing import FULL_PRICE, grid_rows
from broker.web.i18n import N_

PACKAGE_DIR = Path(__file__).resolve().parent
STYLESHEET = (PACKAGE_DIR / "static" / "style.css").read_text(encoding="utf-8")
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    # The callback's URL carries a code: never sent on to another site.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@functools.cache
def templates(code: str) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(PACKAGE_DIR / "templates"),
        autoescape=select_autoescape(default=True),
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    # Added to the environment by the jinja2.ext.i18n extension, unknown to its type hints.
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        translations(code), newstyle=True
    )
    return environment


def html_page(
    language: Language,
    template: str,
    status: int = 200,
    *,
    cookies: Sequence[Cookie] = (),
    private: bool = False,
    **context: Any,
) -> Response:
    """A page in ``language``; ``private`` for a citizen's own data, which no cache keeps."""
    body = (
        templates(language.code)
        .get_template(template)
        .render(lang=language.code, switch=language.other, **context)
    )
    headers = {**HEADERS, "Content-Language": language.code}
    if private:
        headers["Cache-Control"] = "no-store"
    return Response(
        body,
        status_code=status,
        media_type="text/html",
        headers=headers,
        cookies=[*language.cookies(), *cookies],
    )


def problem_page(
    language: Language,
    status: int,
    title: str,
    error: str,
    message: str,
    cookies: Sequence[Cookie] = (),
) -> Response:
    """``title`` and ``message`` are msgids of the catalog, shown in ``language``."""
    return html_page(
        language,
        "problem.html",
        status,
        cookies=cookies,
        title=title,
        error=error,
        message=message,
    )


def home_page(language: Language, cookies: Sequence[Cookie] = ()) -> Response:
    """Before signing in: the grid, and the full price that applies without a quotient."""
    return html_page(
        language,
        "home.html",
        cookies=cookies,
        title=N_("Tarifs de la cantine"),
        full_price=language.euros(FULL_PRICE),
        grid=grid_rows(language),
    )
