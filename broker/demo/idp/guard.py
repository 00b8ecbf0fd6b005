"""Password guessing at the demo identity providers, held off: failed logins counted per account,
per browser and per source address (``broker.web.throttle``), and a bounded queue in front of
the password hashes.

Counting per account would let anyone slow a victim down by failing on purpose. A browser that
has already signed in to an account carries a device cookie for it (OWASP's "device cookies"),
and the account's count does not weigh on it: the victim's own browser is never slowed down by
someone else's failures, while a guesser, who has no such cookie, is."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from broker.web.throttle import Counter, Limit, Throttle, counter

SCOPE = "demo-idp-login"
DEVICE_COOKIE = "demo_idp_device"
DEVICE_COOKIE_MAX_AGE = 180 * 24 * 3600


ACCOUNT = Limit(free=5, window=900, max_wait=60)
BROWSER = Limit(free=10, window=900, max_wait=300)
ADDRESS = Limit(free=50, window=900, max_wait=300)


@dataclass(frozen=True)
class LoginLimits:
    account: Limit = ACCOUNT
    browser: Limit = BROWSER
    address: Limit = ADDRESS


class LoginGuard:
    def __init__(self, throttle: Throttle, device_key: bytes, limits: LoginLimits) -> None:
        self.throttle = throttle
        self.device_key = device_key
        self.limits = limits

    def counters(
        self, login: str, browser: str, address: str, device_cookie: str | None
    ) -> list[Counter]:
        limits = self.limits
        found = [counter(SCOPE, "address", address, limits.address)]
        if browser:
            found.append(counter(SCOPE, "browser", browser, limits.browser))
        if login and not self.knows_device(device_cookie, login):
            found.append(counter(SCOPE, "account", normalised(login), limits.account))
        return found

    async def retry_after(self, counters: list[Counter]) -> int:
        return await self.throttle.retry_after(counters)

    async def failed(self, counters: list[Counter]) -> None:
        await self.throttle.failed(counters)

    async def succeeded(self, login: str, browser: str) -> str:
        """Forgets this browser's failures and the account's; returns the device cookie that
        will exempt this browser from the account's count."""
        limits = self.limits
        await self.throttle.forget(
            [
                counter(SCOPE, "browser", browser, limits.browser),
                counter(SCOPE, "account", normalised(login), limits.account),
            ]
        )
        return self.device_cookie(login)

    def device_cookie(self, login: str) -> str:
        account = hashlib.sha256(normalised(login).encode()).hexdigest()[:32]
        signature = hmac.new(self.device_key, account.encode(), hashlib.sha256).hexdigest()
        return f"{account}.{signature}"

    def knows_device(self, cookie: str | None, login: str) -> bool:
        return bool(cookie) and hmac.compare_digest(cookie or "", self.device_cookie(login))


def normalised(login: str) -> str:
    return login.strip().casefold()
