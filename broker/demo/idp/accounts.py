"""The demo identity providers' accounts: the test citizens (or, for the agents' provider, the
test agents), their passwords hashed with argon2id when the process starts (a real provider
keeps its own accounts; the broker never sees them)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from broker.demo.idp.hashing import (
    DECOY_HASH,
    HASH_PROFILES,
    HASH_QUEUE,
    HASHING,
    password_matches,
)
from broker.demo.idp.sites import DemoAccount


class HashingBusy(Exception):
    """Too many logins are already waiting for their password to be checked."""


class DemoAccounts:
    def __init__(self, accounts: Iterable[DemoAccount], profile: str = "standard") -> None:
        hasher = HASH_PROFILES[profile]
        self.accounts = {account.login: account for account in accounts}
        self.hashes = {login: hasher.hash(a.password) for login, a in self.accounts.items()}
        self.waiting = 0  # logins queued or being hashed (one event loop: no lock needed)

    def find(self, login: str) -> DemoAccount | None:
        return self.accounts.get(login.strip()) if 0 < len(login) <= 100 else None

    async def verify(self, login: str, password: str) -> DemoAccount | None:
        """The account if ``password`` is theirs; as long when the login is unknown. The hash
        runs off the event loop, a bounded number at once."""
        if self.waiting >= HASH_QUEUE:
            raise HashingBusy
        account = self.find(login)
        stored = self.hashes[account.login] if account else DECOY_HASH
        loop = asyncio.get_running_loop()
        self.waiting += 1
        try:
            matches = await loop.run_in_executor(HASHING, password_matches, stored, password)
        finally:
            self.waiting -= 1
        return account if matches and account else None
