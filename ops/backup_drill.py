"""Backup and restore drill: dump the broker's PostgreSQL database, restore the dump into a new
database, and check that the broker can work from the copy.

    .venv/bin/python ops/backup_drill.py [--keep] [--upgrade] [--dump-file PATH] [DATABASE_URL]

DATABASE_URL defaults to BROKER_DATABASE_URL; BROKER_KEY_ENCRYPTION_SECRET must be the
production secret (the other BROKER_ settings are read as the broker reads them). Steps:

1. count the rows of every table, in the very snapshot ``pg_dump`` then dumps (the source may
   keep serving meanwhile);
2. ``pg_dump --format=custom``;
3. create a new database on the same server (the source's name + ``_drill_`` + time);
4. ``pg_restore --no-owner`` into it;
5. the restored schema revision is the source's and the code's head (``--upgrade`` runs the
   migrations first when the code is newer, as after a real restore);
6. the broker opens every active signing key and every sealed identity-provider client secret
   with BROKER_KEY_ENCRYPTION_SECRET;
7. every table holds as many rows as in the source;
8. the restored database is dropped (``--keep`` keeps it).

Prints each step, then ``OK``; exits 1 at the first check that fails, 2 on a usage error."""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

from broker.cli.common import database, keystore
from broker.core import migrate
from broker.core.db import normalise_url
from broker.core.settings import Settings
from broker.keys.keystore import SUPPORTED_ALGS
from broker.keys.vault import KeyVault, VaultError
from broker.store.identity_providers import open_secret

Counts = dict[str, int]
SEALED_SECRETS = text(
    "SELECT id, client_secret_sealed FROM identity_provider WHERE client_secret_sealed <> ''"
)


class DrillFailed(Exception):
    """A step that did not give what a usable backup must give."""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    source = make_url(normalise_url(args.database_url))
    if not source.drivername.startswith("postgresql") or not source.database:
        print("backup drill: DATABASE_URL must name a PostgreSQL database", file=sys.stderr)
        return 2
    if not os.environ.get("BROKER_KEY_ENCRYPTION_SECRET"):
        # Without it, development settings would generate a new secret under var/.
        print("backup drill: BROKER_KEY_ENCRYPTION_SECRET is not set", file=sys.stderr)
        return 2
    try:
        drill(source, args)
    except DrillFailed as exc:
        print(f"FAILED: {exc}")
        return 1
    print("OK: the backup restores into a database the broker can use")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url", nargs="?", default=os.environ.get("BROKER_DATABASE_URL"))
    parser.add_argument("--keep", action="store_true", help="keep the restored database")
    parser.add_argument(
        "--upgrade", action="store_true", help="migrate the restored database when behind head"
    )
    parser.add_argument("--dump-file", type=Path, help="keep the dump there (default: deleted)")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give DATABASE_URL or set BROKER_DATABASE_URL")
    return args


def drill(source: URL, args: argparse.Namespace) -> None:
    restored = source.set(database=drill_database_name(source.database or "broker"))
    workdir = Path(tempfile.mkdtemp(prefix="backup-drill-"))
    dump_file = args.dump_file or workdir / "broker.dump"
    try:
        step(1, f"source {shown(source)}")
        with source_snapshot(source) as (conn, snapshot):
            source_counts = row_counts(conn)
            source_revision = MigrationContext.configure(conn).get_current_revision()
            step(
                2,
                f"pg_dump --format=custom, {len(source_counts)} tables,"
                f" {sum(source_counts.values())} rows",
            )
            run_tool(source, "pg_dump", "--format=custom", f"--snapshot={snapshot}",
                     f"--file={dump_file}")  # fmt: skip
        print(f"      {dump_file.stat().st_size} bytes")
        step(3, f"create database {restored.database}")
        create_database(source, restored)
        try:
            step(4, "pg_restore --no-owner --exit-on-error")
            run_tool(restored, "pg_restore", "--no-owner", "--exit-on-error", str(dump_file))
            upgraded = check_revision(restored, source_revision, upgrade=args.upgrade)
            check_secrets(restored)
            check_row_counts(restored, source_counts, upgraded=upgraded)
        finally:
            if args.keep:
                step(8, f"kept {shown(restored)}")
            else:
                step(8, f"drop database {restored.database}")
                drop_database(source, restored)
    finally:
        shutil.rmtree(workdir)


