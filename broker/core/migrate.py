"""Running Alembic migrations from code (CLI, tests, start-up checks).

The servers serve only a database at this code's latest revision: a migration may change what
a column means (0012 turned the rate limits from per second to per minute), so code run before
its migration, or after a newer version's, would read the data wrong without failing."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from broker.core.db import normalise_url

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s_%%(rev)s")
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def check(url: str) -> None:
    """Raises if autogenerate, run through migrations/env.py, finds the models and the
    migrated database apart (a model changed without its migration, or a table env.py does
    not register)."""
    command.check(alembic_config(url))


def migration_scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config)


def head_revisions() -> tuple[str, ...]:
    """The latest revision(s) this code's migrations reach."""
    return tuple(sorted(migration_scripts().get_heads()))


def current_revisions(engine: Engine) -> tuple[str, ...]:
    """The revision(s) the database's ``alembic_version`` records (none: never migrated)."""
    with engine.connect() as connection:
        return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))


def schema_problem(engine: Engine) -> str | None:
    """Why a server of this code must not start on this database, or None when its schema is at
    this code's head revision."""
    heads, current = head_revisions(), current_revisions(engine)
    if current == heads:
        return None
    head, at = ", ".join(heads), ", ".join(current) or "none (never migrated)"
    known = {script.revision for script in migration_scripts().walk_revisions()}
    if all(revision in known for revision in current):
        return (
            f"the database schema is at revision {at}, and this version of the broker needs "
            f"revision {head} (the latest): run `broker db upgrade` before starting it"
        )
    return (
        f"the database schema is at revision {at}, which this version of the broker does not "
        f"know (its latest is {head}): a newer version migrated it. Run that version, or "
        f"downgrade with it first (`broker db downgrade --revision {head}`)"
    )
