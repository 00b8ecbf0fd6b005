"""Every word of the demo service has its English, with the same placeholders."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from jinja2 import Environment

from broker.demo.online_service import texts

PACKAGE = Path(texts.__file__).parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def messages() -> set[str]:
    """The messages the templates (``_("…")``) and the Python modules (``N_("…")``) use."""
    found: set[str] = set()
    extractor = Environment(extensions=["jinja2.ext.i18n"])
    for template in (PACKAGE / "templates").glob("*.html"):
        for _line, _function, message in extractor.extract_translations(template.read_text()):
            # A call with keyword arguments gives a tuple: the message, then a None for each.
            first = message[0] if isinstance(message, tuple) else message
            if isinstance(first, str):
                found.add(first)
    for module in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "N_"
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(node.args[0].value)
    return found


def test_every_message_has_its_english_and_no_english_is_left_over():
    used = messages()
    assert len(used) > 50  # the extraction itself works
    assert sorted(used - set(texts.ENGLISH)) == []
    assert sorted(set(texts.ENGLISH) - used) == []


def test_the_english_keeps_the_placeholders():
    for french, english in texts.ENGLISH.items():
        assert sorted(PLACEHOLDER.findall(french)) == sorted(PLACEHOLDER.findall(english)), french


def test_french_is_the_message_itself_and_english_its_translation():
    assert texts.translator("fr")("Bonjour %(name)s", name="Angela") == "Bonjour Angela"
    assert texts.translator("en")("Bonjour %(name)s", name="Angela") == "Hello Angela"
    assert texts.translator("en")("Message inconnu") == "Message inconnu"
