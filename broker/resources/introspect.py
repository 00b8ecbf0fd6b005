"""``GET /v3/introspect``: a credential's holder asks what it may do (``rights.describe``).

API keys and citizens' access tokens alike, DPoP-bound tokens with a proof of this very call
(its ``htu`` the data API's public URL of the path called). The credential is checked as for
a product call (401 in the same words, the challenge pointing at the data API's metadata), and
so is a token's consent; a token whose habilitation has been revoked or has expired is
described with that status and no product, since the token itself is still valid.

Not counted against the rate limit and not journaled: it reads no one's data, only the
caller's own rights (API Particulier's ``/api/introspect`` documents no 429 either).
"""

from __future__ import annotations

import time
from typing import Any

from broker.oidc.dpop_resource import DPOP, PresentedToken
from broker.resources import errors
from broker.resources.access import Answer, DataAccess
from broker.resources.credentials import (
    ACCESS_TOKEN,
    Caller,
    authenticate,
    consent_withdrawn,
    credential_from,
)
from broker.resources.habilitation_details import (
    HabilitationDetails,
    read_habilitation,
    read_key_name,
)
from broker.resources.ratelimit import WINDOW
from broker.resources.rights import (
    CredentialView,
    HabilitationView,
    RateLimitView,
    describe,
    habilitation_status,
)
from broker.store.data_access_store import SqlDataAccessStore
from broker.store.oidc_store import SqlOidcStore

NO_STORE = {"Cache-Control": "no-store"}


async def introspect(access: DataAccess, headers, path: str) -> Answer:
    """``path``: the path the client called (``/v3/introspect`` or API Particulier's
    ``/api/introspect``), which a DPoP proof names."""
    dpop_headers: dict[str, str] = {}
    try:
        credential = credential_from(headers)
        admitted = None
        if credential is not None and credential.scheme == DPOP:
            url = access.public_url(path)
            admitted = await access.db.run(
                lambda: access.admit_proof(credential, headers, url, dpop_headers)
            )
        described = await access.db.run(lambda: rights_of(access, credential, admitted))
    except errors.ApiError as error:
        return access.error_answer(error, {**NO_STORE, **dpop_headers})
    return Answer(200, described, {**NO_STORE, **dpop_headers})


def rights_of(
    access: DataAccess, credential: PresentedToken | None, admitted: Caller | None
) -> dict[str, Any]:
    now = int(time.time())
    with access.db.connect() as conn:
        caller = admitted or authenticate(
            credential,
            SqlOidcStore(conn),  # no client cache: revocations apply on the next call
            SqlDataAccessStore(conn),
            lambda: access.keys.verification_keys(credential.token if credential else None),
            access.config,
            now,
        )
        consent_expires_at = None
        if caller.kind == ACCESS_TOKEN:
            standing = access.ledger.standing(conn, caller.grant_id, now)
            terms = access.ledger.terms(conn, caller.grant_id, now)
            if not standing.active or terms is None:
                raise consent_withdrawn(credential)
            habilitation_id = standing.habilitation_id
            consent_expires_at = terms.expires_at
            name = caller.client.name if caller.client else ""
        else:
            habilitation_id = caller.habilitation.id if caller.habilitation else None
            name = read_key_name(conn, caller.credential_id) or ""
        details = read_habilitation(conn, habilitation_id) if habilitation_id else None
    if details is None or details.service_id != caller.service_id:
        raise errors.forbidden("Aucune habilitation de votre service ne se rattache à ce jeton.")
    return describe(
        CredentialView(
            kind=caller.kind,
            id=caller.credential_id,
            name=name,
            scopes=caller.scopes,
            expires_at=caller.expires_at,
            dpop_bound=caller.dpop_bound,
            client_id=caller.client.client_id if caller.client else None,
            consent_expires_at=consent_expires_at,
        ),
        (details.service_id, details.service_name),
        habilitation_view(details, now),
        RateLimitView(
            limit=details.rate_limit or access.default_rate_limit,
            window_seconds=WINDOW,
            platform_default=details.rate_limit is None,
        ),
        details.recipients,
    )


def habilitation_view(details: HabilitationDetails, now: int) -> HabilitationView:
    return HabilitationView(
        id=details.id,
        status=habilitation_status(details.expires_at, details.revoked_at, now),
        purpose=details.purpose,
        legal_basis=details.legal_basis,
        legal_basis_url=details.legal_basis_url,
        expires_at=details.expires_at,
        scopes=details.scopes,
    )
