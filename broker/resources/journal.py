"""The access journal of the data API: one row per call, written before any data is returned.
``CallRecord`` is what the row will say, filled in as the call goes."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from broker.catalogue.products import Product
from broker.core.db import Database
from broker.core.outages import OUTAGES, outage_kind
from broker.resources.credentials import Caller
from broker.store.data_access_store import SqlDataAccessStore

log = logging.getLogger("broker.resources")


@dataclass
class CallRecord:
    product: Product
    mode: str
    request_id: str
    started: float
    caller: Caller | None = None
    habilitation_id: str | None = None
    scopes: list[str] = field(default_factory=list)
    recipient: str | None = None
    identity_digest: str | None = None
    cached: bool = False
    rate_headers: dict[str, str] = field(default_factory=dict)  # once the limiter has counted
    dpop_headers: dict[str, str] = field(default_factory=dict)  # the next DPoP nonce, if asked


def write_journal(
    db: Database, call: CallRecord, outcome: str, status: int, error_code: str | None
) -> bool:
    """The call's row; False if it could not be written (then no data may leave)."""
    caller = call.caller
    entry = {
        "at": int(time.time()),
        "request_id": call.request_id[:64],
        "service_id": caller.service_id if caller else None,
        "habilitation_id": call.habilitation_id,
        "credential": caller.kind if caller else "none",
        "credential_id": caller.credential_id if caller else None,
        "client_id": caller.client.client_id if caller and caller.client else None,
        "citizen_id": caller.citizen_id if caller else None,
        "subject": caller.subject if caller else None,
        "identity_digest": call.identity_digest,
        "product": call.product.key,
        "mode": call.mode,
        "scopes": call.scopes if status == 200 else [],
        "recipient": call.recipient,
        "outcome": outcome,
        "status": status,
        "error_code": error_code,
        "cached": call.cached,
        "latency_ms": round((time.perf_counter() - call.started) * 1000),
    }
    try:
        with db.begin() as conn:
            SqlDataAccessStore(conn).journal(entry)
    except SQLAlchemyError as exc:
        kind = outage_kind(exc)
        if kind is not None:
            OUTAGES.report(kind, exc, "access journal")
            return False
        log.error(
            "access journal write failed",  # the type only: no row values in logs
            extra={"product": call.product.key, "outcome": outcome, "error": type(exc).__name__},
        )
        return False
    return True