def check_revision(restored: URL, source_revision: str | None, *, upgrade: bool) -> bool:
    """True if the restored database had to be upgraded to head."""
    head = ScriptDirectory.from_config(migrate.alembic_config(full(restored))).get_current_head()
    revision = current_revision(restored)
    step(5, f"schema revision {revision} (source {source_revision}, code head {head})")
    if revision != source_revision:
        raise DrillFailed(f"restored revision {revision} is not the source's {source_revision}")
    if revision == head:
        return False
    if not upgrade:
        raise DrillFailed(f"revision {revision} is not head {head} (--upgrade migrates it)")
    print(f"      broker db upgrade: {revision} -> {head}")
    migrate.upgrade(full(restored))
    if current_revision(restored) != head:
        raise DrillFailed(f"broker db upgrade left revision {current_revision(restored)}")
    return True


def check_secrets(restored: URL) -> None:
    """What ``broker run`` does before serving: open the active signing keys (one per
    algorithm); and what each sign-in does: open an identity provider's client secret."""
    settings = Settings(database_url=full(restored))
    try:
        with database(settings) as db:
            keys = keystore(settings, db)
            kids = [keys.signing_key(alg).kid for alg in SUPPORTED_ALGS]
            with db.engine.connect() as conn:
                sealed = conn.execute(SEALED_SECRETS).all()
        vault = KeyVault(settings.secret)
        for provider_id, secret in sealed:
            open_secret(vault, provider_id, secret)
    # RuntimeError: no active key for an algorithm; ValueError: a secret that is not base64.
    except (VaultError, RuntimeError, ValueError) as exc:
        raise DrillFailed(str(exc)) from exc
    step(6, f"opened signing keys {', '.join(map(str, kids))}")
    print(f"      and {len(sealed)} sealed identity-provider client secrets")


def check_row_counts(restored: URL, source_counts: Counts, *, upgraded: bool) -> None:
    """Equal in every table; after an upgrade, in every table both schemas have."""
    engine = create_engine(restored)
    try:
        with engine.connect() as conn:
            restored_counts = row_counts(conn)
    finally:
        engine.dispose()
    step(7, "row counts")
    print(f"      {'table':<24} {'source':>8} {'restored':>8}")
    tables = source_counts.keys() | restored_counts.keys()
    for table in sorted(tables):
        print(
            f"      {table:<24} {source_counts.get(table)!s:>8} {restored_counts.get(table)!s:>8}"
        )
    compared = source_counts.keys() & restored_counts.keys() if upgraded else tables
    differing = [t for t in sorted(compared) if source_counts.get(t) != restored_counts.get(t)]
    if differing:
        raise DrillFailed(f"row counts differ in {', '.join(differing)}")


@contextmanager
def source_snapshot(source: URL) -> Iterator[tuple[Connection, str]]:
    """A repeatable-read transaction on the source whose snapshot pg_dump shares: the counts
    and the dump see the same rows even while the broker keeps writing."""
    engine = create_engine(source, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as conn:
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            yield conn, snapshot
            conn.rollback()
    finally:
        engine.dispose()


def row_counts(conn: Connection) -> Counts:
    preparer = conn.dialect.identifier_preparer
    return {
        table: conn.execute(text(f"SELECT count(*) FROM {preparer.quote(table)}")).scalar_one()
        for table in inspect(conn).get_table_names()
    }


def current_revision(url: URL) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def create_database(server: URL, new: URL) -> None:
    admin_sql(server, f'CREATE DATABASE "{new.database}"')


def drop_database(server: URL, old: URL) -> None:
    admin_sql(server, f'DROP DATABASE IF EXISTS "{old.database}" WITH (FORCE)')


def admin_sql(server: URL, sql: str) -> None:
    """CREATE and DROP DATABASE cannot run in a transaction, nor from the database they drop:
    run them from the source's connection settings, in autocommit."""
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def drill_database_name(source_name: str) -> str:
    suffix = f"_drill_{time.strftime('%Y%m%d%H%M%S')}_{secrets.token_hex(2)}"
    return source_name[: 63 - len(suffix)] + suffix  # PostgreSQL names: 63 bytes at most


def run_tool(url: URL, tool: str, *arguments: str) -> None:
    """Runs pg_dump or pg_restore on ``url``'s database; its password goes through the
    environment, where other users' ``ps`` cannot read it."""
    if shutil.which(tool) is None:
        raise DrillFailed(f"{tool} not found on PATH")
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    dbname = url.set(drivername="postgresql", password=None).render_as_string()
    result = subprocess.run(
        [tool, *arguments, f"--dbname={dbname}"], env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise DrillFailed(f"{tool} exited with {result.returncode}: {result.stderr.strip()}")


def full(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def shown(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=True)


def step(number: int, what: str) -> None:
    print(f"[{number}/8] {what}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
