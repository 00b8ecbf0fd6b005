"""Identity releases in the access journal (``access_journal``): one row each time the
citizen's identity is sent to a service, beside the data API's rows.

A row says ``product = "identity"``, ``mode = "openid"``, and how the identity went
(``credential``: ``userinfo``; ``id_token`` is kept for an ID token that would carry identity
claims, which the broker's do not). The same compiled INSERT as the data API's, every column
given, so that both share one compiled form."""

from __future__ import annotations

from sqlalchemy import Connection

from broker.core.logs import request_id_var
from broker.oidc.identity_release import IdentityRelease
from broker.store.data_access_store import INSERT_JOURNAL

PRODUCT = "identity"
MODE = "openid"


def journal_release(conn: Connection, release: IdentityRelease, at: int) -> None:
    conn.execute(
        INSERT_JOURNAL,
        {
            "at": at,
            "request_id": (request_id_var.get() or "")[:64],
            "service_id": release.service_id,
            "habilitation_id": None,  # the identity stands on the consent, not a habilitation
            "credential": release.credential,
            "credential_id": release.credential_id,
            "client_id": release.client_id,
            "citizen_id": release.citizen_id,
            "subject": release.subject,
            "identity_digest": None,
            "product": PRODUCT,
            "mode": MODE,
            "scopes": list(release.scopes),
            "recipient": None,
            "outcome": "ok",
            "status": 200,
            "error_code": None,
            "cached": False,
            "latency_ms": 0,
        },
    )
