"""Password hashing for the demo identity providers' accounts: argon2id, off the event loop,
a bounded number at once."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's argon2id baseline (19 MiB, 2 passes). Verification reads the cost from each stored
# hash, so accounts hashed with the "benchmark" profile verify faster.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
HASH_PROFILES = {
    "standard": HASHER,
    "benchmark": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}
# At most this many hashes at once, whatever the load: each takes 19 MiB and a core for about
# 30 ms; more at once would only share the cores and the memory. One core is left to the event
# loop, so that discovery, token and userinfo requests keep their pace under a flood of logins.
# Others wait their turn in the queue, off the event loop, up to HASH_QUEUE of them.
HASHES_AT_ONCE = max(1, (os.cpu_count() or 2) - 1)
# Logins waiting for a hash beyond this are told to come back (503): past it, a login would
# wait seconds behind the flood in front of it, and a queue that only grows would hold every
# connection open. A waiting login costs no hash memory, only its request.
HASH_QUEUE = 64
HASHING = ThreadPoolExecutor(max_workers=HASHES_AT_ONCE, thread_name_prefix="argon2")
# Verified when the login is unknown, so that response time does not reveal which logins exist.
DECOY_HASH = HASHER.hash("decoy password")


def password_matches(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
