"""One citizen per person, even when their first two sign-ins happen at the same time."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from broker.identity.base import IdentityPivot, VerifiedIdentity
from broker.store.models import Citizen

ANGELA = IdentityPivot("Angela", "DUBOIS", "1962-08-24", "female", "75107", "99100")


def test_attack_two_first_sign_ins_at_once_make_one_citizen(state):
    sessions = state.flow.sessions
    start, results, errors = threading.Barrier(4, timeout=10), [], []

    def sign_in(subject: str) -> None:
        identity = VerifiedIdentity("identite-demo", subject, ANGELA, "eidas1", ("pwd",))
        try:
            start.wait()
            with state.db.begin() as conn:
                results.append(sessions.authentication(conn, identity, int(time.time())))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sign_in, args=(f"sub-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with state.db.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(Citizen)).scalar_one()
    if state.db.url.startswith("sqlite"):
        # SQLite takes one writer at a time: a loser may be told the database is busy, but
        # never makes a second citizen.
        assert rows == 1 and len({r.citizen_id for r in results}) == 1
        return
    assert errors == [] and rows == 1
    assert len({r.citizen_id for r in results}) == 1
