"""The sign-in's state on the way out and back, bound to the browser that started it.

The ``state``, ``nonce`` and PKCE verifier travel in a short-lived cookie signed (HMAC) by the
portal: only the browser that started the sign-in holds it, and it cannot change it. A state
once answered is also remembered in this process (:class:`UsedStates`): defence in depth only,
as another process of the portal does not see it; what makes an answer single-use is the
provider, for which the code is single-use."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

SIGN_IN_COOKIE = "portal_signin"
SIGN_IN_TTL = 600  # seconds to come back from the identity provider
MAX_STATE = 200
REMEMBERED_STATES = 10_000  # used states kept in this process (the code is single-use anyway)
MAX_LOCAL_PATH = 500


class SignInFailed(Exception):
    """Why a sign-in did not happen: ``reason`` names the page shown."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class PendingSignIn:
    """What the sign-in cookie carries between the way out and the way back."""

    state: str
    nonce: str
    verifier: str
    back_to: str
    expires_at: int


class SignedCookie:
    """A small JSON value with an HMAC, so that the browser can carry it but not change it."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def mac(self, payload: bytes) -> str:
        tag = hmac.new(self.key, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(tag).rstrip(b"=").decode()

    def dump(self, value: dict[str, Any]) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")
        return f"{payload.decode()}.{self.mac(payload)}"

    def load(self, cookie: str | None) -> dict[str, Any] | None:
        if not cookie or len(cookie) > 4000 or "." not in cookie:
            return None
        payload, _, tag = cookie.partition(".")
        if not hmac.compare_digest(tag, self.mac(payload.encode())):
            return None
        try:
            value = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


class UsedStates:
    """The states already answered in this process: a replayed callback is refused even
    before its code (single-use at the provider) is tried."""

    def __init__(self, size: int = REMEMBERED_STATES) -> None:
        self.size = size
        self.seen: OrderedDict[str, int] = OrderedDict()

    def use(self, state: str, now: int) -> bool:
        """False if ``state`` was used before."""
        for key in [k for k, until in self.seen.items() if until <= now][:100]:
            del self.seen[key]
        key = hashlib.sha256(state.encode()).hexdigest()
        if key in self.seen:
            return False
        self.seen[key] = now + SIGN_IN_TTL
        while len(self.seen) > self.size:
            self.seen.popitem(last=False)
        return True


def local_path(back_to: str | None) -> str:
    """Where to go after signing in: a path of the portal, nothing else (no open redirect).
    The one rule for every such address: the guards' way to the sign-in page uses it too."""
    if (
        not back_to
        or not back_to.startswith("/")
        or back_to.startswith("//")
        or "\\" in back_to
        or len(back_to) > MAX_LOCAL_PATH
        or any(ord(c) < 32 or ord(c) == 127 for c in back_to)
    ):
        return "/"
    return back_to
