"""SIRET numbers (an establishment of a French organisation): 14 digits and a check key.

Here, below every layer that checks one: the data API's ``recipient`` parameter and the
habilitations and their requests (an organisation, the recipients)."""

from __future__ import annotations

import re

LA_POSTE_SIREN = "356000000"


def valid_siret(value: str) -> bool:
    """14 digits with a valid Luhn key; La Poste's establishments use a digit sum that is a
    multiple of 5 instead (their SIREN has too many establishments for Luhn)."""
    if not re.fullmatch(r"[0-9]{14}", value):
        return False
    if value.startswith(LA_POSTE_SIREN) and value != LA_POSTE_SIREN + "00048":
        return sum(int(c) for c in value) % 5 == 0
    total = 0
    for position, char in enumerate(reversed(value)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0
