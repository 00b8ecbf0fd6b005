"""Everything the broker holds about a citizen (GDPR article 15), as one JSON document a
program can read and a person can follow: every date also in ISO 8601 (Paris time), every
item, product and status also in words, in the citizen's language. The readable HTML page
(``space_export.html``) shows the same ``Holdings``.

The lists come last and are written out item by item (``json_document``): the sign-ins and
the tokens from the rows read (held once, never also as one text), the journal, which only
grows, as its chunks are read. The file never sits whole in memory."""

from __future__ import annotations

import json
import textwrap
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import Any

from broker.identity.sign_ins import SignInView
from broker.web.i18n import TIMEZONE
from broker.web.locale import current_locale
from consent.space.history import ConsentView
from consent.space.holdings import Holdings, Notice, TokenView
from consent.space.identity_view import birthcountry_name, birthplace_name
from consent.space.words import (
    access_words,
    acr_label,
    event_label,
    notice_state,
    result_label,
    scope_label,
    scope_labels,
    status_label,
    token_kind_label,
    token_state,
)

# What the export shows of the identity the identity provider sent, and when it was received.
IDENTITY_FIELDS = (
    "idp",
    "idp_subject",
    "given_name",
    "family_name",
    "preferred_username",
    "birthdate",
    "gender",
    "birthplace",
    "birthcountry",
    "email",
    "created_at",
    "updated_at",
)
INDENT = 2
# A list of the document, written last: its key, and its items a part at a time.
Items = Iterable[dict[str, Any]]
Tail = tuple[str, AsyncIterable[Items]]


def iso(epoch: int | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, TIMEZONE).isoformat()


def with_iso(record: dict[str, Any], *keys: str) -> dict[str, Any]:
    """``record`` with ``<key>_iso`` beside each epoch-seconds ``key``."""
    out = {}
    for key, value in record.items():
        out[key] = value
        if key in keys:
            out[f"{key}_iso"] = iso(value)
    return out


def document(holdings: Holdings) -> dict[str, Any]:
    """The document without its lists (``json_document`` writes them, last: ``tails``)."""
    return {
        **with_iso({"generated_at": holdings.generated_at}, "generated_at"),
        "language": current_locale(),
        "identity": identity(holdings),
        "blocked_providers": [{"id": p.id, "name": p.name} for p in holdings.blocked],
        "consents": [consent(c, holdings.notices.get(c.id, [])) for c in holdings.consents],
    }


def tails(holdings: Holdings, journal_chunks: AsyncIterable[list[dict[str, Any]]]) -> list[Tail]:
    """The document's lists: the sign-ins and the tokens, each item put in words as it is
    written, and the journal's rows (``journal.row_of``) as ``journal_chunks`` reads them."""
    now = holdings.generated_at
    return [
        ("sign_ins", at_once(sign_in(view) for view in holdings.sign_ins)),
        ("tokens", at_once(token(view, now) for view in holdings.tokens)),
        ("journal", accesses(journal_chunks)),
    ]


async def at_once(items: Items) -> AsyncIterator[Items]:
    yield items


async def accesses(chunks: AsyncIterable[list[dict[str, Any]]]) -> AsyncIterator[Items]:
    async for rows in chunks:
        yield (access(row) for row in rows)


async def json_document(head: dict[str, Any], lists: Sequence[Tail]) -> AsyncIterator[str]:
    """``head`` and then its ``lists``, as ``json.dumps(..., indent=2)`` would write the
    whole, piece by piece."""
    whole = json.dumps({**head, **{key: [] for key, _ in lists}}, ensure_ascii=False, indent=INDENT)
    # The lists are the last keys: the last "[]" of the text are theirs.
    opening, *between, closing = whole.rsplit("[]", len(lists))
    del head, whole  # the journal may take long to write: meanwhile the head is text only
    for before, (_, parts) in zip([opening, *between], lists, strict=True):
        yield before + "["
        separator = "\n"
        async for items in parts:
            for item in items:
                text = json.dumps(item, ensure_ascii=False, indent=INDENT)
                yield separator + textwrap.indent(text, " " * 2 * INDENT)
                separator = ",\n"
        yield "]" if separator == "\n" else "\n" + " " * INDENT + "]"
    yield closing


