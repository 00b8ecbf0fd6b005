"""Places of birth by name, from their codes in INSEE's official geographic code (COG,
``broker.catalogue.cog``): a commune by the name it had on the date of birth, a country in
the page's language. A code the table does not know is shown, said to be one, rather than
nothing."""

from __future__ import annotations

from datetime import date

from broker.catalogue import cog
from broker.web.i18n import N_, gettext
from broker.web.locale import current_locale

UNKNOWN_COMMUNE = N_("commune de code officiel %(code)s")
UNKNOWN_COUNTRY = N_("pays de code officiel %(code)s")


def commune(code: str, born_on: date | None) -> str:
    return cog.commune_name(code, born_on) or gettext(UNKNOWN_COMMUNE) % {"code": code}


def country(code: str) -> str:
    return cog.country_name(code, current_locale()) or gettext(UNKNOWN_COUNTRY) % {"code": code}
