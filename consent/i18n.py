"""French and English for the citizen pages, through gettext catalogs.

French is the source language: every msgid is the French text. The English catalog
(``consent/locales/en/LC_MESSAGES/messages.po``) is compiled in memory, once per process; no
``.mo`` file is shipped. The locale of the current request lives in a context variable, set
for the whole request by :class:`LocaleMiddleware`, and chosen in this order:

1. an explicit switch, ``?lang=en`` or ``?lang=fr`` on any page (a GET also remembers it in
   the ``broker_lang`` cookie);
2. that cookie;
3. the ``ui_locales`` of the OpenID Connect authorization request (controllers pass it with
   :func:`apply_ui_locales`, or ``page(..., ui_locales=...)``);
4. the browser's ``Accept-Language``;
5. French.

Python code marks its strings with :func:`N_` (a no-op marker, for tables of messages) and
translates them with :func:`gettext` at render time, or hands the template a
:func:`lazy_gettext` string that is translated when it is rendered. Templates use
``{{ _("…") }}`` with ``%(name)s`` placeholders (Jinja's i18n extension, new style).
"""

from __future__ import annotations

import functools
import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date as _babel_format_date
from babel.dates import format_datetime as _babel_format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from markupsafe import Markup, escape

SUPPORTED = ("fr", "en")
DEFAULT = "fr"
COOKIE = "broker_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
QUERY = "lang"
DOMAIN = "messages"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
# Each language is offered under its own name, in its own language.
NAMES = {"fr": "Français", "en": "English"}
DATE_PATTERN = "d MMMM y"  # 28 novembre 2026 / 28 November 2026
_MAX_HEADER = 512  # longer Accept-Language / ui_locales values are cut (nobody needs more)

try:
    _TIMEZONE = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # pragma: no cover - no time-zone database on this system
    _TIMEZONE = UTC


# -- catalogs ------------------------------------------------------------------------------

@functools.cache
def translations(locale: str) -> _gettext.NullTranslations:
    """The catalog of ``locale``, compiled in memory from its .po file the first time."""
    if locale not in SUPPORTED or locale == DEFAULT:
        return _gettext.NullTranslations()  # French: the msgids themselves
    path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def load_catalogs() -> None:
    """Compile every catalog now, so that a broken .po stops the start-up."""
    for locale in SUPPORTED:
        translations(locale)


# -- the locale of the current request -----------------------------------------------------

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
    for position, part in enumerate(header[:_MAX_HEADER].split(",")):
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


def negotiate(query_lang: str | None = None, cookie_lang: str | None = None,
              ui_locales: str | None = None, accept_language: str | None = None) -> str:
    """The locale of a page: explicit switch > cookie > OIDC ``ui_locales`` (space-separated,
    in order of preference) > Accept-Language > French."""
    for explicit in (query_lang, cookie_lang):
        if explicit and explicit in SUPPORTED:
            return explicit
    for tag in (ui_locales or "")[:_MAX_HEADER].split():
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

    def __init__(self, query: str | None = None, cookie: str | None = None,
                 ui_locales: str | None = None, accept_language: str | None = None,
                 query_string: str = "") -> None:
        self.query = query if query in SUPPORTED else None
        self.cookie = cookie if cookie in SUPPORTED else None
        self.ui_locales = ui_locales
        self.accept_language = accept_language
        self.query_string = query_string
        self._locale: str | None = None

    @property
    def locale(self) -> str:
        if self._locale is None:
            self._locale = negotiate(self.query, self.cookie, self.ui_locales,
                                     self.accept_language)
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


def ui_locales_matter() -> bool:
    """Whether the authorization request's ``ui_locales`` could still change the locale (the
    citizen made no explicit choice): lets a controller skip looking it up."""
    choice = _choice.get()
    return choice is not None and not choice.explicit


def apply_ui_locales(ui_locales: str | None) -> str:
    """Take the OIDC ``ui_locales`` of the authorization request into account for the rest of
    this request (below an explicit choice, above Accept-Language); returns the locale."""
    choice = _choice.get()
    if choice is not None and ui_locales and not choice.explicit:
        choice.ui_locales = ui_locales
        choice._locale = None
    return current_locale()


# -- translating ---------------------------------------------------------------------------

