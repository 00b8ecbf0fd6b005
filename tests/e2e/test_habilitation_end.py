"""A habilitation that is revoked or expires stops its API keys and its service's access tokens
at their very next call, over real sockets: a broker, the data API and the provider simulators
each on their own port, the database changed between two calls as the portal (revocation by an
administrator) or time (the expiry date passing) changes it; and once end to end through the
portal on its own socket (a requester issues the key there, an administrator revokes there)."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import select

from broker.admin.agents import Identity, grant_role, upsert_agent
from broker.admin.api_keys import issue_key
from broker.admin.habilitation_revocation import revoke_as_administrator
from broker.portal.app import build_portal_state, create_portal_app
from broker.portal.sessions import COOKIE
from broker.store.data_access_models import Habilitation
from broker.store.models import Service
from tests.broker.admin.habilitation_support import (
    OPERATOR,
    VILLEBOURG,
    administrator,
    organisation_habilitation,
    requester,
)
from tests.e2e.data_api_support import (
    access_token,
    assert_error,
    assert_ok,
    call,
    identite_params,
    journal_row,
    unique,
)
from tests.servers import bound_socket, serve_app

QF_IDENTITE = "/v3/dss/quotient_familial/identite"
QF_FRANCE_CONNECT = "/v3/dss/quotient_familial/france_connect"
ENDINGS = ["revoked", "expired"]
SECRET = re.compile(r"bpk_[A-Za-z0-9_-]{20,}")


def end(broker, habilitation_id: str, ending: str) -> None:
    """Revoked by an administrator through the portal's domain code (reason, audit trail), or
    expired: its expiry date set a second in the past, as time passing would leave it."""
    if ending == "revoked":
        with broker.state.db.transaction() as session:
            revoke_as_administrator(session, administrator(), habilitation_id, "Fin du marché")
        return
    with broker.state.db.transaction() as session:
        session.exec(
            update(Habilitation)
            .where(Habilitation.id == habilitation_id)  # type: ignore[arg-type]
            .values(expires_at=int(time.time()) - 1)
        )


@pytest.mark.parametrize("ending", ENDINGS)
def test_key_stops_at_the_next_call_when_its_habilitation_ends(broker, data_api, ending):
    alice = requester()
    habilitation = organisation_habilitation(broker.state.db)
    with broker.state.db.transaction() as session:
        issued = issue_key(session, alice, habilitation, "Logiciel cantine", int(time.time()))
    params = identite_params("nom_composé")

    data = assert_ok(call(data_api, QF_IDENTITE, issued.secret, params=params))
    assert data["quotient_familial"]["valeur"] == 635
    end(broker, habilitation, ending)

    for header in ("authorization", "x-api-key"):
        refused = call(data_api, QF_IDENTITE, issued.secret, header=header, params=params)
        code = "00105" if ending == "revoked" else "00103"  # siade: blacklisted / expired
        error = assert_error(refused, 401, code)
        said = "a été révoquée" if ending == "revoked" else "a expiré"
        assert error["detail"] == f"L'habilitation de cette clé d'API {said}."
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        row = journal_row(data_api, refused)
        assert (row.outcome, row.status) == ("unauthorized", 401)


@pytest.mark.parametrize("ending", ENDINGS)
def test_access_token_stops_at_the_next_call_when_its_habilitation_ends(broker, data_api, ending):
    service = unique("CCAS")
    token = access_token(
        broker, "nom_composé", "openid profile cnaf_quotient_familial", service=service
    )
    with broker.state.db.reader() as session:
        [habilitation] = session.exec(
            select(Habilitation.id)
            .join(Service, Service.id == Habilitation.service_id)  # type: ignore[arg-type]
            .where(Service.name == service)
        ).all()

    data = assert_ok(call(data_api, QF_FRANCE_CONNECT, token.access_token, recipient=None))
    assert data["quotient_familial"]["valeur"] == 635
    end(broker, habilitation, ending)

    refused = call(data_api, QF_FRANCE_CONNECT, token.access_token, recipient=None)
    error = assert_error(refused, 403, "00100")
    said = "a été révoquée" if ending == "revoked" else "a expiré"
    assert error["detail"].startswith(
        f"L'habilitation sous laquelle l'usager a consenti {said} : ce jeton ne donne plus "
        "accès à ces données. Listez vos privilèges sur "  # siade's pointer to the rights
    )
    assert error["detail"].endswith(f"{error['meta']['introspect']}.")
    row = journal_row(data_api, refused)
    assert (row.outcome, row.status, row.credential) == ("forbidden", 403, "access_token")


# -- the same, driven through the portal over its own socket -----------------------------------


@contextlib.contextmanager
def live_portal(broker) -> Iterator[tuple[str, object]]:
    """The portal on a loopback socket, on the broker's database."""
    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = broker.settings.model_copy(
        update={"portal_url": url, "portal_idp_issuer": "https://agents-idp.test"}
    )
    state = build_portal_state(settings)
    with serve_app(create_portal_app(settings, run_jobs=False, state=state), sock):
        yield url, state
    state.context.db.dispose()


def portal_browser(url: str, state, *, email: str, siret: str, role: str | None = None):
    """A browser holding a real portal session of this agent (opened by the session service:
    the sign-in through the agents' identity provider is tested in test_portal_signin.py)."""
    now = int(time.time())
    with state.context.db.transaction() as session:
        agent = upsert_agent(
            session,
            Identity(issuer="https://agents-idp.test", subject=email, email=email, siret=siret),
            now,
        )
        if role:
            grant_role(session, email=email, role=role, actor="test", now=now)
        session_id = state.sessions.open_in(session, agent.id, now)
    http = httpx.Client(base_url=url, cookies={COOKIE: session_id}, timeout=10)
    return http, state.sessions.csrf_token(session_id)


def test_key_issued_on_the_portal_stops_when_an_administrator_revokes_there(broker, data_api):
    habilitation = organisation_habilitation(broker.state.db)
    params = identite_params("nom_composé")
    with live_portal(broker) as (url, state):
        alice, alice_csrf = portal_browser(
            url, state, email="alice@villebourg.fr", siret=VILLEBOURG
        )
        shown = alice.post(
            f"/habilitations/{habilitation}/cles",
            data={"csrf": alice_csrf, "name": "Logiciel cantine"},
        )
        assert shown.status_code == 200 and shown.headers["cache-control"].startswith("no-store")
        [secret] = set(SECRET.findall(shown.text))
        assert_ok(call(data_api, QF_IDENTITE, secret, header="x-api-key", params=params))

        adam, adam_csrf = portal_browser(
            url, state, email="adam@operateur.gouv.fr", siret=OPERATOR, role="administrator"
        )
        path = f"/habilitations/{habilitation}/revocation"
        assert adam.get(path).status_code == 200
        revoked = adam.post(path, data={"csrf": adam_csrf, "reason": "Fin du marché"})
        assert revoked.status_code == 303, revoked.text

        error = assert_error(call(data_api, QF_IDENTITE, secret, params=params), 401, "00105")
        assert error["detail"] == "L'habilitation de cette clé d'API a été révoquée."
        page = alice.get(f"/habilitations/{habilitation}")
        assert 'data-standing="revoked"' in page.text and "Fin du marché" in page.text
        alice.close()
        adam.close()
