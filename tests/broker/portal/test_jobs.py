"""The portal's periodic jobs: each run guarded (a failure is logged, the loop goes on), run
while the portal serves and stopped with it."""

from __future__ import annotations

import asyncio
import logging

from litestar.testing import TestClient
from sqlmodel import select

from broker.portal.app import build_portal_state, create_portal_app
from broker.portal.jobs import every, run_guarded
from broker.store.portal_models import RollupCursor, StatusCheck
from tests.broker.portal.conftest import PORTAL_URL


def test_a_failing_run_is_logged_and_the_loop_goes_on(caplog):
    runs: list[int] = []

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("provider down")

    async def main() -> None:
        task = asyncio.create_task(every(0.01, "flaky", flaky))
        while len(runs) < 3:
            await asyncio.sleep(0.01)
        task.cancel()

    with caplog.at_level(logging.ERROR, logger="broker.portal.jobs"):
        asyncio.run(main())
    assert len(runs) >= 3
    [record] = [r for r in caplog.records if r.getMessage() == "portal job failed"]
    assert record.job == "flaky" and record.exc_info


def test_a_guarded_run_says_whether_it_worked():
    async def fails() -> None:
        raise ValueError("no")

    async def works() -> None:
        return None

    assert asyncio.run(run_guarded("fails", fails)) is False
    assert asyncio.run(run_guarded("works", works)) is True


def test_the_jobs_run_while_the_portal_serves_and_stop_with_it(settings_factory):
    settings = settings_factory(
        portal_url=PORTAL_URL,
        portal_idp_issuer="https://agents.example",
        portal_idp_client_secret="secret",
        providers_url="http://127.0.0.1:9",  # nothing listens: the pings say "down"
        provider_connect_timeout=0.2,
    )
    state = build_portal_state(settings)
    app = create_portal_app(settings, state=state)  # run_jobs by default
    with TestClient(app, base_url=PORTAL_URL) as client:
        assert client.get("/health/live").status_code == 200
        for _ in range(200):
            with state.context.db.transaction() as session:
                rolled = session.exec(select(RollupCursor)).all()
                checked = session.exec(select(StatusCheck)).all()
            if rolled and checked:
                break
            client.get("/health/live")  # lets the portal's event loop run the jobs
            asyncio.run(asyncio.sleep(0.05))
        tasks = list(state.jobs.tasks)
        assert len(tasks) == 3 and not any(task.done() for task in tasks)
    assert rolled and checked  # the usage roll-up and the status pings ran
    assert state.jobs.tasks == [] and all(task.done() for task in tasks)
