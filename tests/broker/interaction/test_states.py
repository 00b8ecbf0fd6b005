"""The interaction state machine, on every flow-state backend: each step once, never skipped, in
one browser, in time."""

from __future__ import annotations

import time

import pytest

from broker.identity.base import IdentityPivot, VerifiedIdentity
from broker.interaction.states import FlowError, Interactions, State
from tests.helpers import register_client

BROWSER = "browser-a"
PARAMS = {"scope": "openid", "redirect_uri": "http://127.0.0.1:9/cb"}
IDENTITY = VerifiedIdentity(
    idp="demo",
    subject="test",
    pivot=IdentityPivot("Angela", "DUBOIS", "1962-08-24", "female", "75107", "99100"),
    acr="eidas2",
    amr=("pwd",),
)


@pytest.fixture
def machine(state, flow_state):
    """A fresh interaction at its login step, and a way to reach the state machine, on each
    flow-state backend (memory, database, Redis)."""
    client = register_client(state)
    now = int(time.time())

    def interactions(conn, ttl: int = 900) -> Interactions:
        return Interactions(flow_state.on(conn), b"s" * 32, ttl)

    with state.db.begin() as conn:
        interaction_id = interactions(conn).start(
            client.client_id, PARAMS, BROWSER, State.LOGIN, None, now
        )
        auth = state.flow.sessions.authentication(conn, IDENTITY, now)
    return state, interactions, interaction_id, auth


def reason(action) -> str:
    with pytest.raises(FlowError) as raised:
        action()
    return raised.value.reason


def test_each_step_happens_once(machine):
    state, interactions, interaction_id, auth = machine
    with state.db.begin() as conn:
        view = interactions(conn).open(interaction_id, BROWSER, State.LOGIN, int(time.time()))
        interactions(conn).move(view, State.CONSENT, auth)
        # The same form posted again: the state has moved on (compare-and-set).
        assert reason(lambda: interactions(conn).move(view, State.CONSENT, auth)) == "already_used"
        moved = interactions(conn).open(interaction_id, BROWSER, State.CONSENT, int(time.time()))
        assert moved.authentication == auth
        interactions(conn).move(moved, State.DONE)
        assert (
            reason(
                lambda: interactions(conn).open(
                    interaction_id, BROWSER, State.CONSENT, int(time.time())
                )
            )
            == "already_used"
        )


def test_attack_skip_the_login_step(machine):
    state, interactions, interaction_id, _auth = machine
    with state.db.connect() as conn:
        assert (
            reason(
                lambda: interactions(conn).open(
                    interaction_id, BROWSER, State.CONSENT, int(time.time())
                )
            )
            == "wrong_step"
        )


@pytest.mark.parametrize("to", [State.REFUSED, State.LOGIN])
def test_only_the_allowed_moves(machine, to):
    state, interactions, interaction_id, _auth = machine
    with state.db.begin() as conn:
        view = interactions(conn).open(interaction_id, BROWSER, State.LOGIN, int(time.time()))
        assert reason(lambda: interactions(conn).move(view, to)) == "wrong_step"


def test_attack_another_browser(machine):
    state, interactions, interaction_id, _auth = machine
    with state.db.connect() as conn:
        for browser in ("browser-b", None, ""):
            assert (
                reason(
                    lambda b=browser: interactions(conn).open(
                        interaction_id, b, State.LOGIN, int(time.time())
                    )
                )
                == "wrong_browser"
            )


def test_an_interaction_expires(machine):
    state, interactions, interaction_id, _auth = machine
    with state.db.connect() as conn:
        later = int(time.time()) + 901
        assert (
            reason(lambda: interactions(conn).open(interaction_id, BROWSER, State.LOGIN, later))
            == "expired"
        )


def test_unknown_interactions(machine):
    state, interactions, _, _ = machine
    with state.db.connect() as conn:
        for interaction_id in ("nope", "", "x" * 500):
            assert (
                reason(
                    lambda i=interaction_id: interactions(conn).open(
                        i, BROWSER, State.LOGIN, int(time.time())
                    )
                )
                == "unknown"
            )


def test_attack_step_token_of_another_browser_or_step(machine):
    state, interactions, interaction_id, auth = machine
    with state.db.begin() as conn:
        machine_ = interactions(conn)
        view = machine_.open(interaction_id, BROWSER, State.LOGIN, int(time.time()))
        token = machine_.step_token(view, BROWSER)
        machine_.check_step_token(view, BROWSER, token)
        for browser, forged in (("browser-b", token), (BROWSER, None), (BROWSER, token[:-1])):
            assert (
                reason(lambda b=browser, f=forged: machine_.check_step_token(view, b, f))
                == "bad_step_token"
            )
        machine_.move(view, State.CONSENT, auth)
        at_consent = machine_.open(interaction_id, BROWSER, State.CONSENT, int(time.time()))
        # The login form's token is worth nothing at the consent step.
        assert reason(lambda: machine_.check_step_token(at_consent, BROWSER, token)) == (
            "bad_step_token"
        )
