"""The demo service's words: French in its code and templates (the msgids), English in its
own gettext catalog, ``locales/en/LC_MESSAGES/messages.po``.

The demo service is a relying party of its own, not a page of the broker: its words are not
in the broker's catalogs, but they are loaded the same way (Babel reads the .po file and
compiles it in memory, once per process; no .mo file is shipped). Python marks its messages
with ``N_`` and translates them when shown (:meth:`Language.gettext`); templates call
``_("…")`` (Jinja's i18n extension, new style, ``%(name)s`` placeholders).

To bring the catalog up to date after a change of words::

    pybabel extract -F broker/demo/online_service/locales/babel.cfg --no-location \\
        -o /tmp/demo.pot broker/demo/online_service
    pybabel update -i /tmp/demo.pot -d broker/demo/online_service/locales --no-fuzzy-matching

``tests/broker/demo/test_online_service_texts.py`` extracts the same way and fails on any
message without its English, and on any English no source uses."""

from __future__ import annotations

import functools
from gettext import NullTranslations
from pathlib import Path

from broker.web.i18n import compile_catalog

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
SOURCE = "fr"  # the msgids themselves
SUPPORTED = ("fr", "en")


@functools.cache
def translations(code: str) -> NullTranslations:
    """The catalog of the language ``code``, compiled from its .po file the first time."""
    if code == SOURCE or code not in SUPPORTED:
        return NullTranslations()
    return compile_catalog(LOCALES_DIR, code)


def load_catalogs() -> None:
    """Compile every catalog now, so that a broken .po stops the service's start-up."""
    for code in SUPPORTED:
        translations(code)
