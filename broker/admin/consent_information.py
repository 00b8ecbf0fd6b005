"""What a habilitation tells the citizen on the consent screen besides its purpose: who is
responsible for the data and how to reach them and their data protection officer, how long
the service keeps the data, why each item is needed, and what to do instead of consenting.

Checked here, once, for every caller (the command line, the demo seed, the portal to come).
Everything is optional (habilitations approved before these existed have none), but what is
given is shown to citizens as written: plain text, bounded, no control or invisible character,
contacts that are an email address or an https URL and nothing else."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from broker.admin.clients import AdminError, check_https_url
from broker.catalogue.registry import DATA, Scope
from broker.catalogue.scopes import REGISTRY

# The habilitation table's column sizes (broker/store/data_access_models.py), in characters.
MAX_CONTROLLER = 300
MAX_CONTACT = 500
MAX_RETENTION = 1000
MAX_IF_REFUSED = 2000
MAX_REASON = 300  # one or two short sentences: the consent screen shows it under the item

# Control characters (line breaks included), invisible formatting characters (bidirectional
# overrides could make a text read otherwise than it is stored), surrogates, private-use and
# unassigned code points, line and paragraph separators.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})

# A deliberately narrow address: the characters of ordinary addresses only, so that it reads
# the same in a mailto: link (no "?" or "&" turning part of it into a subject or a copy).
EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59}))"
)
MAX_EMAIL = 254  # RFC 5321 §4.5.3.1.3, a path of at most 256 octets with its angle brackets
MAX_EMAIL_LOCAL = 64  # RFC 5321 §4.5.3.1.1

# The single texts, by their column names; with ``reasons``, what an amendment may clear.
TEXTS = ("controller", "contact", "dpo", "retention", "if_refused")
CLEARABLE = (*TEXTS, "reasons")

# The subject identifier: the screen lists no item for it, so no reason could be shown.
NOT_SHOWN_CLAIMS = frozenset({"sub"})


@dataclass(frozen=True)
class StatedInformation:
    """What the administrator stated, as the options give it (``--reason``: "SCOPE=TEXT");
    None: not stated."""

    controller: str | None = None  # the organisation responsible for the data
    contact: str | None = None  # its contact: an email address (mailto: accepted) or https URL
    dpo: str | None = None  # its data protection officer: likewise
    retention: str | None = None  # how long the service keeps the data, in words
    reasons: tuple[str, ...] = ()  # "SCOPE=TEXT" each, as --reason gives them
    if_refused: str | None = None  # what the citizen can do instead (the other procedure)


def checked_text(value: str | None, option: str, limit: int) -> str | None:
    """``value`` stripped; None stays None (not stated)."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        raise AdminError(f"{option} must not be blank (leave it out if there is nothing to say)")
    if len(text) > limit:
        raise AdminError(f"{option} must be at most {limit} characters (it has {len(text)})")
    if any(unicodedata.category(c) in REFUSED_CATEGORIES for c in text):
        raise AdminError(
            f"{option} must not contain control or invisible characters (line breaks included)"
        )
    return text


def checked_contact(value: str | None, option: str) -> str | None:
    """An email address (a ``mailto:`` prefix is dropped) or an https URL."""
    text = checked_text(value, option, MAX_CONTACT)
    if text is None:
        return None
    if text.lower().startswith("mailto:"):
        return checked_email(text[len("mailto:") :], option)
    if "@" in text and ":" not in text:
        return checked_email(text, option)
    if urlsplit(text).scheme.lower() != "https":
        raise AdminError(f"{option} must be an email address or an https URL: {text!r}")
    check_https_url(text, option)
    return text


def checked_email(address: str, option: str) -> str:
    found = EMAIL.fullmatch(address)
    if found is None or len(address) > MAX_EMAIL or len(found["local"]) > MAX_EMAIL_LOCAL:
        raise AdminError(
            f"{option} must be an email address (name@domain.example) or an https URL: {address!r}"
        )
    return f"{found['local']}@{found['domain'].lower()}"


def shown_as_an_item(scope: Scope) -> bool:
    """Whether the consent screen lists ``scope`` as an item, where its reason is shown: every
    data scope, and the identity scopes releasing a claim besides ``sub`` (``openid`` only
    gives the service a technical identifier, which the screen does not list)."""
    return scope.kind == DATA or bool(set(scope.claims) - NOT_SHOWN_CLAIMS)


