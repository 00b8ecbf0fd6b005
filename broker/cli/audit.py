"""``broker audit``: read and check the audit trail of the changes made through the portal and
the CLI."""

from __future__ import annotations

import re

import click

from broker.cli.common import database, load_settings, print_json


@click.group()
def audit() -> None:
    """The audit trail: who changed what, when; chained so that tampering shows."""


def digest_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise click.BadParameter("a head_digest printed by an earlier verify (64 hex digits)")
    return value


@audit.command("verify")
@click.option(
    "--head",
    default=None,
    callback=digest_option,
    help="A head_digest noted earlier: fail unless it is still in the chain.",
)
def audit_verify(head: str | None) -> None:
    """Check the whole chain; exit code 1 and the first broken entry when it was tampered
    with. Keep the printed head_digest elsewhere: a later ``verify --head DIGEST`` fails when
    the trail was cut short or its tail rewritten since (the digest is no longer in it)."""
    from broker.admin.audit import verify

    with database(load_settings()) as db, db.reader() as session:
        result = verify(session, head=head)
    print_json(
        {
            "intact": result.intact,
            "checked": result.checked,
            "broken_seq": result.broken_seq,
            "reason": result.reason,
            "head_seq": result.head_seq,
            "head_digest": result.head_digest,
            **({"head_found": result.head_found} if head is not None else {}),
        }
    )
    if not result.trusted:
        click.echo(f"Error: audit trail {result.describe()}", err=True)
        raise SystemExit(1)


@audit.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--before-seq", type=click.IntRange(min=1), default=None, help="Older entries.")
@click.option("--action", default=None, help="An action (client.update) or a family (client).")
@click.option("--target", default=None, help="A target id, or type:id (client:abc).")
def audit_list(limit: int, before_seq: int | None, action: str | None, target: str | None) -> None:
    """Entries, newest first."""
    from broker.admin.audit import entries

    with database(load_settings()) as db, db.reader() as session:
        found = entries(session, limit=limit, before_seq=before_seq, action=action, target=target)
        print_json([entry.model_dump() for entry in found])
