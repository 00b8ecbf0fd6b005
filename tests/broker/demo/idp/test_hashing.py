"""The demo identity providers' password checks: the shipped argon2id cost, off the event
loop, a bounded number at once."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace

from broker.demo.citizens import CITIZENS
from broker.demo.idp import accounts as demo
from broker.demo.idp.accounts import DemoAccounts
from broker.demo.idp.hashing import HASHER, HASHES_AT_ONCE

PASSWORD = "correct horse"
STORED = HASHER.hash(PASSWORD)
CAMILLE = replace(CITIZENS[0], login="camille", password=PASSWORD)


def test_the_shipped_cost_is_owasp_baseline():
    assert (HASHER.time_cost, HASHER.memory_cost, HASHER.parallelism) == (2, 19456, 1)


def test_hashes_never_block_the_event_loop_and_run_a_bounded_number_at_once():
    """Many logins at once: the loop keeps ticking, and no more than HASHES_AT_ONCE hashes
    run together (the others wait their turn)."""
    running = 0
    most = 0
    lock = threading.Lock()
    original = demo.password_matches

    def counted(stored: str, password: str) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            return original(stored, password)
        finally:
            with lock:
                running -= 1

    async def scenario() -> float:
        idp = DemoAccounts([CAMILLE])
        worst_gap = 0.0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal worst_gap
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.001)
                now = time.perf_counter()
                worst_gap = max(worst_gap, now - last)
                last = now

        tick = asyncio.create_task(ticker())
        logins = [idp.verify("camille", PASSWORD) for _ in range(HASHES_AT_ONCE * 4)]
        logins.append(idp.verify("camille", "wrong"))
        results = await asyncio.gather(*logins)
        done.set()
        await tick
        assert all(r is not None for r in results[:-1]) and results[-1] is None
        return worst_gap

    demo.password_matches = counted
    try:
        worst_gap = asyncio.run(scenario())
    finally:
        demo.password_matches = original
    assert 1 <= most <= HASHES_AT_ONCE
    # One hash takes tens of milliseconds of CPU: had one run on the loop, a tick would wait it.
    assert worst_gap < 0.75 * min_hash_seconds()


def min_hash_seconds() -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        demo.password_matches(STORED, PASSWORD)
        times.append(time.perf_counter() - start)
    return min(times)
