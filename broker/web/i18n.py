"""French and English for the citizen pages, through gettext catalogs.

French is the source language: every msgid is the French text. Each package that has pages
keeps its own English catalog (``<package>/locales/en/LC_MESSAGES/messages.po``: this
package's for the broker's pages, ``consent/locales`` for the consent screen and the citizen
space); the composition root names them with :func:`use_catalogs`, and a message is looked up
in each in turn. Catalogs are compiled in memory, once per process; no ``.mo`` file is
shipped. The locale itself is chosen per request (``broker.web.locale``).

Python code marks its strings with :func:`N_` (a no-op marker, for tables of messages) and
translates them with :func:`gettext` at render time, or hands the template a
:func:`lazy_gettext` string that is translated when it is rendered. Templates use
``{{ _("…") }}`` with ``%(name)s`` placeholders (Jinja's i18n extension, new style).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime
from gettext import GNUTranslations, NullTranslations
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment
from markupsafe import Markup, escape

from broker.web.locale import DEFAULT, SUPPORTED, current_locale, language_links

DOMAIN = "messages"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DATE_PATTERN = "d MMMM y"  # 28 novembre 2026 / 28 November 2026

try:
    TIMEZONE: Any = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # pragma: no cover - no time-zone database on this system
    TIMEZONE = UTC

catalog_dirs: tuple[Path, ...] = (LOCALES_DIR,)


# -- catalogs ------------------------------------------------------------------------------


def use_catalogs(directories: Iterable[Path]) -> None:
    """The catalog directories, looked up in this order; compiled again on next use."""
    global catalog_dirs
    catalog_dirs = tuple(directories)
    translations.cache_clear()


def compile_catalog(directory: Path, locale: str) -> GNUTranslations:
    path = directory / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return GNUTranslations(compiled)


@functools.cache
def translations(locale: str) -> NullTranslations:
    """The catalogs of ``locale``, chained (each falls back on the next), compiled in memory
    from their .po files the first time."""
    if locale not in SUPPORTED or locale == DEFAULT:
        return NullTranslations()  # French: the msgids themselves
    first, *others = [compile_catalog(directory, locale) for directory in catalog_dirs]
    for other in others:
        first.add_fallback(other)
    return first


def load_catalogs() -> None:
    """Compile every catalog now, so that a broken .po stops the start-up."""
    for locale in SUPPORTED:
        translations(locale)


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


def N_(message: str) -> str:  # noqa: N802 - gettext's marker name, as xgettext knows it
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
    day = datetime.fromtimestamp(epoch_seconds, TIMEZONE).date()
    locale = locale if locale in SUPPORTED else current_locale()
    return dates.format_date(day, format=DATE_PATTERN, locale=locale)


def date_filter(value, locale: str | None = None) -> str:
    return "" if value is None else format_date(value, locale)


def format_datetime(epoch_seconds: float, locale: str | None = None) -> str:
    """A moment, to the minute, in Paris time: ``28 novembre 2026, 14:03``."""
    moment = datetime.fromtimestamp(epoch_seconds, TIMEZONE)
    locale = locale if locale in SUPPORTED else current_locale()
    return dates.format_datetime(moment, format=DATE_PATTERN + ", HH:mm", locale=locale)


def datetime_filter(value, locale: str | None = None) -> str:
    return "" if value is None else format_datetime(value, locale)


# -- templates -----------------------------------------------------------------------------


def install_jinja(env: Environment) -> None:
    """Jinja's i18n extension with new-style callables reading the current locale, the
    ``date`` and ``translate`` filters and the ``current_locale`` / ``language_links``
    globals. The environment must have been created with ``jinja2.ext.i18n``."""
    load_catalogs()
    env.policies["ext.i18n.trimmed"] = True
    # Added to the environment by the jinja2.ext.i18n extension, unknown to its type hints.
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["date"] = date_filter
    env.filters["datetime"] = datetime_filter
    env.filters["translate"] = translate
    env.globals["current_locale"] = current_locale
    env.globals["language_links"] = language_links
