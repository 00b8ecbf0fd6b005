"""The citizen space's pages about records: the journal of accesses to the citizen's data
(filterable by service) and everything the broker holds about them, as a readable page and
as JSON. Mixed into ``consent.space.controller.SpaceController``, whose guard they share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Stream, Template

from broker.web.http import NO_STORE, page
from consent.space.export import document, json_document, tails
from consent.space.guard import SignedIn
from consent.space.holdings import Holdings
from consent.space.identity_view import identity_lines
from consent.space.journal import RowKey
from consent.space.service import CitizenSpace
from consent.space.signin import HOME
from consent.space.words import TEMPLATE_WORDS

MAX_PAGE_DIGITS = 6
JOURNAL = f"{HOME}/acces"
# The readable page shows the latest sign-ins, tokens and accesses, this many of each (the
# file has them all, the journal page every access).
SHOWN = 100


def page_number(raw: str) -> int:
    """A page number as typed in the address; anything else is the first page."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= MAX_PAGE_DIGITS else 1


def journal_link(service_id: str | None, number: int) -> str:
    query = {"service": service_id} if service_id else {}
    return f"{JOURNAL}?{urlencode({**query, 'page': number})}"


class RecordPages:
    @get("/acces")
    async def journal(
        self,
        request: Request,
        space: NamedDependency[CitizenSpace],
        citizen: NamedDependency[SignedIn],
    ) -> Template:
        view = await space.journal_page(
            citizen.citizen_id,
            page_number(request.query_params.get("page", "1")),
            request.query_params.get("service"),
        )
        chosen = view.chosen.id if view.chosen else None
        return page(
            "space_journal.html",
            {
                **TEMPLATE_WORDS,
                "journal": view.page,
                "services": view.services,
                "chosen": view.chosen,
                "filter_rejected": view.filter_rejected,
                "previous_page": journal_link(chosen, view.page.page - 1),
                "next_page": journal_link(chosen, view.page.page + 1),
            },
        )

    @get("/mes-donnees")
    async def holdings_page(
        self, space: NamedDependency[CitizenSpace], citizen: NamedDependency[SignedIn]
    ) -> Template:
        holdings: Holdings = await space.holdings(citizen.citizen_id, latest=SHOWN)
        identity = holdings.citizen and identity_lines(holdings.citizen, holdings.idp_name)
        return page(
            "space_export.html",
            {**TEMPLATE_WORDS, "holdings": holdings, "identity": identity},
        )

    @get("/export.json")
    async def export(
        self, space: NamedDependency[CitizenSpace], citizen: NamedDependency[SignedIn]
    ) -> Stream:
        holdings = await space.holdings(citizen.citizen_id)
        chunks = journal_chunks(space, citizen.citizen_id, holdings.identity_digest)
        # Past the headers, a failure (the database gone mid-journal) can only cut the
        # connection: the browser reports the download as failed, never as a whole file.
        return Stream(
            json_document(document(holdings), tails(holdings, chunks)),
            media_type="application/json",
            headers={**NO_STORE, "Content-Disposition": 'attachment; filename="mes-donnees.json"'},
        )


async def journal_chunks(
    space: CitizenSpace, citizen_id: str, identity_digest: str | None
) -> AsyncIterator[list[dict[str, Any]]]:
    """The citizen's whole journal, newest first, a chunk at a time."""
    before: RowKey | None = None
    while True:
        rows, before = await space.journal_chunk(citizen_id, identity_digest, before)
        yield rows
        if before is None:
            return