def gettext(message: str) -> str:
    if isinstance(message, LazyString):
        return str(message)
    if not message:
        return message  # the empty msgid is the catalog's header
    return translations(current_locale()).gettext(message)


_ = gettext


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a string for the catalog without translating it (translate it when shown)."""
    return message


class LazyString:
    """A message translated each time it is turned into text, in the locale of that moment:
    for messages built before the locale is known (tables, error pages)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def __str__(self) -> str:
        return translations(current_locale()).gettext(self.message)

    def __html__(self) -> Markup:
        return escape(str(self))

    def __bool__(self) -> bool:
        return bool(self.message)

    def __repr__(self) -> str:
        return f"LazyString({self.message!r})"


def lazy_gettext(message: str) -> LazyString:
    return LazyString(message)


def translate(value):
    """Jinja filter: a text computed in Python comes out in the current locale. Lazy strings
    are translated; a plain French string is looked up in the catalog (and shown as it is
    when it is not there, e.g. a service's own name)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return translations(current_locale()).gettext(value) if value else value
    if isinstance(value, LazyString):
        return str(value)
    return value


# -- dates ---------------------------------------------------------------------------------

def format_date(epoch_seconds: float, locale: str | None = None) -> str:
    """A day written out in ``locale`` (the current one by default), in Paris time:
    ``28 novembre 2026`` / ``28 November 2026``."""
    day = datetime.fromtimestamp(epoch_seconds, _TIMEZONE).date()
    locale = locale if locale in SUPPORTED else current_locale()
    return _babel_format_date(day, format=DATE_PATTERN, locale=locale)


def date_filter(value, locale: str | None = None) -> str:
    return "" if value is None else format_date(value, locale)


def format_datetime(epoch_seconds: float, locale: str | None = None) -> str:
    """A moment, to the minute, in Paris time: ``28 novembre 2026, 14:03``."""
    moment = datetime.fromtimestamp(epoch_seconds, _TIMEZONE)
    locale = locale if locale in SUPPORTED else current_locale()
    return _babel_format_datetime(moment, format=DATE_PATTERN + ", HH:mm", locale=locale)


def datetime_filter(value, locale: str | None = None) -> str:
    return "" if value is None else format_datetime(value, locale)


# -- the language switch -------------------------------------------------------------------

def language_links() -> list[dict[str, str]]:
    """The links to the other languages: the same page (same path and query) with ``lang``
    set, as a relative URL."""
    choice = _choice.get()
    query = parse_qsl(choice.query_string, keep_blank_values=True) if choice else []
    kept = [(k, v) for k, v in query if k != QUERY]
    here = current_locale()
    return [{"code": code, "label": NAMES[code],
             "href": "?" + urlencode([*kept, (QUERY, code)])}
            for code in SUPPORTED if code != here]


def install_jinja(env) -> None:
    """Jinja's i18n extension with new-style callables reading the current locale, the
    ``date`` and ``translate`` filters and the ``current_locale`` / ``language_links``
    globals. The environment must have been created with ``jinja2.ext.i18n``."""
    load_catalogs()
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.filters["date"] = date_filter
    env.filters["datetime"] = datetime_filter
    env.filters["translate"] = translate
    env.globals["current_locale"] = current_locale
    env.globals["language_links"] = language_links


# -- per request ---------------------------------------------------------------------------

class LocaleMiddleware:
    """ASGI middleware: the locale of each HTTP request, in a context variable for the whole
    request (routing errors included); the ``broker_lang`` cookie when a GET asks for a
    language with ``?lang=``; ``Content-Language`` on HTML pages. A POST may carry ``?lang=``
    too (the forms do, so that the answer is in the language the form was shown in) without
    touching the cookie."""

    def __init__(self, app, secure: bool = False) -> None:
        self.app = app
        self.cookie_attributes = (f"; Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax"
                                  + ("; Secure" if secure else ""))

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
    return any(name.lower() == b"content-type" and value.startswith(b"text/html")
               for name, value in headers)


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
    return LocaleChoice(query=query_lang, cookie=cookie, ui_locales=ui_locales,
                        accept_language=accept, query_string=raw_query)


def _cookie_value(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value.strip().strip('"')
    return None
