"""``broker status``: the status of the data and identity providers (checked now, or as last
checked) and the maintenance notices shown on the portal's public status page."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click
from sqlmodel import Session

from broker.cli.common import database, load_settings, print_json
from broker.core.settings import Settings

HOUR = 3600


def check_now(settings: Settings) -> dict[str, Any]:
    """One round of pings (what the portal does every minute), then the board as recorded."""
    import httpx

    from broker.admin.status import check_all
    from broker.admin.status_report import report_json, status_report
    from broker.providers.transport import tls_context

    async def run(db) -> None:
        async with httpx.AsyncClient(
            follow_redirects=False, verify=tls_context(), trust_env=False
        ) as client:
            await check_all(db, client, settings, int(time.time()))

    with database(settings) as db:
        asyncio.run(run(db))
        with db.reader() as session:
            return report_json(status_report(session, int(time.time())))


def moment(value: str) -> int:
    """ISO 8601; without an offset, Paris time (as on the portal's form)."""
    from broker.web.i18n import TIMEZONE

    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date and time") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=TIMEZONE)
    return int(parsed.timestamp())


def notice_action(action: Callable[[Session], Any]) -> Any:
    """Runs ``action`` in one transaction; a refused notice is a one-line error."""
    from broker.admin.status_notices import NoticeError

    try:
        with database(load_settings()) as db, db.transaction() as session:
            return action(session)
    except NoticeError as exc:
        field = f" ({exc.field})" if exc.field else ""
        raise click.ClickException(f"{exc.message}{field}") from exc


@click.group()
def status() -> None:
    """Providers' status and maintenance notices (the portal's /status page)."""


@status.command("check")
def status_check() -> None:
    """Ping every data provider (through the data API) and identity provider now; record
    and print their states."""
    print_json(check_now(load_settings()))


@status.command("show")
def status_show() -> None:
    """The status as last recorded, as /status.json shows it."""
    from broker.admin.status_report import report_json, status_report

    with database(load_settings()) as db, db.reader() as session:
        print_json(report_json(status_report(session, int(time.time()))))


@status.group("notice")
def notice() -> None:
    """Maintenance notices: shown on /status from their start to their end."""


@notice.command("add")
@click.option("--message", required=True, help="Shown as is to the public (French first).")
@click.option(
    "--target",
    default="",
    help='"" (the whole platform), provider:<key> or idp:<id>.',
)
@click.option("--starts", default=None, help="ISO 8601 (Paris time without offset) [default: now].")
@click.option("--ends", default=None, help="ISO 8601 (Paris time without offset).")
@click.option("--hours", default=2.0, show_default=True, help="Duration when --ends is absent.")
def notice_add(
    message: str, target: str, starts: str | None, ends: str | None, hours: float
) -> None:
    """Announce a maintenance on /status, from --starts to --ends (or for --hours)."""
    from broker.admin.audit import cli_actor
    from broker.admin.status_notices import add_notice, describe

    starts_at = moment(starts) if starts else int(time.time())
    ends_at = moment(ends) if ends else starts_at + int(hours * HOUR)
    print_json(
        notice_action(
            lambda session: describe(
                add_notice(
                    session,
                    target=target,
                    message=message,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    actor=cli_actor(),
                )
            )
        )
    )


@notice.command("end")
@click.argument("notice_id", type=int)
def notice_end(notice_id: int) -> None:
    """End a notice now (one to come is withdrawn)."""
    from broker.admin.audit import cli_actor
    from broker.admin.status_notices import describe, end_notice

    print_json(
        notice_action(lambda session: describe(end_notice(session, notice_id, actor=cli_actor())))
    )


@notice.command("list")
def notice_list() -> None:
    """Notices to come, current, and ended in the last 30 days."""
    from broker.admin.status_notices import describe, recent_notices

    with database(load_settings()) as db, db.reader() as session:
        print_json([describe(n) for n in recent_notices(session, int(time.time()))])
