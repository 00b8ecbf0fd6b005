"""The demo service's language: French first, English available through its own switch
(``?lang=en``, remembered in its own cookie), else the browser's Accept-Language, else French.

Its cookie is not the broker's (``broker_lang``): in the demo both run on 127.0.0.1, where
browsers share cookies between ports, and each side keeps its own choice. The service tells
the broker its language with ``ui_locales`` on the authorization and logout requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal
from litestar import Request
from litestar.datastructures import Cookie

from broker.demo.online_service.catalog import SUPPORTED, translations
from broker.web.locale import negotiate  # Accept-Language with q-values, read as the broker does

COOKIE = "cantine_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
QUERY = "lang"
NAMES = {"fr": "Français", "en": "English"}  # each language under its own name
BABEL_LOCALES = {"fr": "fr_FR", "en": "en_GB"}
PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Language:
    code: str  # "fr" or "en"
    chosen_now: bool = False  # ``?lang=`` on this GET: the cookie remembers it

    def gettext(self, message: str, **values: object) -> str:
        """``message`` (a French msgid) in this language, its ``%(name)s`` filled in."""
        text = translations(self.code).gettext(message)
        return text % values if values else text

    @property
    def other(self) -> dict[str, str]:
        """The switch to the other language: a plain link (no script), to the home page, which
        shows the signed-in citizen's page too (a callback's URL cannot be loaded twice)."""
        code = next(c for c in SUPPORTED if c != self.code)
        return {"code": code, "label": NAMES[code], "href": f"/?{QUERY}={code}"}

    def number(self, value: int) -> str:
        """1001 as this language writes it: 1 001 (a narrow no-break space), 1,001."""
        return format_decimal(value, locale=BABEL_LOCALES[self.code])

    def euros(self, cents: int) -> str:
        return format_currency(Decimal(cents) / 100, "EUR", locale=BABEL_LOCALES[self.code])

    def day(self, value: date) -> str:
        return format_date(value, "short", locale=BABEL_LOCALES[self.code])

    def month(self, year: int, month: int) -> str:
        return format_date(date(year, month, 1), "MMMM y", locale=BABEL_LOCALES[self.code])

    def moment(self, timestamp: float, seconds: bool = False) -> dict[str, str]:
        """A time stamp as the date and the time of day in Paris, for ``%(date)s``/``%(time)s``."""
        when = datetime.fromtimestamp(timestamp, PARIS)
        locale = BABEL_LOCALES[self.code]
        return {
            "date": format_date(when, "short", locale=locale),
            "time": format_time(when, "medium" if seconds else "short", locale=locale),
        }

    def cookies(self) -> list[Cookie]:
        if not self.chosen_now:
            return []
        return [
            Cookie(
                key=COOKIE,
                value=self.code,
                max_age=COOKIE_MAX_AGE,
                path="/",
                httponly=True,
                samesite="lax",
            )
        ]


def language_of(request: Request) -> Language:
    asked = request.query_params.get(QUERY)
    asked = asked if asked in SUPPORTED else None
    code = negotiate(
        asked,
        request.cookies.get(COOKIE),
        None,
        request.headers.get("accept-language"),
    )
    return Language(code, chosen_now=asked is not None and request.method == "GET")
