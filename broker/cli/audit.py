"""``broker audit``: read and check the audit trail of the changes made through the portal and
the CLI."""

from __future__ import annotations

import click

from broker.cli.common import database, load_settings, print_json


@click.group()
def audit() -> None:
    """The audit trail: who changed what, when; chained so that tampering shows."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the whole chain; exit code 1 and the first broken entry when it was tampered
    with. Keep the printed head_digest elsewhere: a later check can then show the trail was
    not cut short."""
    from broker.admin.audit import verify

    with database(load_settings()) as db, db.reader() as session:
        result = verify(session)
    print_json(
        {
            "intact": result.intact,
            "checked": result.checked,
            "broken_seq": result.broken_seq,
            "reason": result.reason,
            "head_seq": result.head_seq,
            "head_digest": result.head_digest,
        }
    )
    if not result.intact:
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
