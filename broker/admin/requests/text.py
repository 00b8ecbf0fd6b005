"""Free text agents type (a message, a decision's reason, a revocation's reason): line breaks
and tabs are text, other control characters are not. PostgreSQL refuses a NUL in a text column
outright, and the others have no business in what another agent reads."""

from __future__ import annotations

import unicodedata

KEPT = frozenset("\n\t")


def typed_text(text: str | None) -> str:
    """``text`` trimmed, its line breaks as browsers send them (CR LF) made plain LF."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in KEPT for c in text)
