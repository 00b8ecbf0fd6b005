"""The demo identity providers' accounts: the test citizens, their passwords hashed with argon2id
when the process starts (a real provider keeps its own accounts; the broker never sees them)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from broker.demo.citizens import DemoCitizen
from broker.demo.idp.hashing import (
    DECOY_HASH,
    HASH_PROFILES,
    HASH_QUEUE,
    HASHING,
    password_matches,
)


class HashingBusy(Exception):
    """Too many logins are already waiting for their password to be checked."""


class DemoAccounts:
    def __init__(self, citizens: Iterable[DemoCitizen], profile: str = "standard") -> None:
        hasher = HASH_PROFILES[profile]
        self.citizens = {citizen.login: citizen for citizen in citizens}
        self.hashes = {login: hasher.hash(c.password) for login, c in self.citizens.items()}
        self.waiting = 0  # logins queued or being hashed (one event loop: no lock needed)

    def find(self, login: str) -> DemoCitizen | None:
        return self.citizens.get(login.strip()) if 0 < len(login) <= 100 else None

    async def verify(self, login: str, password: str) -> DemoCitizen | None:
        """The citizen if ``password`` is theirs; as long when the login is unknown. The hash
        runs off the event loop, a bounded number at once."""
        if self.waiting >= HASH_QUEUE:
            raise HashingBusy
        citizen = self.find(login)
        stored = self.hashes[citizen.login] if citizen else DECOY_HASH
        loop = asyncio.get_running_loop()
        self.waiting += 1
        try:
            matches = await loop.run_in_executor(HASHING, password_matches, stored, password)
        finally:
            self.waiting -= 1
        return citizen if matches and citizen else None