def checked_reasons(entries: Iterable[str], data_scopes: Iterable[str]) -> dict[str, str] | None:
    """``SCOPE=TEXT`` entries, one per scope at most: the habilitation's data scopes, and the
    identity scopes the screen lists (it lists the identity items a service asks for too)."""
    allowed_data = set(data_scopes)
    reasons: dict[str, str] = {}
    for entry in entries:
        scope, equals, text = entry.partition("=")
        scope = scope.strip()
        if not equals or not scope:
            raise AdminError(f"--reason must be SCOPE=TEXT: {entry!r}")
        known = REGISTRY.get(scope)
        if known is None:
            raise AdminError(f"--reason names an unknown scope: {scope}")
        if not shown_as_an_item(known):
            raise AdminError(f"--reason {scope}: the consent screen shows no such item")
        if known.kind == DATA and scope not in allowed_data:
            raise AdminError(f"--reason for {scope}, which is not among --scopes")
        if scope in reasons:
            raise AdminError(f"--reason given twice for {scope}")
        reasons[scope] = checked_text(text, f"--reason for {scope}", MAX_REASON) or ""
    return reasons or None


def checked_information(info: StatedInformation, data_scopes: Iterable[str]) -> dict[str, Any]:
    """The habilitation's column values, checked and normalised."""
    return {
        "controller": checked_text(info.controller, "--controller", MAX_CONTROLLER),
        "contact": checked_contact(info.contact, "--contact"),
        "dpo": checked_contact(info.dpo, "--dpo"),
        "retention": checked_text(info.retention, "--retention", MAX_RETENTION),
        "reasons": checked_reasons(info.reasons, data_scopes),
        "if_refused": checked_text(info.if_refused, "--if-refused", MAX_IF_REFUSED),
    }


def unstated(habilitation: Mapping[str, Any]) -> list[str]:
    """What a described habilitation leaves the consent screen unable to say: the options not
    given, and ``--reason SCOPE`` for each of its data scopes without a reason."""
    missing = [f"--{option_name(field)}" for field in TEXTS if not habilitation.get(field)]
    reasons = habilitation.get("reasons") or {}
    missing += [f"--reason {s}" for s in habilitation.get("scopes", ()) if s not in reasons]
    return missing


def amended(
    stored: Mapping[str, Any], changes: StatedInformation, *, cleared: Iterable[str] = ()
) -> StatedInformation:
    """What a habilitation states (``stored``, its columns) with ``changes`` applied: an option
    given replaces its text, one left out keeps it, one ``cleared`` (:data:`CLEARABLE`) is
    removed. ``--reason SCOPE=TEXT`` replaces that item's reason only; clearing ``reasons``
    drops the stored ones first, so the reasons given state them anew. A text cannot be
    cleared and given at once. A stored reason the screen could never show (for ``openid``,
    accepted before such reasons were refused) is not kept: checked again, it would refuse an
    update that does not mention it."""
    removed = set(cleared)
    if unknown := removed - set(CLEARABLE):
        raise AdminError(
            f"--clear must be one of {', '.join(map(option_name, CLEARABLE))}: "
            + ", ".join(sorted(unknown))
        )
    if both := [f for f in TEXTS if f in removed and getattr(changes, f) is not None]:
        raise AdminError(
            "; ".join(
                f"--clear {option_name(f)} and --{option_name(f)} together: give one or the other"
                for f in both
            )
        )
    if changes == StatedInformation() and not removed:
        raise AdminError(
            "nothing to change: give --controller, --contact, --dpo, --retention, --reason, "
            "--if-refused or --clear FIELD"
        )
    given = {entry.partition("=")[0].strip() for entry in changes.reasons}
    kept = {} if "reasons" in removed else dict(stored.get("reasons") or {})
    reasons = tuple(
        f"{scope}={text}"
        for scope, text in kept.items()
        if scope not in given and (known := REGISTRY.get(scope)) and shown_as_an_item(known)
    )
    texts = {field: stored.get(field) for field in TEXTS if field not in removed}
    texts.update({f: getattr(changes, f) for f in TEXTS if getattr(changes, f) is not None})
    return StatedInformation(**texts, reasons=reasons + changes.reasons)


def option_name(field: str) -> str:
    """The command-line spelling of a field (``if_refused``: ``if-refused``)."""
    return field.replace("_", "-")
