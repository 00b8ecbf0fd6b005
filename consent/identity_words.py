"""The citizen's sex in words, from the value the identity provider states (``female``,
``male``), in French and in English: one table for the consent screen's identity preview and
the citizen space."""

from __future__ import annotations

GENDERS = {"female": ("Féminin", "Female"), "male": ("Masculin", "Male")}


def gender_word(value: str | None, en: bool) -> str:
    """The sex in words; a value the table does not know is shown as it is."""
    return GENDERS[value][en] if value in GENDERS else (value or "")
