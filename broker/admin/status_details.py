"""The status checks' details in words a person reads, in the page's language.

broker.admin.status stores each check's detail as a short technical English text (``retry in
600 s``, ``HTTP 502 07502``, ``no answer within 8 s``…), which ``/status.json`` gives as it is.
The public page shows it as a French msgid of the catalog with its parameters, recognised here
from the few forms broker.admin.status writes; any other detail (an identity provider's own
maintenance message, written by an operator) is shown as it was written."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


def N_(message: str) -> str:  # noqa: N802 - gettext's marker name, as Babel's extractor knows it
    """Marks a French msgid for the catalog; the portal translates it when it shows it."""
    return message


@dataclass(frozen=True)
class DetailWords:
    """``message``: a msgid to translate, then to fill with ``params`` (``%(name)s``); when
    ``translatable`` is False, a text to show as it is."""

    message: str
    params: dict[str, str] = field(default_factory=dict)
    translatable: bool = True


# The forms broker.admin.status writes, each with its words (a full match, parameters named).
FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"retry in (?P<seconds>[0-9]{1,9}) s"), N_("nouvel essai dans %(seconds)s s")),
    (re.compile(r"maintenance"), N_("maintenance")),
    (re.compile(r"disabled"), N_("désactivé")),
    (
        re.compile(r"HTTP (?P<status>[0-9]{3})(?: (?P<code>[A-Za-z0-9_-]{1,40}))?"),
        N_("réponse HTTP %(status)s"),
    ),
    (
        re.compile(r"no answer within (?P<seconds>[0-9.]{1,10}) s"),
        N_("pas de réponse en %(seconds)s s"),
    ),
    (re.compile(r"unreachable(?: \([A-Za-z]{1,60}\))?"), N_("injoignable")),
    (re.compile(r"discovery document is not JSON"), N_("document de découverte illisible")),
    (
        re.compile(r"discovery document without endpoints"),
        N_("document de découverte sans points d'accès"),
    ),
)


def detail_words(detail: str) -> DetailWords:
    for pattern, message in FORMS:
        match = pattern.fullmatch(detail)
        if match is not None:
            params = {name: value for name, value in match.groupdict().items() if value}
            return DetailWords(message, params)
    return DetailWords(detail, translatable=False)