def identity(holdings: Holdings) -> dict[str, Any] | None:
    citizen = holdings.citizen
    if citizen is None:
        return None
    shown = with_iso({key: getattr(citizen, key) for key in IDENTITY_FIELDS}, "created_at")
    shown = with_iso(shown, "updated_at")
    shown["idp_name"] = holdings.idp_name
    shown["birthplace_name"] = birthplace_name(citizen)
    shown["birthcountry_name"] = birthcountry_name(citizen)
    return shown


def consent(view: ConsentView, notices: list[Notice]) -> dict[str, Any]:
    return {
        **with_iso(
            {
                "id": view.id,
                "service": view.service_name,
                "client_id": view.client_id,
                "status": view.status,
                "status_label": status_label(view.status),
                "mode": view.mode,
                "created_at": view.created_at,
                "expires_at": view.expires_at,
                "ended_at": view.ended_at,
            },
            "created_at",
            "expires_at",
            "ended_at",
        ),
        "purpose": view.purpose,
        "legal_basis": view.legal_basis,
        "legal_basis_url": view.legal_basis_url,
        "controller": view.controller,
        "contact": view.contact,
        "dpo": view.dpo,
        "retention": view.retention,
        "items": [
            with_iso(
                {
                    "scope": item["scope"],
                    "label": scope_label(item["scope"]),
                    "optional": item["optional"],
                    "reason": view.reasons.get(item["scope"]),
                    "withdrawn_at": item["withdrawn_at"],
                },
                "withdrawn_at",
            )
            for item in view.items
        ],
        "events": [
            with_iso(
                {
                    "kind": event["kind"],
                    "label": event_label(event["kind"]),
                    "at": event["at"],
                    "scopes": event["scopes"],
                    "scope_labels": [scope_label(s) for s in event["scopes"]],
                    "wording": event["wording"],
                },
                "at",
            )
            for event in view.events
        ],
        # What the service was told of the changes, on its back-channel (not the events).
        "service_told": [
            with_iso(
                {
                    "kind": notice.kind,
                    "label": event_label(notice.kind),
                    "created_at": notice.created_at,
                    "delivered_at": notice.delivered_at,
                    "failed_at": notice.failed_at,
                    "state": notice_state(notice),
                },
                "created_at",
                "delivered_at",
                "failed_at",
            )
            for notice in notices
        ],
        "receipt": view.receipt,
    }


def sign_in(view: SignInView) -> dict[str, Any]:
    return with_iso(
        {
            "at": view.at,
            "provider": view.provider,
            "service": view.service,  # None: the citizen space
            "level": view.acr,
            "level_label": acr_label(view.acr),
        },
        "at",
    )


def token(view: TokenView, now: int) -> dict[str, Any]:
    return with_iso(
        {
            "kind": view.kind,
            "kind_label": token_kind_label(view.kind),
            "service": view.service_name,
            "client_id": view.client_id,
            "consent_id": view.consent_id,
            "scopes": view.scopes,
            "scope_labels": scope_labels(view.scopes),
            "issued_at": view.issued_at,
            "expires_at": view.expires_at,
            "revoked_at": view.revoked_at,
            "used_at": view.used_at,
            "state": token_state(view, now),
        },
        "issued_at",
        "expires_at",
        "revoked_at",
        "used_at",
    )


def access(row: dict[str, Any]) -> dict[str, Any]:
    words = access_words(row)
    return {
        **with_iso(row, "at"),
        "scope_labels": [scope_label(s) for s in row["scopes"]],
        "provider": words.provider,
        "data": words.data,
        "identity": words.identity,
        "result": result_label(row),
    }
