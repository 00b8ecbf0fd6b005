"""The language of each request: French first, English available.

The locale of the current request lives in a context variable, set for the whole request by
:class:`LocaleMiddleware`, and chosen in this order:

1. an explicit switch, ``?lang=en`` or ``?lang=fr`` on any page (a GET also remembers it in
   the ``broker_lang`` cookie);
2. that cookie;
3. the ``ui_locales`` of the OpenID Connect authorization request (controllers pass it with
   :func:`apply_ui_locales`, or ``page(..., ui_locales=...)``);
4. the browser's ``Accept-Language``;
5. French.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from urllib.parse import parse_qsl, urlencode

SUPPORTED = ("fr", "en")
DEFAULT = "fr"
COOKIE = "broker_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
QUERY = "lang"
# Each language is offered under its own name, in its own language.
NAMES = {"fr": "Français", "en": "English"}
MAX_HEADER = 512  # longer Accept-Language / ui_locales values are cut (nobody needs more)


def supported(tag: str | None) -> str | None:
    """The supported language of a BCP 47 tag (``en-GB`` -> ``en``), or None."""
    if not tag:
        return None
    language = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return language if language in SUPPORTED else None


def parse_accept_language(header: str) -> list[str]:
    """The supported languages of an Accept-Language header, best first (q-values honoured,
    ``q=0`` and ``*`` ignored, ties kept in header order)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header[:MAX_HEADER].split(",")):
        tag, _, params = part.partition(";")
        language = supported(tag)
        if language is None:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if 0.0 < quality <= 1.0:
            ranked.append((-quality, position, language))
    out: list[str] = []
    for _, _, language in sorted(ranked):
        if language not in out:
            out.append(language)
    return out


def negotiate(
    query_lang: str | None = None,
    cookie_lang: str | None = None,
    ui_locales: str | None = None,
    accept_language: str | None = None,
) -> str:
    """The locale of a page: explicit switch > cookie > OIDC ``ui_locales`` (space-separated,
    in order of preference) > Accept-Language > French."""
    for explicit in (query_lang, cookie_lang):
        if explicit and explicit in SUPPORTED:
            return explicit
    for tag in (ui_locales or "")[:MAX_HEADER].split():
        language = supported(tag)
        if language:
            return language
    if accept_language:
        ranked = parse_accept_language(accept_language)
        if ranked:
            return ranked[0]
    return DEFAULT


class LocaleChoice:
    """What a request says about its language; the locale is negotiated when first asked."""

    __slots__ = ("_locale", "accept_language", "cookie", "query", "query_string", "ui_locales")

    def __init__(
        self,
        query: str | None = None,
        cookie: str | None = None,
        ui_locales: str | None = None,
        accept_language: str | None = None,
        query_string: str = "",
    ) -> None:
        self.query = query if query in SUPPORTED else None
        self.cookie = cookie if cookie in SUPPORTED else None
        self.ui_locales = ui_locales
        self.accept_language = accept_language
        self.query_string = query_string
        self._locale: str | None = None

    @property
    def locale(self) -> str:
        if self._locale is None:
            self._locale = negotiate(self.query, self.cookie, self.ui_locales, self.accept_language)
        return self._locale

    @property
    def explicit(self) -> bool:
        """The citizen chose (switch or cookie): ``ui_locales`` can no longer change it."""
        return bool(self.query or self.cookie)


_choice: ContextVar[LocaleChoice | None] = ContextVar("broker_locale", default=None)


def current_locale() -> str:
    choice = _choice.get()
    return choice.locale if choice is not None else DEFAULT


@contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    """Run a block in ``locale`` (French if it is not supported), e.g. outside a request."""
    choice = LocaleChoice(query=locale if locale in SUPPORTED else DEFAULT)
    token = _choice.set(choice)
    try:
        yield choice.locale
    finally:
        _choice.reset(token)


def apply_ui_locales(ui_locales: str | None) -> str:
    """Take the OIDC ``ui_locales`` of the authorization request into account for the rest of
    this request (below an explicit choice, above Accept-Language); returns the locale."""
    choice = _choice.get()
    if choice is not None and ui_locales and not choice.explicit:
        choice.ui_locales = ui_locales
        choice._locale = None
    return current_locale()


# -- the language switch -------------------------------------------------------------------


def language_links() -> list[dict[str, str]]:
    """The links to the other languages: the same page (same path and query) with ``lang``
    set, as a relative URL."""
    choice = _choice.get()
    query = parse_qsl(choice.query_string, keep_blank_values=True) if choice else []
    kept = [(k, v) for k, v in query if k != QUERY]
    here = current_locale()
    return [
        {"code": code, "label": NAMES[code], "href": "?" + urlencode([*kept, (QUERY, code)])}
        for code in SUPPORTED
        if code != here
    ]


# -- per request ---------------------------------------------------------------------------


class LocaleMiddleware:
    """ASGI middleware: the locale of each HTTP request, in a context variable for the whole
    request (routing errors included); the ``broker_lang`` cookie when a GET asks for a
    language with ``?lang=``; ``Content-Language`` on HTML pages. A POST may carry ``?lang=``
    too (the forms do, so that the answer is in the language the form was shown in) without
    touching the cookie."""

    def __init__(self, app, secure: bool = False) -> None:
        self.app = app
        self.cookie_attributes = f"; Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax" + (
            "; Secure" if secure else ""
        )

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        choice = choice_from_scope(scope)
        token = _choice.set(choice)
        cookie = None
        if choice.query and scope.get("method") in ("GET", "HEAD"):
            cookie = f"{COOKIE}={choice.query}{self.cookie_attributes}".encode()

        async def send_with_language(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if cookie is not None:
                    headers.append((b"set-cookie", cookie))
                if _is_html(headers):
                    headers.append((b"content-language", choice.locale.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_language)
        finally:
            _choice.reset(token)


def _is_html(headers) -> bool:
    return any(
        name.lower() == b"content-type" and value.startswith(b"text/html")
        for name, value in headers
    )


def choice_from_scope(scope) -> LocaleChoice:
    raw_query = scope.get("query_string", b"").decode("latin-1")
    query_lang = ui_locales = None
    if "lang=" in raw_query or "ui_locales=" in raw_query:
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            if key == QUERY:
                query_lang = value
            elif key == "ui_locales":
                ui_locales = value
    cookie = accept = None
    for name, value in scope.get("headers", ()):
        if name == b"cookie" and COOKIE.encode() in value:
            cookie = _cookie_value(value.decode("latin-1"), COOKIE) or cookie
        elif name == b"accept-language":
            accept = value.decode("latin-1")
    return LocaleChoice(
        query=query_lang,
        cookie=cookie,
        ui_locales=ui_locales,
        accept_language=accept,
        query_string=raw_query,
    )


def _cookie_value(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value.strip().strip('"')
    return None
