"""The interaction state machine: the authorization request parked between /authorize, the
identity provider's login and the consent screen.

An interaction is a parked authorization request and a small state machine::

    login ──(citizen authenticated)──▶ consent ──(approved)──▶ done
      │                                   └──────(refused)───▶ refused
      └──(authentication failed for good)──▶ failed

Each move is a compare-and-set on the current state, so a step can be taken once only (a
replayed form finds the state already moved) and never skipped (a consent form posted while
the interaction still waits for login finds the wrong state). Each form carries a step token,
an HMAC over interaction, state and browser, so another site or another browser cannot post it.
Interactions expire after ``ttl`` seconds."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import StrEnum

from broker.core.security import digest, keyed_digest, random_token
from broker.oidc.models import Authentication
from broker.store.flowstate import FlowStateView, StoredInteraction


class State(StrEnum):
    LOGIN = "login"
    CONSENT = "consent"
    DONE = "done"
    REFUSED = "refused"
    FAILED = "failed"


MAX_INTERACTION_ID = 64  # ours are 32 characters: anything longer is not worth a lookup
MOVES = {
    State.LOGIN: {State.CONSENT, State.DONE, State.FAILED},
    State.CONSENT: {State.DONE, State.REFUSED},
}


@dataclass(frozen=True)
class InteractionView:
    id: str
    state: State
    client_id: str
    params: dict[str, str]
    expires_at: int
    authentication: Authentication | None


class FlowError(Exception):
    """A step the citizen cannot take; ``reason`` is stable: it picks the page shown
    (``broker.web.pages.FLOW_ERRORS``) and goes to the logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Interactions:
    def __init__(self, flow_state: FlowStateView, step_key: bytes, ttl: int) -> None:
        self._repo = flow_state
        self._step_key = step_key
        self._ttl = ttl

    def start(
        self,
        client_id: str,
        params: dict[str, str],
        browser_id: str,
        state: State,
        authentication: Authentication | None,
        now: int,
    ) -> str:
        interaction_id = random_token(24)
        self._repo.create_interaction(
            StoredInteraction(
                id=interaction_id,
                state=state.value,
                browser_digest=digest(browser_id),
                client_id=client_id,
                params=params,
                authentication=authentication,
                created_at=now,
                expires_at=now + self._ttl,
            )
        )
        return interaction_id

    def open(
        self, interaction_id: str, browser_id: str | None, expected: State, now: int
    ) -> InteractionView:
        known_shape = 0 < len(interaction_id) <= MAX_INTERACTION_ID
        found = self._repo.get_interaction(interaction_id) if known_shape else None
        if found is None:
            raise FlowError("unknown")
        view = InteractionView(
            id=found.id,
            state=State(found.state),
            client_id=found.client_id,
            params=found.params,
            expires_at=found.expires_at,
            authentication=found.authentication,
        )
        if not browser_id or not hmac.compare_digest(digest(browser_id), found.browser_digest):
            raise FlowError("wrong_browser")
        if view.expires_at <= now:
            raise FlowError("expired")
        if view.state != expected:
            raise FlowError(
                "already_used"
                if view.state in (State.DONE, State.REFUSED, State.FAILED)
                else "wrong_step"
            )
        return view

    def step_token(self, view: InteractionView, browser_id: str) -> str:
        return keyed_digest(self._step_key, f"{view.id}|{view.state.value}|{browser_id}")

    def check_step_token(self, view: InteractionView, browser_id: str, token: str | None) -> None:
        if not token or not hmac.compare_digest(self.step_token(view, browser_id), token):
            raise FlowError("bad_step_token")

    def move(
        self, view: InteractionView, to: State, authentication: Authentication | None = None
    ) -> None:
        if to not in MOVES.get(view.state, set()):
            raise FlowError("wrong_step")
        if not self._repo.move_interaction(view.id, view.state.value, to.value, authentication):
            raise FlowError("already_used")
