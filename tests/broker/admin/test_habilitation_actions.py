"""What a habilitation's page offers is decided by the domain (broker.admin.habilitation_actions),
by the same rules as the actions themselves: a button shown is an action allowed."""

from __future__ import annotations

import time

import pytest

from broker.admin.habilitation_actions import habilitation_actions
from broker.admin.habilitation_views import request_history, visible_habilitation
from broker.core.db import Database
from tests.broker.admin.habilitation_support import (
    VAL_FLEURI,
    administrator,
    end_habilitation,
    instructor,
    organisation_habilitation,
    requester,
)


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def actions_of(db, agent, habilitation_id):
    now = int(time.time())
    with db.reader() as session:
        habilitation = visible_habilitation(session, agent, habilitation_id)
        history = request_history(session, habilitation)
        return habilitation_actions(session, agent, habilitation, history, now)


def test_role_each_agent_is_offered_what_it_may_do(db):
    mine = organisation_habilitation(db)
    alice = actions_of(db, requester(), mine)
    assert (alice.may_issue, alice.may_manage_keys, alice.may_reopen, alice.may_revoke) == (
        True,
        True,
        True,
        False,
    )
    adam = actions_of(db, administrator(), mine)
    assert adam.may_revoke and not adam.may_reopen  # not a requester of that organisation
    ines = actions_of(db, instructor(), mine)
    assert not (ines.may_revoke or ines.may_reopen or ines.may_issue)
    other = actions_of(db, requester(VAL_FLEURI), organisation_habilitation(db, VAL_FLEURI))
    assert other.may_reopen


def test_role_a_revoked_habilitation_offers_neither_reopening_nor_revocation(db):
    habilitation = organisation_habilitation(db)
    end_habilitation(db, habilitation, revoked=True)
    alice = actions_of(db, requester(), habilitation)
    adam = actions_of(db, administrator(), habilitation)
    assert not (alice.may_reopen or alice.may_issue or adam.may_revoke)


def test_an_expired_habilitation_may_be_reopened_but_issues_no_key(db):
    habilitation = organisation_habilitation(db)
    end_habilitation(db, habilitation, revoked=False)
    alice = actions_of(db, requester(), habilitation)
    assert alice.may_reopen and not alice.may_issue and alice.may_manage_keys
