"""The sign-in journal: the citizen space shows the latest sign-ins, the export every one."""

from __future__ import annotations

import time

from broker.identity import sign_ins
from broker.identity.base import VerifiedIdentity
from tests.broker.identity.test_citizens import ANGELA


def test_the_space_shows_the_latest_sign_ins_and_the_export_all_of_them(state):
    identity = VerifiedIdentity("identite-demo", "sub-history", ANGELA, "eidas1", ("pwd",))
    now = int(time.time())
    with state.db.begin() as conn:
        citizen_id = state.flow.sessions.authentication(conn, identity, now).citizen_id
        for n in range(sign_ins.HISTORY_LENGTH + 5):
            sign_ins.record_sign_in(conn, citizen_id, "identite-demo", None, "eidas1", now + n)
    with state.db.connect() as conn:
        latest = sign_ins.history(conn, citizen_id)
        everything = sign_ins.history(conn, citizen_id, limit=None)
    assert len(latest) == sign_ins.HISTORY_LENGTH and latest[0].at == everything[0].at
    assert len(everything) >= sign_ins.HISTORY_LENGTH + 5
    assert [v.at for v in everything] == sorted((v.at for v in everything), reverse=True)
