"""Translating between Litestar requests/responses and the protocol code's plain types, and the
helpers every page uses (cookies, redirects, templates)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from broker.core.logs import request_id_var
from broker.interaction.flow import StepResult
from broker.oidc.request import HttpRequestData
from broker.oidc.server import ProtocolResponse
from broker.web.locale import apply_ui_locales, current_locale

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BROWSER_COOKIE = "broker_browser"  # binds interactions and sessions to one browser
SESSION_COOKIE = "broker_session"  # the single sign-on session
BROWSER_COOKIE_MAX_AGE = 365 * 24 * 3600


async def http_request_data(
    request: Request, issuer: str, *, include_form: bool, include_query: bool = True
) -> HttpRequestData:
    """The request as the protocol code sees it. Its URL is rebuilt on the configured issuer, so
    a TLS-terminating proxy in front changes nothing (the Host header is not trusted)."""
    params: dict[str, list[str]] = {}
    if include_query:
        for key, value in request.query_params.multi_items():
            params.setdefault(key, []).append(value)
    if include_form and request.method == "POST":
        form = await request.form()
        for key, value in form.multi_items():
            if isinstance(value, str):
                params.setdefault(key, []).append(value)
    return HttpRequestData(
        method=request.method, uri=issuer + request.url.path, headers=request.headers, params=params
    )


def protocol_response(result: ProtocolResponse) -> Response:
    headers = dict(result.headers)
    headers.update(NO_STORE)
    return Response(
        content=result.body,
        status_code=result.status,
        headers=headers,
        media_type="application/json" if not isinstance(result.body, str) else None,
    )


def cookies_for(result: StepResult, secure: bool) -> list[Cookie]:
    """The browser and session cookies a step (re)sets; ``secure`` on an https issuer."""
    cookies = []
    if result.new_browser_id:
        cookies.append(
            Cookie(
                key=BROWSER_COOKIE,
                value=result.new_browser_id,
                httponly=True,
                secure=secure,
                samesite="lax",
                max_age=BROWSER_COOKIE_MAX_AGE,
            )
        )
    if result.new_session_id:
        cookies.append(
            Cookie(
                key=SESSION_COOKIE,
                value=result.new_session_id,
                httponly=True,
                secure=secure,
                samesite="lax",
            )
        )
    return cookies


# RFC 3986's reserved characters and "%": what a URL already encoded keeps as it is.
URL_SAFE = "!#$%&'()*+,/:;=?@[]"


def header_safe_url(location: str) -> str:
    """A URL as a Location header may carry it: every character outside the URL's own
    alphabet (control characters above all: CR and LF would split the header) is
    percent-encoded. Idempotent: a URL built by urlencode comes out unchanged."""
    return quote(location, safe=URL_SAFE, encoding="utf-8", errors="backslashreplace")


def redirect(location: str, cookies: list[Cookie] | None = None) -> Redirect:
    return Redirect(
        path=header_safe_url(location), status_code=303, cookies=cookies or [], headers=NO_STORE
    )


def form_action(request: Request) -> str:
    """A form's own URL, with the language it was shown in: the answer (an error shown again,
    the consent's wording) stays in that language. ``lang`` in a POST sets no cookie."""
    return f"{request.url.path}?lang={current_locale()}"


def form_text(value: object) -> str:
    """A form field as text: absent, or a file instead of text, reads as empty."""
    return value if isinstance(value, str) else ""


def page(
    template: str,
    context: dict[str, Any],
    status: int = 200,
    cookies: list[Cookie] | None = None,
    ui_locales: str | None = None,
) -> Template:
    """A citizen page. ``ui_locales``: the OIDC ``ui_locales`` of the authorization request
    the page belongs to, if known; it picks the page's language unless the citizen chose one
    (``?lang=`` or the ``broker_lang`` cookie); otherwise Accept-Language does."""
    if ui_locales:
        apply_ui_locales(ui_locales)
    context = {"request_id": request_id_var.get(), "locale": current_locale(), **context}
    return Template(
        template_name=template,
        context=context,
        status_code=status,
        cookies=cookies or [],
        headers=NO_STORE,
    )
