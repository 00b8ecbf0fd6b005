"""The demo service's own catalog is complete: every French string of its code and templates
has its English, nothing is stale, the placeholders are the same; and it is what the pages
and the Python code show."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from broker.demo.online_service import catalog
from broker.demo.online_service.language import Language
from broker.demo.online_service.pages import templates

PACKAGE = Path(catalog.__file__).resolve().parent
LOCALES = PACKAGE / "locales"


def extracted_messages() -> dict[str, list[str]]:
    """Every translatable string of the service's templates and Python code, as its
    ``locales/babel.cfg`` says (the command its header gives extracts the same)."""
    with (LOCALES / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def test_every_language_but_french_has_a_catalog():
    languages = sorted(po.parts[-3] for po in LOCALES.glob("*/LC_MESSAGES/messages.po"))
    assert languages == [code for code in catalog.SUPPORTED if code != catalog.SOURCE]


def test_every_string_is_translated_and_nothing_is_stale():
    extracted = extracted_messages()
    # The extraction itself works, for templates and Python alike.
    assert "Tarifs de la cantine scolaire" in extracted  # home.html
    assert "de %(low)s à %(high)s" in extracted  # pricing.py
    assert "non précisé" in extracted  # account.py, a marker outside any call
    with (LOCALES / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        english = read_po(po, locale="en")
    assert not english.fuzzy and not english.obsolete
    translated = {m.id: m for m in english if m.id}
    missing = {
        msgid: where
        for msgid, where in extracted.items()
        if msgid not in translated or not translated[msgid].string
    }
    assert not missing, f"strings without a translation: {missing}"
    fuzzy = [m.id for m in translated.values() if m.fuzzy]
    assert not fuzzy, f"fuzzy translations: {fuzzy}"
    stale = sorted(set(translated) - set(extracted))
    assert not stale, f"catalog entries no source uses any more: {stale}"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in english.check()]
    assert not problems, f"placeholders differ between French and English: {problems}"


def test_the_placeholder_check_catches_a_wrong_english():
    """The check above can fail: an English that drops or renames a placeholder is caught."""
    with (LOCALES / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        english = read_po(po, locale="en")
    english["Bonjour %(name)s"].string = "Hello %(nom)s"
    assert [m.id for m, _errors in english.check()] == ["Bonjour %(name)s"]


def test_french_is_the_message_itself_and_english_its_translation():
    assert Language("fr").gettext("Bonjour %(name)s", name="Angela") == "Bonjour Angela"
    assert Language("en").gettext("Bonjour %(name)s", name="Angela") == "Hello Angela"
    assert Language("en").gettext("Message inconnu") == "Message inconnu"
    assert catalog.translations("en") is catalog.translations("en")  # compiled once


def test_templates_translate_through_the_i18n_extension_and_escape_the_values():
    greeting = templates("en").from_string('{{ _("Bonjour %(name)s", name=name) }}')
    assert greeting.render(name="<Angela>") == "Hello &lt;Angela&gt;"
    french = templates("fr").from_string('{{ _("Se déconnecter") }}')
    assert french.render() == "Se déconnecter"
    assert templates("en").from_string('{{ _("Se déconnecter") }}').render() == "Sign out"
