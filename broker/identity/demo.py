"""The demo identity provider: seeded test citizens, argon2id-hashed passwords."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeAlias

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Row, bindparam, select

from broker.core.db import table_of
from broker.identity.base import IdentityPivot, VerifiedIdentity
from broker.store.models import DemoIdentity

# OWASP's argon2id baseline (19 MiB, 2 passes). Verification reads the cost from each stored
# hash, so accounts seeded with the "benchmark" profile (see demo.seed) verify faster.
# A row of demo_identity: login, password hash, the identity, the acr.
DemoAccount: TypeAlias = Row[Any]
FIND_ACCOUNT = select(table_of(DemoIdentity)).where(
    table_of(DemoIdentity).c.login == bindparam("login")
)
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
HASH_PROFILES = {
    "standard": HASHER,
    "benchmark": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}
# At most this many hashes at once, whatever the load: each takes 19 MiB and a core for about
# 30 ms; more at once would only share the cores and the memory. Others wait their turn in the
# queue, off the event loop.
HASHES_AT_ONCE = os.cpu_count() or 2
HASHING = ThreadPoolExecutor(max_workers=HASHES_AT_ONCE, thread_name_prefix="argon2")
# Verified when the login is unknown, so that response time does not reveal which logins exist.
_DECOY_HASH = HASHER.hash("decoy password")


class DemoIdentityProvider:
    key = "demo"
    label = "Fournisseur d'identité de démonstration"

    def find(self, conn: Connection, login: str) -> DemoAccount | None:
        if not login or len(login) > 100:
            return None
        return conn.execute(FIND_ACCOUNT, {"login": login.strip()}).first()

    async def verify(self, account: DemoAccount | None, password: str) -> VerifiedIdentity | None:
        """Check the password off the event loop: argon2 releases the GIL, so only the hashing
        leaves the loop, not the surrounding Python work. No database connection is held."""
        stored = account.password_hash if account else _DECOY_HASH
        loop = asyncio.get_running_loop()
        matches = await loop.run_in_executor(HASHING, password_matches, stored, password)
        if not matches or account is None:
            return None
        return VerifiedIdentity(
            idp=self.key,
            subject=account.login,
            pivot=IdentityPivot(
                given_name=account.given_name,
                family_name=account.family_name,
                birthdate=account.birthdate,
                gender=account.gender,
                birthplace=account.birthplace,
                birthcountry=account.birthcountry,
                preferred_username=account.preferred_username,
                email=account.email,
            ),
            acr=account.acr,
            amr=("pwd",),
        )


def password_matches(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
