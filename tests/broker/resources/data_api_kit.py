"""The data API in process, for focused tests: the real application (ASGI, through
``httpx.ASGITransport``) on the in-process broker's migrated database, and API keys bound to
habilitations of new services. Over sockets, with tokens, see tests/e2e/data_api_support.py."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from sqlmodel import select

from broker.admin.api_keys import issue_by_operator
from broker.admin.habilitations import HabilitationRequest, add_habilitation
from broker.resources.app import ResourceState, build_resource_state, create_resource_asgi_app
from broker.store.data_access_models import AccessJournal

DINUM = "13002526500013"  # SIRET of DINUM, a public body
VILLEBOURG = "21730001500013"  # SIRET of the Mairie de Villebourg (demo data)
QF_IDENTITE = "/v3/dss/quotient_familial/identite"
IDENTITY = {
    "nomNaissance": "DUBOIS",
    "prenoms[]": ["Angela", "Claire", "Louise"],
    "anneeDateNaissance": "1962",
    "moisDateNaissance": "8",
    "jourDateNaissance": "24",
    "sexeEtatCivil": "F",
    "codeCogInseePaysNaissance": "99100",
    "codeCogInseeCommuneNaissance": "75107",
}


@dataclass(frozen=True)
class Key:
    secret: str
    id: str
    habilitation_id: str
    service_id: str


@dataclass
class InProcessDataApi:
    app: Any  # an ASGI application
    state: ResourceState
    base_url: str

    def get(
        self, path: str, headers: Mapping[str, str] | None = None, params: dict | None = None
    ) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=self.base_url) as http:
                return await http.get(path, headers=dict(headers or {}), params=params)

        return asyncio.run(send())

    def journal_row(self, response: httpx.Response) -> AccessJournal:
        request_id = response.headers["x-request-id"]
        with self.state.db.reader() as session:
            rows = session.exec(
                select(AccessJournal).where(AccessJournal.request_id == request_id)
            ).all()
        assert len(rows) == 1, rows
        return rows[0]


@contextlib.contextmanager
def data_api_in_process(broker_state, **overrides) -> Iterator[InProcessDataApi]:
    """The data API of ``broker_state``'s settings (``overrides`` applied), in process."""
    settings = broker_state.settings.model_copy(update={"redis_url": "", **overrides})
    state = build_resource_state(settings)
    app = create_resource_asgi_app(settings, state)
    try:
        yield InProcessDataApi(app, state, "http://data-api.test")  # Host is never read
    finally:
        asyncio.run(state.http.aclose())  # no lifespan through ASGITransport
        state.db.dispose()


def api_key(
    broker_state,
    scopes: str = "cnaf_quotient_familial cnaf_enfants",
    recipients: tuple[str, ...] = (DINUM,),
    rate_limit: int | None = None,
) -> Key:
    """A habilitation of a new service for ``scopes``, its data sent to ``recipients``, and
    one key for it."""
    with broker_state.db.transaction() as session:
        created = add_habilitation(
            session,
            HabilitationRequest(
                service=f"Service {secrets.token_hex(4)}",
                scopes=scopes,
                purpose="Tarification sociale de la cantine scolaire",
                legal_basis="Code de l'éducation, article L. 131-13",
                rate_limit=rate_limit,
                create_service=True,
                recipients=recipients,
            ),
        )
        issued = issue_by_operator(
            session, "test:resources", created["id"], "Clé de test", int(time.time())
        )
    return Key(issued.secret, issued.key.id, created["id"], created["service_id"])
